"""Signed, expiring tokens for links sent by email (email verification, invitations), and the mail.

A token is `django.core.signing.dumps(payload, salt="bidhall.<purpose>")`: it carries its payload and
the time it was made, signed with SECRET_KEY, so nothing is stored to check it and nobody can make
one for another purpose, payload or user. Each purpose has its own lifetime (`TOKEN_MAX_AGE`).
Whoever uses a token checks the payload against the row it names (the email still the user's, the
invitation not yet used), which makes each link good for what it was sent for only.

Shared by accounts (organizations, invitations) and experts (expert applications), so it lives here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from lib.errors import DomainError

# Seconds each kind of link stays valid.
TOKEN_MAX_AGE: dict[str, int] = {
    "email": 3 * 24 * 3600,
    "invitation": 7 * 24 * 3600,
    "expert-email": 3 * 24 * 3600,
    # A drawn expert's confirm-or-decline link (experts.services.seat_link), sent by SMS; the seat
    # itself stops it sooner: once answered, or once the evaluation time has passed.
    "expert-seat": 7 * 24 * 3600,
}


class TokenRefused(DomainError):
    code = "TOKEN_INVALID"
    http_status = 400


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    if purpose not in TOKEN_MAX_AGE:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return signing.dumps(payload, salt=f"bidhall.{purpose}", compress=True)


def read_token(purpose: str, token: str) -> dict[str, Any]:
    """The payload of a token made for `purpose`, or TOKEN_INVALID / TOKEN_EXPIRED."""
    if not token or len(token) > 1000:
        raise TokenRefused(_("链接无效。"))
    try:
        payload = signing.loads(token, salt=f"bidhall.{purpose}", max_age=TOKEN_MAX_AGE[purpose])
    except signing.SignatureExpired as exc:
        raise TokenRefused(_("链接已过期，请重新申请发送。"), code="TOKEN_EXPIRED") from exc
    except signing.BadSignature as exc:
        raise TokenRefused(_("链接无效。")) from exc
    if not isinstance(payload, dict):
        raise TokenRefused(_("链接无效。"))
    return payload


def absolute(path: str) -> str:
    """A link for an email: the site's public address (SITE_URL) and the path."""
    return settings.SITE_URL.rstrip("/") + path


def send_after_commit(subject: Any, body: Any, to: str) -> None:
    """Send one email once the transaction that decided to send it has committed (EMAIL_BACKEND:
    the console in development and tests, SMTP from the environment in production)."""
    transaction.on_commit(
        lambda: send_mail(str(subject), str(body), settings.DEFAULT_FROM_EMAIL, [to])
    )
