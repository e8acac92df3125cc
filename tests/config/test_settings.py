"""Settings come from the environment; production refuses development secrets."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

CHECK = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE']); "
    "print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
)


def run_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "DEPOSIT_BANK_SECRETS",
            "BID_MASTER_KEY",
            "EVIDENCE_SIGNING_KEY",
            "AUDIT_RETENTION_YEARS",
        }
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", CHECK],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_embedded_default_is_sqlite_and_the_in_memory_layer():
    result = run_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
    ]


def test_urls_switch_to_postgres_and_redis():
    result = run_settings(DATABASE_URL="postgres://u@db:5432/x", REDIS_URL="redis://cache:6379/0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "channels_redis.core.RedisChannelLayer",
    ]


def test_production_refuses_to_start_with_development_secrets():
    result = run_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "DEPOSIT_BANK_SECRETS" in result.stderr


def test_production_starts_with_real_secrets():
    result = run_settings(
        DEBUG="0",
        SECRET_KEY="a-real-secret-from-the-vault-" + "x" * 30,
        DEPOSIT_BANK_SECRETS="ICBC:a-real-bank-secret",
        BID_MASTER_KEY="11" * 32,
        EVIDENCE_SIGNING_KEY="22" * 32,
    )
    assert result.returncode == 0, result.stderr


def test_records_are_kept_at_least_fifteen_years():
    assert settings.AUDIT_RETENTION_YEARS == 20  # the center's default
    result = run_settings(AUDIT_RETENTION_YEARS="14")
    assert result.returncode != 0 and "at least 15 years" in result.stderr
    assert run_settings(AUDIT_RETENTION_YEARS="15").returncode == 0


def test_sqlite_runs_wal_with_immediate_transactions():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]


def test_time_is_stored_in_utc_and_shown_in_shanghai():
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"
