"""Settings come from the environment; production refuses development secrets."""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from lib.pdfkeys import SigningMaterial, self_signed

CHECK = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE']); "
    "print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
)


def run_settings(code: str = CHECK, **env: str) -> subprocess.CompletedProcess:
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
            "ALLOWED_HOSTS",
            "SECURE_SSL",
            "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_HSTS_PRELOAD",
            "TRUSTED_PROXY_COUNT",
            "DEPOSIT_BANK_SIMULATOR",
            "PDF_SIGNING_KEY",
            "PDF_SIGNING_KEY_FILE",
            "PDF_SIGNING_CERTIFICATE",
            "PDF_SIGNING_CERTIFICATE_FILE",
        }
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@functools.cache
def pdf_signing_material() -> SigningMaterial:
    """A document-signing key and certificate of the center's own (not the committed development pair),
    valid from yesterday for a year."""
    now = dt.datetime.now(dt.UTC)
    return self_signed(
        "珠海市公共资源交易中心 文档签名",
        organization="珠海市公共资源交易中心",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=365),
    )


def real_secrets(**overrides: str) -> dict[str, str]:
    """Production's secrets as an operator generates them (random, of the right shape)."""
    pdf_signing = pdf_signing_material()
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEPOSIT_BANK_SECRETS": f"ICBC:{secrets.token_urlsafe(32)},CCB:{secrets.token_hex(16)}",
        "BID_MASTER_KEY": secrets.token_hex(32),
        "EVIDENCE_SIGNING_KEY": secrets.token_hex(32),
        "PDF_SIGNING_KEY": pdf_signing.key_pem().decode(),
        "PDF_SIGNING_CERTIFICATE": pdf_signing.chain_pem().decode(),
    } | overrides


def test_the_embedded_default_is_sqlite_and_the_in_memory_layer():
    result = run_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
    ]


def test_urls_switch_to_postgres_and_redis():
    result = run_settings(
        DEBUG="1", DATABASE_URL="postgres://u@db:5432/x", REDIS_URL="redis://cache:6379/0"
    )
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


def test_debug_is_off_unless_asked_for():
    """A bare environment is production: it refuses the development secrets, as DEBUG=0 does."""
    result = run_settings()
    assert result.returncode != 0
    assert "development defaults" in result.stderr
    assert run_settings(**real_secrets()).returncode == 0


def test_production_starts_with_real_secrets():
    result = run_settings(DEBUG="0", **real_secrets())
    assert result.returncode == 0, result.stderr


WEAK = [
    ("BID_MASTER_KEY", "00", "64 hexadecimal"),
    ("BID_MASTER_KEY", "11" * 32, "distinct"),
    ("BID_MASTER_KEY", "0123456789abcdef" * 4, "pattern"),
    ("BID_MASTER_KEY", "g" * 64, "64 hexadecimal"),
    ("EVIDENCE_SIGNING_KEY", "ab" * 32, "distinct"),
    ("SECRET_KEY", "short-but-random-Q7x9", "at least 50"),
    ("SECRET_KEY", "a-real-secret-from-the-vault-" + "x" * 30, "too often"),
    ("DEPOSIT_BANK_SECRETS", "ICBC:a-real-bank-secret", "at least 32"),
]


@pytest.mark.parametrize(("name", "value", "reason"), WEAK)
def test_production_refuses_weak_secrets_naming_the_variable_not_the_value(name, value, reason):
    result = run_settings(DEBUG="0", **real_secrets(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr and reason in result.stderr
    assert value not in result.stderr


def test_a_weak_secret_is_refused_when_read_from_a_file(tmp_path):
    key_file = tmp_path / "bid-master-key"
    key_file.write_text("00" * 32 + "\n")
    environment = real_secrets()
    del environment["BID_MASTER_KEY"]
    result = run_settings(DEBUG="0", BID_MASTER_KEY_FILE=str(key_file), **environment)
    assert result.returncode != 0 and "BID_MASTER_KEY" in result.stderr


def test_production_refuses_any_host():
    result = run_settings(DEBUG="0", ALLOWED_HOSTS="*", **real_secrets())
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr
    assert run_settings(DEBUG="1", ALLOWED_HOSTS="*").returncode == 0


TRANSPORT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(getattr(s, 'SECURE_SSL_REDIRECT', False), s.SECURE_HSTS_SECONDS, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
)


def transport(**env: str) -> list[str]:
    result = run_settings(TRANSPORT, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split(None, 6)


def test_tls_turns_on_the_redirect_hsts_and_secure_cookies():
    assert transport(DEBUG="1") == ["False", "0", "False", "False", "False", "False", "None"]
    assert transport(DEBUG="0", SECURE_SSL="1", **real_secrets()) == [
        "True",
        str(365 * 24 * 3600),
        "False",
        "False",
        "True",
        "True",
        "None",
    ]
    tuned = transport(
        DEBUG="0",
        SECURE_SSL="1",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
        TRUSTED_PROXY_COUNT="1",
        **real_secrets(),
    )
    assert tuned[:6] == ["True", "600", "True", "True", "True", "True"]
    # Behind a trusted proxy, its X-Forwarded-Proto says whether the browser used HTTPS.
    assert tuned[6] == "('HTTP_X_FORWARDED_PROTO', 'https')"


SIMULATOR = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DEPOSIT_BANK_SIMULATOR)"
)


def test_the_bank_simulator_follows_debug_unless_the_environment_says():
    """It signs with the real bank secrets: off in production unless a deployment asks for it."""
    assert run_settings(SIMULATOR, DEBUG="1").stdout.split() == ["True"]
    assert run_settings(SIMULATOR, DEBUG="0", **real_secrets()).stdout.split() == ["False"]
    assert run_settings(SIMULATOR, DEBUG="1", DEPOSIT_BANK_SIMULATOR="0").stdout.split() == [
        "False"
    ]


def test_records_are_kept_at_least_fifteen_years():
    assert settings.AUDIT_RETENTION_YEARS == 20  # the center's default
    result = run_settings(DEBUG="1", AUDIT_RETENTION_YEARS="14")
    assert result.returncode != 0 and "at least 15 years" in result.stderr
    assert run_settings(DEBUG="1", AUDIT_RETENTION_YEARS="15").returncode == 0


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
