"""The SMS adapter against a local fake HTTP provider, and SMS deliveries retried with back-off."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from notifications import delivery, sms
from notifications.models import Delivery
from tests.notifications.support import fake_sms_provider, returned_notice, verify_phone

KEY = "test-provider-key-0123456789abcdef"


def test_the_http_provider_sends_signed_json_with_the_idempotency_key():
    with fake_sms_provider([(200, '{"id": "msg-1", "status": "queued"}')]) as fake:
        result = sms.HttpProvider(fake.url, KEY, 5).send("13800138000", "你好", "key-42")
    assert result.ref == "msg-1"
    assert "msg-1" in result.answer
    (request,) = fake.requests
    assert request["body"] == {"to": "13800138000", "text": "你好", "idempotency_key": "key-42"}
    headers = request["headers"]
    assert headers["Idempotency-Key"] == "key-42"
    expected = hmac.new(
        KEY.encode(),
        headers["X-Bidhall-Timestamp"].encode() + b"." + request["raw"],
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Bidhall-Signature"] == "sha256=" + expected


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, '{"error": "busy"}'), (200, "not json"), (200, '{"status": "ok"}'), (302, "{}")],
)
def test_a_non_2xx_or_malformed_answer_is_a_failure_with_the_answer_kept(status, body):
    with fake_sms_provider([(status, body)]) as fake, pytest.raises(sms.SmsFailed) as failed:
        sms.HttpProvider(fake.url, KEY, 5).send("13800138000", "你好", "k")
    assert f"HTTP {status}" in failed.value.answer or "malformed" in failed.value.answer
    assert body[:8] in failed.value.answer


def test_an_unreachable_provider_is_a_failure():
    with fake_sms_provider([(200, "{}")]) as fake:
        url = fake.url
    with pytest.raises(sms.SmsFailed) as failed:
        sms.HttpProvider(url, KEY, 2).send("13800138000", "你好", "k")
    assert "unreachable" in failed.value.answer


def test_a_failed_sms_is_retried_after_its_back_off_then_sent_once(supplier, settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_RETRY_MAX_SECONDS = 600
    settings.SMS_PROVIDER_KEY = KEY
    verify_phone(supplier)
    with fake_sms_provider([(500, '{"error": "upstream down"}'), (200, '{"id": "msg-7"}')]) as fake:
        settings.SMS_PROVIDER_URL = fake.url
        notice = returned_notice(supplier)
        row = Delivery.objects.get(notice=notice, channel="sms")
        assert row.address == "13800138000"

        start = timezone.now()
        delivery.send_due(start)
        row.refresh_from_db()
        assert row.status == "queued"
        assert row.attempts == 1
        assert "HTTP 500" in row.provider_answer and "upstream down" in row.provider_answer
        assert row.next_attempt_at is not None
        wait = row.next_attempt_at - start
        assert dt.timedelta(seconds=29) <= wait <= dt.timedelta(seconds=31)

        # Not due yet: nothing is sent.
        assert delivery.send_due(start + dt.timedelta(seconds=10)) == 0
        assert len(fake.requests) == 1

        assert delivery.send_due(start + dt.timedelta(seconds=31)) == 1
        row.refresh_from_db()
        assert row.status == "sent"
        assert row.provider_ref == "msg-7"
        assert row.attempts == 2
        assert delivery.send_due(start + dt.timedelta(hours=1)) == 0

    assert len(fake.requests) == 2
    keys = {r["body"]["idempotency_key"] for r in fake.requests}
    assert keys == {f"bidhall-delivery-{row.pk}"}
    text = fake.requests[-1]["body"]["text"]
    assert text.startswith("【bidhall】主体注册被退回：甲建设公司")
    assert text.endswith(f"/n/{notice.pk}/")


def test_after_the_last_attempt_the_delivery_fails_and_staff_are_told(supplier, staff, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    settings.NOTIFY_RETRY_BASE_SECONDS = 10
    verify_phone(supplier)
    with fake_sms_provider([(400, '{"error": "invalid number"}')]) as fake:
        settings.SMS_PROVIDER_URL = fake.url
        notice = returned_notice(supplier)
        start = timezone.now()
        delivery.send_due(start)
        delivery.send_due(start + dt.timedelta(seconds=11))
        delivery.send_due(start + dt.timedelta(hours=2))
    row = Delivery.objects.get(notice=notice, channel="sms")
    assert row.status == "failed"
    assert row.attempts == 2
    assert "invalid number" in row.provider_answer
    assert len(fake.requests) == 2
    told = staff.notices.get(kind="delivery.failed")
    assert "invalid number" in told.body
    assert AuditEvent.objects.filter(
        action="notifications.delivery.failed", object_id=str(row.pk)
    ).exists()


def test_backoff_doubles_up_to_the_cap(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_RETRY_MAX_SECONDS = 100
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]
