"""Pages of notification channels: preferences, phone verification, the short link texted by SMS, the
staff delivery monitor, and the email and SMS simulators (development and the demo)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.permissions import has_perm, signed_in_user
from lib.errors import DomainError
from notifications import delivery, kinds, phone, preferences, sms
from notifications.models import Delivery, Notice, SimulatedEmail, SimulatedSms

LIST_LIMIT = 200


# --- Preferences ------------------------------------------------------------------------------


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if request.method == "POST":
        changes = {
            row.kind: {
                channel: f"{row.kind}:{channel}" in request.POST
                for channel in kinds.OUTSIDE_CHANNELS
            }
            for row in preferences.table(user)
        }
        try:
            preferences.update(Actor.from_request(request), changes)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("通知设置已保存。"))
            return redirect("notification_preferences")
    user.refresh_from_db(fields=["phone", "phone_verified_at"])
    return render(
        request,
        "notifications/preferences.html",
        {
            "rows": preferences.table(user),
            "channels": [(c, label) for c, label in Delivery.Channel.choices],
            "phone_verified": user.phone_verified_at is not None,
        },
    )


# --- Phone verification -----------------------------------------------------------------------


@login_required
def phone_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if request.method == "POST":
        actor = Actor.from_request(request)
        try:
            if request.POST.get("action") == "verify":
                phone.verify(actor, request.POST.get("code", ""))
                messages.success(request, _("手机号已验证。"))
            else:
                phone.request_code(actor, request.POST.get("phone", ""))
                messages.success(request, _("验证码已发送，请查收短信。"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("phone_verification")
    user.refresh_from_db(fields=["phone", "phone_verified_at"])
    pending = getattr(user, "phone_verification", None)
    return render(
        request,
        "notifications/phone.html",
        {
            "phone": user.phone,
            "verified_at": user.phone_verified_at,
            "pending": pending is not None and pending.sent_at is not None,
            "minutes": settings.PHONE_CODE_MINUTES,
        },
    )


# --- The short link in a text message ---------------------------------------------------------


@login_required
def notice_link(request: HttpRequest, pk: int) -> HttpResponse:
    """/n/<id>/: the recipient's own notice's page (a read; the notice is marked read where it is shown)."""
    user = signed_in_user(request)
    notice = Notice.objects.filter(pk=pk, recipient=user).first()
    if notice is None:
        raise Http404
    target = notice.url or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = reverse("home")
    return redirect(target)


# --- Staff: the delivery monitor --------------------------------------------------------------


def _monitored(request: HttpRequest) -> QuerySet[Delivery]:
    if not has_perm(signed_in_user(request), "notifications.view_delivery"):
        raise PermissionDenied
    return Delivery.objects.select_related("notice__recipient").order_by("-created_at", "-pk")


def _choice(request: HttpRequest, name: str, choices: list[str]) -> str:
    value = request.GET.get(name, "")
    return value if value in choices else ""


@login_required
def delivery_monitor(request: HttpRequest) -> HttpResponse:
    rows = _monitored(request)
    status = _choice(request, "status", list(Delivery.Status.values))
    channel = _choice(request, "channel", list(Delivery.Channel.values))
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    return render(
        request,
        "notifications/deliveries.html",
        {
            "rows": rows[:LIST_LIMIT],
            "status": status,
            "channel": channel,
            "statuses": Delivery.Status.choices,
            "channels": Delivery.Channel.choices,
            "may_retry": has_perm(request.user, "notifications.retry_delivery"),
            "email_simulator": settings.EMAIL_SIMULATOR
            and has_perm(request.user, "notifications.view_simulatedemail"),
            "sms_simulator": sms.simulator_enabled()
            and has_perm(request.user, "notifications.view_simulatedsms"),
        },
    )


@login_required
@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    row = _monitored(request).filter(pk=pk).first()
    if row is None:
        raise Http404
    try:
        delivery.retry(Actor.from_request(request), row)
    except DomainError as exc:
        if exc.http_status == 403:
            raise PermissionDenied from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已重新排队发送。"))
    return redirect(reverse("delivery_monitor") + "?status=failed")


# --- The simulators (development and the demo) ------------------------------------------------


def _simulator(request: HttpRequest, enabled: bool, perm: str) -> None:
    if not enabled:
        raise Http404
    if not has_perm(signed_in_user(request), perm):
        raise PermissionDenied


@login_required
def email_simulator(request: HttpRequest) -> HttpResponse:
    _simulator(request, settings.EMAIL_SIMULATOR, "notifications.view_simulatedemail")
    query = request.GET.get("to", "").strip()[:254]
    rows = SimulatedEmail.objects.all()
    if query:
        rows = rows.filter(to__icontains=query)
    return render(
        request, "notifications/email_simulator.html", {"rows": rows[:LIST_LIMIT], "to": query}
    )


@login_required
def email_simulator_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _simulator(request, settings.EMAIL_SIMULATOR, "notifications.view_simulatedemail")
    message = SimulatedEmail.objects.filter(pk=pk).first()
    if message is None:
        raise Http404
    context: dict[str, Any] = {"message": message}
    return render(request, "notifications/email_detail.html", context)


@login_required
def sms_simulator(request: HttpRequest) -> HttpResponse:
    _simulator(request, sms.simulator_enabled(), "notifications.view_simulatedsms")
    query = request.GET.get("to", "").strip()[:20]
    rows = SimulatedSms.objects.all()
    if query:
        rows = rows.filter(to__contains=query)
    return render(
        request, "notifications/sms_simulator.html", {"rows": rows[:LIST_LIMIT], "to": query}
    )
