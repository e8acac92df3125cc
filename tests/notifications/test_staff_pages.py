"""The delivery monitor and the simulators: center staff (and supervisors, reading the monitor) only."""

from __future__ import annotations

import pytest
from django.core import mail

from audit.models import AuditEvent
from notifications import delivery
from notifications.models import Delivery, SimulatedEmail
from tests.notifications.support import returned_notice, verify_phone

PAGES = [
    "/notifications/deliveries/",
    "/notifications/simulator/email/",
    "/notifications/simulator/sms/",
]


@pytest.mark.parametrize("path", PAGES)
def test_a_supplier_is_refused(supplier, client, path):
    client.force_login(supplier)
    assert client.get(path).status_code in (403, 404)


def test_a_supplier_is_refused_by_the_api(supplier, api):
    assert api(supplier).get("/api/v1/notifications/deliveries/").status_code == 403
    assert api(supplier).post("/api/v1/notifications/deliveries/1/retry/").status_code == 403


def test_staff_read_the_simulators(staff, supplier, client, settings):
    settings.EMAIL_BACKEND = "notifications.email_simulator.EmailBackend"
    settings.SMS_PROVIDER_URL = ""
    supplier.email = "zhang@example.cn"
    supplier.save(update_fields=["email"])
    verify_phone(supplier)
    returned_notice(supplier)
    assert delivery.send_due() == 2
    message = SimulatedEmail.objects.get()
    assert message.subject == "主体注册被退回：甲建设公司"
    assert message.message_id.startswith("<bidhall.delivery.")

    client.force_login(staff)
    listing = client.get("/notifications/simulator/email/").content.decode()
    assert "主体注册被退回：甲建设公司" in listing
    detail = client.get(f"/notifications/simulator/email/{message.pk}/").content.decode()
    assert "退回理由：营业执照不清晰" in detail
    texts = client.get("/notifications/simulator/sms/").content.decode()
    assert "13800138000" in texts and "主体注册被退回" in texts


def test_the_simulators_are_gone_when_off(staff, client, settings):
    settings.EMAIL_SIMULATOR = False
    settings.SMS_SIMULATOR = False
    client.force_login(staff)
    assert client.get("/notifications/simulator/email/").status_code == 404
    assert client.get("/notifications/simulator/sms/").status_code == 404


def _failed(supplier, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    settings.SMS_PROVIDER_URL = ""
    settings.SMS_SIMULATOR = False  # no provider: the send fails
    verify_phone(supplier)
    notice = returned_notice(supplier)
    delivery.send_due()
    row = Delivery.objects.get(notice=notice, channel="sms")
    assert row.status == "failed"
    return row


def test_staff_see_a_failed_delivery_with_its_answer_and_retry_it(
    staff, supplier, client, api, settings
):
    row = _failed(supplier, settings)
    client.force_login(staff)
    page = client.get("/notifications/deliveries/?status=failed&channel=sms").content.decode()
    assert f'data-testid="delivery-{row.pk}"' in page
    assert "no SMS provider configured" in page

    listed = api(staff).get("/api/v1/notifications/deliveries/?status=failed").json()
    assert [r["id"] for r in listed["results"]] == [row.pk]
    assert "no SMS provider" in listed["results"][0]["provider_answer"]
    assert api(staff).get("/api/v1/notifications/deliveries/?status=nope").status_code == 400

    settings.SMS_SIMULATOR = True
    retried = api(staff).post(f"/api/v1/notifications/deliveries/{row.pk}/retry/")
    assert retried.status_code == 200, retried.json()
    assert retried.json()["status"] == "queued"
    assert AuditEvent.objects.filter(
        action="notifications.delivery.retried", object_id=str(row.pk)
    ).exists()
    again = api(staff).post(f"/api/v1/notifications/deliveries/{row.pk}/retry/")
    assert again.json()["error"]["code"] == "DELIVERY_NOT_FAILED"
    assert delivery.send_due() == 1
    row.refresh_from_db()
    assert row.status == "sent"


def test_supervisors_read_the_monitor_but_do_not_retry(supervisor, supplier, client, api, settings):
    row = _failed(supplier, settings)
    client.force_login(supervisor)
    assert client.get("/notifications/deliveries/").status_code == 200
    assert api(supervisor).get("/api/v1/notifications/deliveries/").status_code == 200
    assert (
        api(supervisor).post(f"/api/v1/notifications/deliveries/{row.pk}/retry/").status_code == 403
    )
    assert client.post(f"/notifications/deliveries/{row.pk}/retry/").status_code == 403
    assert client.get("/notifications/simulator/email/").status_code == 403
    assert mail.outbox == []
