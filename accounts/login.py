"""Logging in: the lockout after repeated failures (django-axes) and how it answers.

Both ways in — the login page (Django's LoginView) and `POST /api/v1/auth/token/` — call
`authenticate(request, username=…, password=…)`, so axes counts every failure of either against the
same username *and* client address, and refuses a locked-out pair before any password is checked (a
right password then fails too). The settings (`AXES_*` in config/settings.py) say why the pair.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.addresses import client_ip
from lib.api import error_body
from lib.errors import DomainError


class LoginLocked(DomainError):
    code = "LOGIN_LOCKED"
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(lockout_message(retry_after))


def axes_client_ip(request: HttpRequest) -> str | None:
    """The address axes counts failures against: the one the audit chain records."""
    return client_ip(request.META)


def seconds_until_unlocked(request: HttpRequest, username: str | None) -> int:
    """How long this username at this address stays locked (at least a second)."""
    last_failure: dt.datetime | None = AccessAttempt.objects.filter(
        username=username, ip_address=axes_client_ip(request)
    ).aggregate(last=Max("attempt_time"))["last"]
    if last_failure is None:
        return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())
    left = last_failure + settings.AXES_COOLOFF_TIME - timezone.now()
    return max(1, math.ceil(left.total_seconds()))


def lockout_message(retry_after: int) -> str:
    return _(
        "登录失败次数过多，此用户名在您当前的网络地址暂停登录，请 %(minutes)d 分钟后再试。"
        "如需提前解除，请联系交易中心。"
    ) % {"minutes": math.ceil(retry_after / 60)}


def _username(request: HttpRequest, credentials: Any) -> str | None:
    if isinstance(credentials, dict) and credentials.get("username"):
        return str(credentials["username"])
    return request.POST.get("username") or None


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: what a locked-out login gets — 429 with Retry-After, as the API's error
    shape under /api/ and as the login page with the reason otherwise.

    (axes passes `(request, original_response, credentials)`, but its async middleware passes the
    credentials second; they are read by type, never by position.)
    """
    credentials = next((a for a in (*args, *kwargs.values()) if isinstance(a, dict)), None)
    username = _username(request, credentials)
    retry_after = seconds_until_unlocked(request, username)
    message = lockout_message(retry_after)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error_body(LoginLocked.code, message), status=429)
    else:
        response = render(
            request,
            "accounts/login.html",
            {
                "form": AuthenticationForm(request, initial={"username": username or ""}),
                "locked_out": message,
                "next": request.POST.get("next", ""),
            },
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    return response
