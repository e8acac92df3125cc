"""竞争性谈判 and 竞争性磋商 after the first responses are opened: rounds of negotiation and the final
quote (最后报价).

- A round's changes to the requirements or the contract terms go to every supplier still in (74号令
  Art.32; 214号 Art.22), and a supplier found non-compliant in it is out (74号令 Art.31; 214号
  Art.21): `publish_round`.
- The suppliers still in give one final quote each, by the time set; one that gives none is out
  (74号令 Art.33; 214号 Art.23): `call_final_quotes`, `submit_final_quote`, `open_final_quotes`.
- At least 3 suppliers still in (政府采购法 Art.38; a 磋商 of 政府购买服务 or research: 2, 财库〔2015〕
  124号): `call_final_quotes`, through `trading.rules.min_responses`.
- The panel judges by the final quotes (74号令 Art.35; 214号 Art.24): `evaluated_prices`, read by
  `bidding.evaluation`.

The rounds are run by whoever runs the evaluation room (`bidding.run_evaluation`: center staff on the
panel's behalf) while the panel sits. Final quotes are sealed to the project key like the bids' outer
layer and opened by the platform when the call closes (`open_final_quotes`, the clock's step
`bidding.open_final_quotes`): before that no read path, the database included, holds a price.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Organization, Role
from accounts.permissions import require_perm
from accounts.services import require_org_role
from audit.services import record
from bidding import crypto, notices
from bidding.models import Bid, Evaluation, FinalQuote, FinalQuoteCall, NegotiationRound, Opening
from bidding.services import BIDDING_ROLES, project_private_key, project_public_key
from clock.services import schedule
from lib.canonical import sha256_hex
from lib.errors import Conflict, DomainError, NotPermitted, present
from lib.money import format_amount, parse_amount
from lib.text import bounded, check_text
from notifications import recipients
from notifications.services import moment_text
from trading.exceptions import TooLate
from trading.models import Lot, Project
from trading.rules import min_responses
from trading.services import ensure_not_suspended, lock_project

NEGOTIATED_METHODS = (Project.Method.NEGOTIATION, Project.Method.CONSULTATION)
OPEN_FINAL_QUOTES_STEP = "bidding.open_final_quotes"  # registered by bidding/tasks.py
CHANGES_LIMIT = 10_000
FINAL_QUOTE_LONGEST = dt.timedelta(days=7)


def uses_negotiation(project: Project) -> bool:
    return project.method in NEGOTIATED_METHODS


def excluded_ids(lot: Lot) -> set[int]:
    """Suppliers the panel put out in a round."""
    out: set[int] = set()
    for excluded in NegotiationRound.objects.filter(lot=lot).values_list("excluded", flat=True):
        out.update(int(org) for org in excluded)
    return out


def still_in(lot: Lot) -> list[int]:
    """The suppliers whose first response was opened and who were not put out since, by id."""
    opened = Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED).values_list(
        "organization_id", flat=True
    )
    out = excluded_ids(lot)
    return sorted(org for org in opened if org not in out)


def _require_negotiating(lot: Lot, project: Project) -> None:
    if not uses_negotiation(project):
        raise Conflict(_("只有竞争性谈判和竞争性磋商有谈判轮次和最后报价。"), code="NOT_NEGOTIATED")
    opening = Opening.objects.filter(lot=lot).first()
    if opening is None or opening.stage != Opening.Stage.OPENED:
        raise Conflict(_("首次响应文件尚未开启完成。"), code="WRONG_STATUS")
    evaluation = Evaluation.objects.filter(lot=lot).first()
    if evaluation is None or evaluation.status != Evaluation.Status.IN_PROGRESS:
        raise Conflict(_("谈判/磋商小组评审进行中才能谈判。"), code="WRONG_STATUS")
    if FinalQuoteCall.objects.filter(lot=lot).exists():
        raise Conflict(_("已发出最后报价通知，谈判已结束。"), code="NEGOTIATION_CLOSED")


def _lot_url(lot: Lot) -> str:
    return reverse("bidding_lot", args=[lot.pk])


def publish_round(
    actor: Actor, lot: Lot, *, changes: Any = "", excluded: list[int] | None = None
) -> NegotiationRound:
    """Record one round: its changes (sent to every supplier still in, none left out) and the
    suppliers found non-compliant in it."""
    require_perm(actor, "bidding.run_evaluation")
    changes_text = check_text(
        changes or "", field=str(_("实质性变动内容")), max_length=CHANGES_LIMIT
    )
    excluded = [int(org) for org in excluded or []]
    with transaction.atomic():
        project = lock_project(lot.project_id)
        ensure_not_suspended(project)
        _require_negotiating(lot, project)
        remaining = still_in(lot)
        strangers = set(excluded) - set(remaining)
        if strangers:
            raise DomainError(_("只能淘汰仍在谈判中的供应商。"), code="NOT_IN_NEGOTIATION")
        if not changes_text.strip() and not excluded:
            raise DomainError(_("请填写本轮的变动内容或淘汰的供应商。"), code="ROUND_EMPTY")
        number = NegotiationRound.objects.filter(lot=lot).count() + 1
        round_ = NegotiationRound.objects.create(
            lot=lot,
            number=number,
            changes=changes_text.strip(),
            excluded=sorted(set(excluded)),
            published_at=timezone.now(),
            published_by=actor.acting_user,
        )
        event = record(
            actor,
            "bidding.negotiation.round",
            round_,
            {
                "lot": lot.pk,
                "number": number,
                "changes": bounded(round_.changes),
                "excluded": round_.excluded,
            },
        )
        staying = [org for org in remaining if org not in round_.excluded]
        # Every supplier still in hears of the same changes (no one is told more than another);
        # those put out hear only that they are out.
        if round_.changes:
            notices.tell(
                "negotiation.round",
                recipients.bidders_of(Organization.objects.filter(pk__in=staying)),
                event,
                lot,
                url=_lot_url(lot),
                params={"number": str(number)},
            )
        if round_.excluded:
            notices.tell(
                "negotiation.excluded",
                recipients.bidders_of(Organization.objects.filter(pk__in=round_.excluded)),
                event,
                lot,
                url=_lot_url(lot),
            )
    return round_


def call_final_quotes(actor: Actor, lot: Lot, *, closes_at: dt.datetime) -> FinalQuoteCall:
    """End the negotiation: the suppliers still in quote once by `closes_at`. Fewer than the method's
    minimum still in → refused (the procurement cannot go on as it is)."""
    require_perm(actor, "bidding.run_evaluation")
    with transaction.atomic():
        project = lock_project(lot.project_id)
        ensure_not_suspended(project)
        _require_negotiating(lot, project)
        now = timezone.now()
        if closes_at <= now:
            raise DomainError(_("最后报价截止时间必须晚于现在。"), code="DUE_AT_INVALID")
        if closes_at > now + FINAL_QUOTE_LONGEST:
            # The panel sits while the suppliers quote: a call for days on end is a slip of the pen.
            raise DomainError(
                _("最后报价截止时间不得晚于 %(days)s 日后。"),
                code="DUE_AT_INVALID",
                days=FINAL_QUOTE_LONGEST.days,
            )
        remaining = still_in(lot)
        needed = min_responses(project)
        if len(remaining) < needed:
            raise Conflict(
                _("仍在谈判中的供应商少于 %(n)s 家，不能进入最后报价。"),
                code="TOO_FEW_SUPPLIERS",
                n=needed,
            )
        call = FinalQuoteCall.objects.create(
            lot=lot, called_at=now, closes_at=closes_at, suppliers=remaining
        )
        schedule(OPEN_FINAL_QUOTES_STEP, lot.pk, closes_at)
        event = record(
            actor,
            "bidding.final_quotes.called",
            call,
            {"lot": lot.pk, "closes_at": closes_at, "suppliers": len(remaining)},
        )
        notices.tell(
            "final_quote.called",
            recipients.bidders_of(Organization.objects.filter(pk__in=remaining)),
            event,
            lot,
            url=_lot_url(lot),
            params={"deadline": moment_text(closes_at)},
            due_at=closes_at,
        )
    return call


def submit_final_quote(actor: Actor, lot: Lot, *, price: Any) -> FinalQuote:
    """One final quote per supplier still in, before the call closes; it cannot be changed. Sealed to
    the project key before any lock is taken, so the plaintext never reaches the database."""
    amount = parse_amount(price, field="price")
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有参加谈判的供应商可以提交最后报价。"))
    require_org_role(actor, *BIDDING_ROLES)
    organization = actor.organization
    sealed = crypto.seal_to(
        project_public_key(lot.project), json.dumps({"price": format_amount(amount)}).encode()
    )
    with transaction.atomic():
        project = lock_project(lot.project_id)
        ensure_not_suspended(project)
        call = FinalQuoteCall.objects.select_for_update().filter(lot=lot).first()
        if call is None:
            raise Conflict(_("尚未发出最后报价通知。"), code="NOT_CALLED")
        if organization.pk not in call.suppliers:
            raise NotPermitted(_("贵单位不在最后报价的供应商之列。"))
        now = timezone.now()
        if now >= call.closes_at:
            raise TooLate(
                _("最后报价已于 %(until)s 截止。"),
                code="TOO_LATE",
                until=moment_text(call.closes_at),
            )
        if FinalQuote.objects.filter(call=call, organization=organization).exists():
            raise Conflict(_("最后报价只能提交一次，不得更改。"), code="FINAL_QUOTE_FIXED")
        quote = FinalQuote.objects.create(
            call=call,
            organization=organization,
            submitted_by=actor.acting_user,
            submitted_at=now,
            sealed=sealed,
            sealed_sha256=sha256_hex(sealed),
        )
        event = record(
            actor,
            "bidding.final_quote.submitted",
            quote,
            {"lot": lot.pk, "sealed_sha256": quote.sealed_sha256},
        )
        notices.tell(
            "final_quote.receipt",
            recipients.bidders(organization),
            event,
            lot,
            url=_lot_url(lot),
            params={"receipt": quote.sealed_sha256, "submitted_at": moment_text(now)},
        )
    return quote


def open_final_quotes(actor: Actor, lot: Lot) -> FinalQuoteCall:
    """At the call's end the platform opens every final quote (the clock, or the first reader after
    it). Idempotent; refused before the end."""
    with transaction.atomic():
        call = FinalQuoteCall.objects.select_for_update().get(lot=lot)
        if call.opened_at is not None:
            return call
        now = timezone.now()
        if now < call.closes_at:
            raise TooLate(_("最后报价截止前不得开启。"), code="TOO_EARLY")
        private = project_private_key(lot.project_id)
        prices: dict[str, str] = {}
        for quote in FinalQuote.objects.select_for_update().filter(call=call).order_by("pk"):
            opened = json.loads(crypto.open_outer(private, bytes(quote.sealed)))
            quote.price = Decimal(opened["price"])
            quote.save(update_fields=["price"])
            prices[str(quote.organization_id)] = format_amount(quote.price)
        call.opened_at = now
        call.save(update_fields=["opened_at"])
        record(
            actor,
            "bidding.final_quotes.opened",
            call,
            {
                "lot": lot.pk,
                "prices": prices,
                "missing": sorted(set(call.suppliers) - {int(org) for org in prices}),
            },
        )
    return call


def evaluated_prices(lot: Lot) -> dict[int, Decimal] | None:
    """The price each bid is judged at: its final quote where the method has one (None when the
    method has none). Raises while the final quotes are not open yet."""
    if not uses_negotiation(lot.project):
        return None
    call = FinalQuoteCall.objects.filter(lot=lot).first()
    if call is None or call.opened_at is None:
        raise Conflict(_("最后报价开启后才能汇总评审结果。"), code="FINAL_QUOTES_PENDING")
    by_org = {
        quote.organization_id: present(quote.price, "an opened final quote's price")
        for quote in FinalQuote.objects.filter(call=call, price__isnull=False)
    }
    return {
        bid.pk: by_org[bid.organization_id]
        for bid in Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED)
        if bid.organization_id in by_org
    }
