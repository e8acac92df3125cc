"""Phone verification: a 6-digit code by SMS, 10 minutes, 5 tries, resend throttled; a new number
is unverified again."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from audit.models import AuditEvent
from lib.errors import DomainError
from notifications import phone
from notifications.models import PhoneVerification, SimulatedSms

API = "/api/v1/notifications/phone/"


@pytest.fixture(autouse=True)
def _simulator(settings):
    settings.SMS_PROVIDER_URL = ""
    settings.SMS_SIMULATOR = True


def last_code(number: str) -> str:
    text = SimulatedSms.objects.filter(to=number).latest("pk").text
    match = re.search(r"[0-9]{6}", text)
    assert match, text
    return match.group(0)


def refused(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_the_right_code_verifies_the_number(supplier):
    actor = Actor.for_user(supplier)
    phone.request_code(actor, "13912345678")
    text = SimulatedSms.objects.get(to="13912345678").text
    assert "10 分钟内有效" in text
    assert not PhoneVerification.objects.filter(
        code_hash__contains=last_code("13912345678")
    ).exists()
    phone.verify(actor, last_code("13912345678"))
    user = User.objects.get(pk=supplier.pk)
    assert user.phone == "13912345678"
    assert user.phone_verified_at is not None
    assert AuditEvent.objects.filter(
        action="accounts.phone.verified", object_id=str(user.pk)
    ).exists()
    assert not PhoneVerification.objects.filter(user=user).exists()


def test_a_wrong_code_counts_and_five_wrong_tries_end_the_code(supplier):
    actor = Actor.for_user(supplier)
    phone.request_code(actor, "13912345678")
    right = last_code("13912345678")
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        assert refused(lambda: phone.verify(actor, wrong)) == "PHONE_CODE_WRONG"
    assert PhoneVerification.objects.get(user=supplier).tries == 5
    # Even the right code no longer counts.
    assert refused(lambda: phone.verify(actor, right)) == "PHONE_CODE_TOO_MANY_TRIES"
    assert User.objects.get(pk=supplier.pk).phone_verified_at is None


def test_an_expired_code_is_refused_and_resending_is_throttled(supplier, settings):
    settings.PHONE_CODE_RESEND_SECONDS = 60
    actor = Actor.for_user(supplier)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        phone.request_code(actor, "13912345678")
        assert refused(lambda: phone.request_code(actor, "13912345678")) == "PHONE_CODE_THROTTLED"
    code = last_code("13912345678")
    with time_machine.travel(start + dt.timedelta(minutes=10, seconds=1), tick=False):
        assert refused(lambda: phone.verify(actor, code)) == "PHONE_CODE_EXPIRED"
        phone.request_code(actor, "13912345678")  # a new code after the wait
    assert SimulatedSms.objects.filter(to="13912345678").count() == 2


def test_changing_the_number_clears_its_verification(supplier):
    actor = Actor.for_user(supplier)
    phone.request_code(actor, "13912345678")
    phone.verify(actor, last_code("13912345678"))
    phone.set_phone(actor, "13912345678")  # the same number: still verified
    assert User.objects.get(pk=supplier.pk).phone_verified_at is not None
    phone.request_code(actor, "15012345678")
    user = User.objects.get(pk=supplier.pk)
    assert (user.phone, user.phone_verified_at) == ("15012345678", None)
    assert (
        AuditEvent.objects.filter(action="accounts.phone.changed", object_id=str(user.pk)).count()
        == 2
    )


@pytest.mark.parametrize(
    "number",
    ["12912345678", "1391234567", "139123456789", "+8613912345678", "１３９１２３４５６７８"],
)
def test_only_a_chinese_mobile_number_is_taken(supplier, number):
    assert refused(lambda: phone.request_code(Actor.for_user(supplier), number)) == "PHONE_INVALID"


def test_the_api(supplier, api):
    client = api(supplier)
    assert client.get(API).json() == {"phone": "", "verified": False, "verified_at": None}
    sent = client.post(API, {"phone": "13712345678"}, format="json")
    assert sent.status_code == 200, sent.json()
    wrong = client.post(API + "verify/", {"code": "abcdef"}, format="json")
    assert wrong.status_code == 400
    ok = client.post(API + "verify/", {"code": last_code("13712345678")}, format="json")
    assert ok.status_code == 200
    assert ok.json()["verified"] is True


def test_a_failed_send_is_answered_at_once(supplier, settings):
    settings.SMS_SIMULATOR = False
    assert (
        refused(lambda: phone.request_code(Actor.for_user(supplier), "13912345678"))
        == "SMS_SEND_FAILED"
    )
    settings.SMS_SIMULATOR = True
    phone.request_code(Actor.for_user(supplier), "13912345678")  # not throttled: nothing was sent


def test_the_page(supplier, client):
    client.force_login(supplier)
    assert client.get("/notifications/phone/").status_code == 200
    client.post("/notifications/phone/", {"action": "send", "phone": "13612345678"})
    page = client.post(
        "/notifications/phone/", {"action": "verify", "code": last_code("13612345678")}, follow=True
    )
    assert "手机号已验证" in page.content.decode()
    assert User.objects.get(pk=supplier.pk).phone_verified_at is not None
