"""单一来源 after its public notice: the negotiation (协商) with the one supplier named in it, the
record of it with the agreed price, and the result.

- The notice (the project's publication) runs at least 5 working days and takes objections inside it
  (GP 条例 Art.38; 74号令 Art.38–39): `trading.rules.METHOD_RULES["single_source"]`; an unanswered
  objection holds the project (`trading.services.ensure_not_suspended`).
- The negotiation happens at the project's deadline or later, with the named supplier only, still
  allowed to trade; the price agreed must be reasonable and within the budget (74号令 Art.42): no more
  than the lot's maximum price (or, without one, its estimate).
- Its record (协商情况记录: the price, what was negotiated, who took part) is kept with the audit
  chain, and the result and the award notice go out at once (GP 条例 Art.43), through the award path
  every method shares (`bidding.evaluation.issue_award`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.permissions import has_perm, require_perm
from accounts.services import ensure_may_trade
from audit.services import record
from bidding import access
from bidding.evaluation import issue_award
from bidding.models import Publicity, SingleSourceRecord
from lib.errors import Conflict, DomainError, NotFound
from lib.money import format_amount, parse_amount
from lib.text import bounded, check_text
from trading.exceptions import TooLate
from trading.models import Lot, Project
from trading.services import ensure_not_suspended, lock_project

RECORD_LIMIT = 10_000


def record_agreement(
    actor: Actor, lot: Lot, *, price: Any, minutes: Any, participants: Any
) -> Publicity:
    """The agent records the negotiation with the named supplier and the agreed price; the result and
    the award notice follow in the same transaction."""
    require_perm(actor, "trading.manage_project", lot.project)
    amount = parse_amount(price, field="price")
    minutes_text = check_text(
        minutes or "", field=str(_("协商情况")), max_length=RECORD_LIMIT
    ).strip()
    people_text = check_text(participants or "", field=str(_("参加人员")), max_length=1000).strip()
    if not minutes_text or not people_text:
        raise DomainError(_("请填写协商情况和参加人员。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        project = lock_project(lot.project_id)
        if project.method != Project.Method.SINGLE_SOURCE:
            raise Conflict(_("只有单一来源采购记录协商结果。"), code="NOT_SINGLE_SOURCE")
        if project.status != Project.Status.PUBLISHED:
            raise Conflict(_("项目不在采购阶段。"), code="WRONG_STATUS")
        ensure_not_suspended(project)
        now = timezone.now()
        deadline = project.bid_deadline
        if deadline is None or now < deadline:
            raise TooLate(_("公示期满、到协商时间后才能记录协商结果。"), code="TOO_EARLY")
        if SingleSourceRecord.objects.filter(lot=lot).exists() or hasattr(lot, "publicity"):
            raise Conflict(_("该包已记录协商结果。"), code="ALREADY_AGREED")
        ceiling = lot.ceiling_price if lot.ceiling_price is not None else lot.estimate
        if amount > ceiling:
            raise DomainError(
                _("成交价格不得高于采购预算或最高限价（%(ceiling)s 元）。"),
                code="PRICE_ABOVE_BUDGET",
                ceiling=format_amount(ceiling),
            )
        invitee = project.invitees.select_related("organization").get()
        supplier = invitee.organization
        ensure_may_trade(supplier, now)
        agreed = SingleSourceRecord.objects.create(
            lot=lot,
            organization=supplier,
            price=amount,
            minutes=minutes_text,
            participants=people_text,
            recorded_at=now,
            recorded_by=actor.acting_user,
        )
        record(
            actor,
            "bidding.single_source.agreed",
            agreed,
            {
                "lot": lot.pk,
                "organization": supplier.pk,
                "price": format_amount(amount),
                "minutes": bounded(minutes_text),
                "participants": bounded(people_text),
            },
        )
        # No competition, so no candidates to publicize: the one result stands at once.
        Publicity.objects.create(
            lot=lot,
            candidates=[
                {
                    "rank": 1,
                    "bidder": supplier.name,
                    "organization": supplier.pk,
                    "bid": None,
                    "price": format_amount(amount),
                    "technical": "0.00",
                    "total": "0.00",
                }
            ],
            published_at=now,
            ends_at=now,
        )
        return issue_award(actor, lot)


def agreement(lot: Lot) -> SingleSourceRecord | None:
    return SingleSourceRecord.objects.filter(lot=lot).first()


def single_source_lot(user: Any, pk: int) -> Lot:
    """A lot the user may see (`bidding.access.lot_for`) of a single-source project, or NotFound."""
    lot = access.lot_for(user, pk)
    if lot.project.method != Project.Method.SINGLE_SOURCE:
        raise NotFound(_("该标段不是单一来源采购。"))
    return lot


def may_read_minutes(user: Any, lot: Lot, agreed: SingleSourceRecord) -> bool:
    """The negotiation's minutes are for the parties (the agent, the supplier) and those who oversee
    them; the agreed price is public with the result (the award notice states it)."""
    return (
        has_perm(user, "trading.manage_project", lot.project)
        or has_perm(user, "bidding.view_evaluation")
        or getattr(user, "organization_id", None) == agreed.organization_id
    )
