"""Pages for people: the role-aware home page and the center's organization registry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.actors import Actor
from accounts.forms import BarForm, LiftForm
from accounts.models import IntegrityRecord, Organization, OrganizationApplication, Role
from accounts.permissions import has_perm, visible_to
from audit.models import AuditEvent
from audit.services import chain_state
from lib.errors import DomainError


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", home_context(request))


def home_context(request: HttpRequest) -> dict[str, Any]:
    """What the home page shows from accounts and audit (notifications.views.home adds the to-do list)."""
    user = request.user
    context: dict[str, Any] = {"now": timezone.now()}
    if user.is_authenticated:
        role = user.role
        if user.organization is not None:
            context["own_bars"] = user.organization.integrity_records.active_at(
                timezone.localdate()
            )
        if role in (Role.SUPERVISOR, Role.CENTER_STAFF):
            chain = chain_state()  # the chain head (not the last event) and its last verification
            context["checkpoint"] = chain.checkpoint
            context["head"] = {"seq": chain.head_seq, "hash": chain.head_hash}
            context["recent_events"] = AuditEvent.objects.order_by("-seq")[:10]
        if role == Role.CENTER_STAFF:
            context["pending_applications"] = OrganizationApplication.objects.filter(
                status=OrganizationApplication.Status.SUBMITTED
            ).count()
            context["organization_count"] = Organization.objects.count()
            context["barred_count"] = Organization.objects.filter(
                Exists(
                    IntegrityRecord.objects.active_at(timezone.localdate()).filter(
                        organization=OuterRef("pk")
                    )
                )
            ).count()
    return context


def _get_org_for_user(request: HttpRequest, pk: int) -> Organization:
    """The organization, or 404 for one the user may not see (its existence is not revealed)."""
    org = get_object_or_404(Organization, pk=pk)
    if not has_perm(request.user, "accounts.view_organization", org):
        raise Http404
    return org


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    orgs = visible_to(request.user, "accounts.view_organization", Organization.objects.all())
    kind = request.GET.get("kind", "")
    query = request.GET.get("q", "").strip()
    if kind in Organization.Kind.values:
        orgs = orgs.filter(kind=kind)
    if query:
        orgs = orgs.filter(name__icontains=query) | orgs.filter(uscc__icontains=query)
    today = timezone.localdate()
    orgs = orgs.annotate(
        barred=Exists(IntegrityRecord.objects.active_at(today).filter(organization=OuterRef("pk")))
    ).order_by("kind", "name")
    return render(
        request,
        "accounts/organization_list.html",
        {"organizations": orgs[:500], "kinds": Organization.Kind.choices, "kind": kind, "q": query},
    )


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_for_user(request, pk)
    today = timezone.localdate()
    records = org.integrity_records.select_related("recorded_by", "lifted_by")
    active_ids = set(org.integrity_records.active_at(today).values_list("id", flat=True))
    return render(
        request,
        "accounts/organization_detail.html",
        {
            "org": org,
            "records": records,
            "active_ids": active_ids,
            "may_manage": has_perm(request.user, "accounts.manage_integrity", org),
            "bar_form": BarForm(initial={"barred_from": today}),
            "lift_form": LiftForm(),
        },
    )


@login_required
@require_POST
def bar_organization(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_for_user(request, pk)
    form = BarForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("organization_detail", pk=org.pk)
    try:
        services.bar_organization(Actor.from_request(request), org, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已登记限制。"))
    return redirect("organization_detail", pk=org.pk)


@login_required
@require_POST
def lift_bar(request: HttpRequest, pk: int) -> HttpResponse:
    bar = get_object_or_404(IntegrityRecord.objects.select_related("organization"), pk=pk)
    _get_org_for_user(request, bar.organization_id)
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("organization_detail", pk=bar.organization_id)
    try:
        services.lift_bar(Actor.from_request(request), bar, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已解除限制。"))
    return redirect("organization_detail", pk=bar.organization_id)
