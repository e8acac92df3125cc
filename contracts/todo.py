"""To-do items of contracts (notifications.todo), registered from ContractsConfig.ready:

- the agent: an awarded lot without a contract yet (draft it), by the award's `contract_due_at`;
  bidding.todo's "签订合同" item (winner and agent, until the contract is recorded) sends the
  reminders of that legal deadline, so these two items send none of their own;
- each party: a contract version waiting for its signature, by `contract_due_at` for the first
  signing (招标投标法 Art.46; 政府采购法 Art.46), undated for a later amendment or supplement;
- the agent: a GP contract signed but not yet published, by `publication_due_at` (GP 条例 Art.50) —
  the platform publishes at signing, so this only shows if that ever did not happen;
- both parties: milestones not yet delivered, by the end of their due day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgRole, Role
from bidding.models import Publicity
from contracts.models import Contract, Milestone
from notifications.todo import LEADS_NONE, Assigned, TodoItem, TodoQuery, register_source
from trading.models import Project

LIMIT = 50
SHANGHAI_DAY_END = dt.time(23, 59)


def _subject(contract: Contract) -> str:
    return f"{contract.number} {contract.lot}"


def _url(contract: Contract) -> str:
    return f"/contracts/{contract.pk}/"


def contracts_to_draft(query: TodoQuery) -> Iterator[Assigned]:
    if not query.role_is(Role.AGENT):
        return
    rows = Publicity.objects.filter(
        ~Contract.live_for_lot(), status=Publicity.Status.AWARDED
    ).select_related("lot__project__agent")
    if query.organization_id is not None:
        rows = rows.filter(lot__project__agent_id=query.organization_id)
    for publicity in query.dated(rows, "contract_due_at").order_by("contract_due_at")[:LIMIT]:
        lot = publicity.lot
        people = query.people(lot.project.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"contracts.draft:{lot.pk}",
                    action=_("起草并签订合同"),
                    subject=str(lot),
                    url=f"/contracts/new/{lot.pk}/",
                    due_at=publicity.contract_due_at,
                    legal=True,
                    leads=LEADS_NONE,  # bidding.todo's "签订合同" reminds of this deadline
                ),
                people,
            )


def _waiting_for(contract: Contract) -> tuple[bool, bool]:
    """(purchaser, supplier): whether each side has still to sign the pending version."""
    version = contract.versions.order_by("-number").first()
    if version is None or version.number <= contract.effective_version:
        return (False, False)
    return (version.purchaser_signed_at is None, version.supplier_signed_at is None)


def contracts_to_sign(query: TodoQuery) -> Iterator[Assigned]:
    if not query.role_is(Role.AGENT, Role.SUPPLIER):
        return
    rows = (
        Contract.objects.exclude(status__in=[Contract.Status.ACCEPTED, Contract.Status.TERMINATED])
        .filter(versions__number__gt=F("effective_version"))
        .select_related("lot__project", "lot__publicity", "agent", "supplier")
        .distinct()
    )
    if query.organization_id is not None:
        org = query.organization_id
        rows = rows.filter(Q(agent_id=org) | Q(supplier_id=org))
    for contract in rows.order_by("pk")[:LIMIT]:
        purchaser_waits, supplier_waits = _waiting_for(contract)
        first = contract.status == Contract.Status.DRAFT
        due = contract.lot.publicity.contract_due_at if first else None
        if query.due_before is not None and (due is None or due >= query.due_before):
            continue
        for waits, organization, roles in (
            (purchaser_waits, contract.agent, (OrgRole.BID_OPERATOR,)),
            (supplier_waits, contract.supplier, (OrgRole.BID_OPERATOR,)),
        ):
            people = query.people(organization, *roles) if waits else []
            if people:
                yield Assigned(
                    TodoItem(
                        key=f"contracts.sign:{contract.pk}:{organization.pk}",
                        action=_("签署合同"),
                        subject=_subject(contract),
                        url=_url(contract),
                        due_at=due,
                        legal=first,
                        leads=LEADS_NONE,  # bidding.todo's "签订合同" reminds of this deadline
                    ),
                    people,
                )


def contracts_to_publish(query: TodoQuery) -> Iterator[Assigned]:
    if not query.role_is(Role.AGENT):
        return
    rows = Contract.objects.filter(
        status=Contract.Status.SIGNED,
        published_at__isnull=True,
        lot__project__kind=Project.Kind.GOVERNMENT_PROCUREMENT,
    ).select_related("lot__project", "agent")
    if query.organization_id is not None:
        rows = rows.filter(agent_id=query.organization_id)
    for contract in query.dated(rows, "publication_due_at").order_by("publication_due_at")[:LIMIT]:
        people = query.people(contract.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"contracts.publish:{contract.pk}",
                    action=_("发布合同公告"),
                    subject=_subject(contract),
                    url=_url(contract),
                    due_at=contract.publication_due_at,
                    legal=True,
                ),
                people,
            )


def _day_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, SHANGHAI_DAY_END), timezone.get_default_timezone()
    )


def milestones_due(query: TodoQuery) -> Iterator[Assigned]:
    if not query.role_is(Role.AGENT, Role.SUPPLIER):
        return
    rows = Milestone.objects.filter(
        delivered_at__isnull=True,
        contract__status__in=[
            Contract.Status.SIGNED,
            Contract.Status.PUBLISHED,
            Contract.Status.PERFORMING,
        ],
    ).select_related("contract__lot__project", "contract__agent", "contract__supplier")
    if query.organization_id is not None:
        org = query.organization_id
        rows = rows.filter(Q(contract__agent_id=org) | Q(contract__supplier_id=org))
    if query.due_before is not None:
        rows = rows.filter(due_on__lte=timezone.localtime(query.due_before).date())
    for milestone in rows.order_by("due_on", "pk")[:LIMIT]:
        contract = milestone.contract
        people = [
            *query.people(contract.supplier, OrgRole.BID_OPERATOR),
            *query.people(contract.agent),
        ]
        if people:
            yield Assigned(
                TodoItem(
                    key=f"contracts.milestone:{milestone.pk}",
                    action=_("履约交付"),
                    subject=f"{_subject(contract)} #{milestone.number} {milestone.description}",
                    url=_url(contract),
                    due_at=_day_end(milestone.due_on),
                ),
                people,
            )


def register() -> None:
    register_source(contracts_to_draft)
    register_source(contracts_to_sign)
    register_source(contracts_to_publish)
    register_source(milestones_due)
