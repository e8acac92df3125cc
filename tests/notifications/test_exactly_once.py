"""Exactly once: the delivery step run twice, concurrently, or after a clock died holding a claim."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from notifications import delivery
from notifications.models import Delivery, SimulatedSms
from tests.conftest import requires_postgres, run_concurrently
from tests.notifications.support import returned_notice, verify_phone


def _with_email(user, address="zhang@example.cn"):
    user.email = address
    user.save(update_fields=["email"])
    return user


def test_running_the_step_twice_sends_once(supplier, settings):
    settings.SMS_PROVIDER_URL = ""  # the simulator
    verify_phone(_with_email(supplier))
    notice = returned_notice(supplier)
    assert delivery.send_due() == 2
    assert delivery.send_due() == 0
    assert len(mail.outbox) == 1
    assert SimulatedSms.objects.filter(to="13800138000").count() == 1
    assert set(notice.deliveries.values_list("status", flat=True)) == {"sent"}


def test_a_clock_killed_after_claiming_is_taken_over_after_the_lease(supplier, settings):
    settings.NOTIFY_SEND_LEASE_SECONDS = 120
    verify_phone(_with_email(supplier))
    notice = returned_notice(supplier)
    sms_row = Delivery.objects.get(notice=notice, channel="sms")
    start = timezone.now()
    # A clock claims both deliveries, then dies before sending.
    for row in notice.deliveries.exclude(channel="inapp"):
        assert delivery.claim(row.pk, start, "dead-clock") is not None
    assert delivery.send_due(start + dt.timedelta(seconds=60)) == 0  # its lease still holds
    assert mail.outbox == []

    assert delivery.send_due(start + dt.timedelta(seconds=121)) == 2
    assert len(mail.outbox) == 1
    assert SimulatedSms.objects.count() == 1
    sms_row.refresh_from_db()
    assert sms_row.status == "sent"
    assert sms_row.attempts == 2  # the dead clock's claim counted as an attempt
    assert delivery.send_due(start + dt.timedelta(hours=1)) == 0


def test_a_clock_killed_after_the_provider_took_the_text_does_not_text_twice(supplier):
    """The window the lease cannot close: the provider accepted, the clock died before recording.
    The next clock sends again with the same idempotency key, and the provider answers with the
    first message instead of texting the person again."""
    verify_phone(supplier)
    notice = returned_notice(supplier)
    row = Delivery.objects.get(notice=notice, channel="sms")
    start = timezone.now()
    assert delivery.claim(row.pk, start, "dead-clock") is not None
    row.refresh_from_db()
    first = delivery.sms.send(row.address, delivery.sms_text(notice), delivery.idempotency_key(row))

    delivery.send_due(start + dt.timedelta(seconds=delivery.settings.NOTIFY_SEND_LEASE_SECONDS + 1))
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.provider_ref == first.ref
    assert SimulatedSms.objects.count() == 1


def test_a_late_clock_whose_lease_was_taken_over_records_nothing(supplier):
    _with_email(supplier)
    notice = returned_notice(supplier)
    row = Delivery.objects.get(notice=notice, channel="email")
    start = timezone.now()
    token = delivery.claim(row.pk, start, "slow-clock")
    assert token is not None
    late = start + dt.timedelta(seconds=delivery.settings.NOTIFY_SEND_LEASE_SECONDS + 1)
    assert delivery.claim(row.pk, late, "other-clock") is not None
    assert delivery.claim(row.pk, late, "third-clock") is None
    row.refresh_from_db()
    assert delivery._record_sent(row, token, "x", "late") is False
    row.refresh_from_db()
    assert row.status == "sending"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_clocks_send_each_delivery_once(supplier, settings):
    settings.SMS_PROVIDER_URL = ""
    verify_phone(_with_email(supplier))
    notices = [returned_notice(supplier, cause=f"test:concurrent:{i}") for i in range(10)]
    results = run_concurrently(
        lambda w: delivery.send_due(worker=f"clock-{w}"), [(w,) for w in range(6)]
    )
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 20
    assert len(mail.outbox) == 10
    assert SimulatedSms.objects.count() == 10
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == sorted(
        delivery.message_id(d) for d in Delivery.objects.filter(notice__in=notices, channel="email")
    )
    assert not Delivery.objects.exclude(status="sent").exists()
