"""Verifying a user's mobile number with a code sent by SMS (/notifications/phone/ and
/api/v1/notifications/phone/).

`request_code` sets the number (a different number clears `User.phone_verified_at`, audited) and texts a
6-digit code; `verify` checks it. The code is kept only as an HMAC under SECRET_KEY, lives
PHONE_CODE_MINUTES, allows PHONE_CODE_MAX_TRIES tries, and a new one is sent at most every
PHONE_CODE_RESEND_SECONDS.

The code goes **directly through the SMS adapter** (`sms.send`), in the request, not through a Notice and
the clock's delivery: the number is not verified yet (deliveries go only to verified numbers), the person
is waiting at the page for it, a clock retry minutes later would be useless to them, and a secret code
must not sit in the inbox or the delivery monitor. A failed send is answered at once (SMS_SEND_FAILED) and
may be asked again without waiting.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import User
from audit.services import record
from lib.errors import Conflict, DomainError, NotPermitted
from notifications import kinds, sms
from notifications.models import PhoneVerification

PHONE_PATTERN = re.compile(r"1[3-9][0-9]{9}")
CODE_PATTERN = re.compile(r"[0-9]{6}")


class PhoneRefused(DomainError):
    code = "PHONE_INVALID"


class CodeRefused(DomainError):
    code = "PHONE_CODE_WRONG"


class SendFailed(DomainError):
    code = "SMS_SEND_FAILED"
    http_status = 502


def clean_phone(value: object) -> str:
    text = str(value or "").strip()
    if not PHONE_PATTERN.fullmatch(text):
        raise PhoneRefused(_("请输入11位中国大陆手机号（1开头，第二位3-9）。"))
    return text


def _hash(user_id: int, phone: str, code: str) -> str:
    return salted_hmac("bidhall.phone-code", f"{user_id}:{phone}:{code}").hexdigest()


def _user(actor: Actor) -> User:
    user = actor.user
    if user is None or not user.is_authenticated:
        raise NotPermitted(_("请先登录。"))
    return user


def set_phone(actor: Actor, phone: str) -> User:
    """Set the acting user's number; a different number is unverified until its code comes back."""
    user = _user(actor)
    phone = clean_phone(phone)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.phone != phone:
            was_verified = locked.phone_verified_at is not None
            locked.phone = phone
            locked.phone_verified_at = None
            locked.save(update_fields=["phone", "phone_verified_at"])
            PhoneVerification.objects.filter(user=locked).delete()
            record(
                actor,
                "accounts.phone.changed",
                locked,
                {"phone": _masked(phone), "was_verified": was_verified},
            )
    user.phone, user.phone_verified_at = locked.phone, locked.phone_verified_at
    return locked


def _masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def request_code(actor: Actor, phone: str) -> PhoneVerification:
    """Set the number (see set_phone) and text a fresh code to it."""
    user = set_phone(actor, phone)
    if user.phone_verified_at is not None:
        raise Conflict(_("该手机号已验证。"), code="PHONE_ALREADY_VERIFIED")
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        pending = PhoneVerification.objects.select_for_update().filter(user=user).first()
        wait = dt.timedelta(seconds=settings.PHONE_CODE_RESEND_SECONDS)
        if pending is not None and pending.sent_at is not None and now - pending.sent_at < wait:
            raise Conflict(
                _("验证码发送过于频繁，请 %(seconds)s 秒后再试。"),
                code="PHONE_CODE_THROTTLED",
                seconds=int((wait - (now - pending.sent_at)).total_seconds()) + 1,
            )
        if pending is None:
            pending = PhoneVerification(user=user)
        pending.phone = user.phone
        pending.code_hash = _hash(user.pk, user.phone, code)
        pending.expires_at = now + dt.timedelta(minutes=settings.PHONE_CODE_MINUTES)
        pending.tries = 0
        pending.sent_at = now
        pending.sends += 1
        pending.save()
    info = kinds.get("phone.verification")
    with translation.override("zh-hans"):
        text = "【bidhall】" + kinds.render(
            info.title, {"code": code, "minutes": settings.PHONE_CODE_MINUTES}
        )
    try:
        sms.send(user.phone, text, f"bidhall-phone-{pending.pk}-{pending.sends}")
    except sms.SmsFailed as exc:
        # Not sent: the person may ask again at once.
        PhoneVerification.objects.filter(pk=pending.pk).update(sent_at=None)
        raise SendFailed(_("短信发送失败，请稍后重试。")) from exc
    return pending


def verify(actor: Actor, code: str) -> User:
    user = _user(actor)
    code = str(code or "").strip()
    now = timezone.now()
    left: int | None = None
    with transaction.atomic():
        pending = PhoneVerification.objects.select_for_update().filter(user=user).first()
        if pending is None or pending.phone != user.phone or pending.sent_at is None:
            raise Conflict(_("请先获取验证码。"), code="PHONE_CODE_MISSING")
        if pending.expires_at <= now:
            raise Conflict(_("验证码已过期，请重新获取。"), code="PHONE_CODE_EXPIRED")
        if pending.tries >= settings.PHONE_CODE_MAX_TRIES:
            raise Conflict(_("验证码错误次数过多，请重新获取。"), code="PHONE_CODE_TOO_MANY_TRIES")
        right = bool(CODE_PATTERN.fullmatch(code)) and hmac.compare_digest(
            pending.code_hash, _hash(user.pk, pending.phone, code)
        )
        if not right:
            pending.tries += 1
            pending.save(update_fields=["tries"])
            left = settings.PHONE_CODE_MAX_TRIES - pending.tries
    if left is not None:
        # The count of tries is committed above, before the refusal.
        raise CodeRefused(_("验证码错误，还可尝试 %(left)s 次。"), left=left)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.phone != pending.phone:
            raise Conflict(_("请先获取验证码。"), code="PHONE_CODE_MISSING")
        locked.phone_verified_at = now
        locked.save(update_fields=["phone_verified_at"])
        PhoneVerification.objects.filter(pk=pending.pk).delete()
        record(actor, "accounts.phone.verified", locked, {"phone": _masked(locked.phone)})
    user.phone_verified_at = now
    return locked
