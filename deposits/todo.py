"""To-do items of deposits (notifications.todo): a registered bidder's deposit not yet qualified before
the deposit deadline, money deposits whose refund account is not yet confirmed, and refunds the center
must send. Registered from DepositsConfig.ready."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgRole, Role
from deposits.models import Deposit, Refund, RefundAccountConfirmation
from deposits.services import MONEY_FORMS, REFUND_ACCOUNT_STATUSES, qualification
from notifications.todo import (
    LEADS_NONE,
    LEADS_SUBMISSION,
    Assigned,
    TodoItem,
    TodoQuery,
    register_source,
)
from trading.models import Project, Registration

LIMIT = 50


def _deadline_between(after: dt.datetime, before: dt.datetime | None) -> Q:
    """The deposit deadline (else the bid deadline) after `after` (and before `before`, if given)."""
    own = Q(project__deposit_deadline__gt=after)
    fallback = Q(project__deposit_deadline__isnull=True, project__bid_deadline__gt=after)
    if before is not None:
        own &= Q(project__deposit_deadline__lt=before)
        fallback &= Q(project__bid_deadline__lt=before)
    return own | fallback


def deposits_to_pay(query: TodoQuery) -> Iterator[Assigned]:
    """Supplier finance: a lot the organization registered for whose deposit has not qualified, while
    the deposit deadline (else the bid deadline) is ahead. Missing it loses the right to bid (legal)."""
    if not query.role_is(Role.SUPPLIER):
        return
    rows = (
        Registration.objects.filter(
            project__status=Project.Status.PUBLISHED, lot__deposit_amount__gt=0
        )
        .filter(_deadline_between(query.now, query.due_before))
        .select_related("lot__project", "organization")
    )
    if query.organization_id is not None:
        rows = rows.filter(organization_id=query.organization_id)
    ordered = rows.order_by(
        Coalesce(F("project__deposit_deadline"), F("project__bid_deadline")), "pk"
    )
    for registration in ordered[:LIMIT]:
        people = query.people(registration.organization, OrgRole.FINANCE)
        if not people or qualification(registration.lot, registration.organization).qualified:
            continue
        project = registration.lot.project
        yield Assigned(
            TodoItem(
                key=f"deposit.pay:lot:{registration.lot_id}:org:{registration.organization_id}",
                action=_("缴纳保证金"),
                subject=str(registration.lot),
                url=reverse("my_deposits"),
                due_at=project.deposit_deadline or project.bid_deadline,
                legal=True,
                leads=LEADS_SUBMISSION,
                params=(("lot", str(registration.lot)),),
            ),
            people,
        )


def refund_accounts(query: TodoQuery) -> Iterator[Assigned]:
    """Supplier finance: a deposit paid in money whose refund account is not yet confirmed (evidence for
    the refund, never a condition of it: undated)."""
    if not query.role_is(Role.SUPPLIER) or query.due_before is not None:
        return
    confirmed = RefundAccountConfirmation.objects.values("deposit_id")
    rows = (
        Deposit.objects.filter(form__in=MONEY_FORMS, status__in=REFUND_ACCOUNT_STATUSES)
        .exclude(payer_account="")
        .exclude(pk__in=confirmed)
        .select_related("lot__project", "organization")
    )
    if query.organization_id is not None:
        rows = rows.filter(organization_id=query.organization_id)
    for deposit in rows.order_by("pk")[:LIMIT]:
        people = query.people(deposit.organization, OrgRole.FINANCE)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"deposit.refund_account:{deposit.pk}",
                    action=_("确认保证金退还账户"),
                    subject=str(deposit.lot),
                    url=reverse("deposit_detail", args=[deposit.pk]),
                    leads=LEADS_NONE,
                ),
                people,
            )


def refunds_due(query: TodoQuery) -> Iterator[Assigned]:
    """Center staff: refunds scheduled (or failed and to be sent again) by their due date."""
    if not query.role_is(Role.CENTER_STAFF):
        return
    staff = query.platform(Role.CENTER_STAFF)
    if not staff:
        return
    rows = Refund.objects.filter(
        status__in=(Refund.Status.SCHEDULED, Refund.Status.FAILED)
    ).select_related("deposit__lot__project")
    for refund in query.dated(rows, "due_at").order_by("due_at", "pk")[:LIMIT]:
        lot = refund.deposit.lot if refund.deposit is not None else None
        yield Assigned(
            TodoItem(
                key=f"refund.send:{refund.pk}",
                action=_("发送保证金退款"),
                subject=str(lot) if lot else str(refund.get_reason_display()),
                url=reverse("custody"),
                due_at=refund.due_at,
                legal=True,
            ),
            staff,
        )


def register() -> None:
    register_source(deposits_to_pay)
    register_source(refund_accounts)
    register_source(refunds_due)
