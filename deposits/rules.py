"""When each deposit is refunded and whether with interest (china-trading-rules.md §2).

| event | who | due | interest |
|---|---|---|---|
| withdrawal before the deadline (条例 Art.35; 87号令 Art.38) | that bidder | 5 days (GP: 5 w.d.) | no |
| engineering contract signed (条例 Art.57) | every bidder of the lot | 5 days | yes, demand rate |
| GP award notice (GP 条例 Art.33) | losers | 5 working days | no |
| GP contract signed (GP 条例 Art.33) | the winner | 5 working days | no |
| land deal (39号令) | losers | 5 working days | no |
| termination (条例 Art.31) | everyone | 5 days | yes |
| lot failed (流标) | everyone | 5 days | no |
| payer mismatch, unknown sub-account, credit unlike its instrument | the payer | 5 working days | no |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from trading.rules import Period, add_period


@dataclass(frozen=True)
class RefundRule:
    period: Period
    with_interest: bool


def refund_rule(reason: str, project_kind: str) -> RefundRule:
    gp = project_kind == "gp"
    working_five = Period(5, working=True)
    rules = {
        "withdrawal": RefundRule(working_five if gp else Period(5), False),
        "contract_signed": RefundRule(working_five if gp else Period(5), not gp),
        "not_awarded": RefundRule(working_five, False),
        "land_not_won": RefundRule(working_five, False),
        "termination": RefundRule(Period(5), True),
        "failed_lot": RefundRule(Period(5), False),
        "payer_mismatch": RefundRule(working_five, False),
        "unknown_account": RefundRule(working_five, False),
        "instrument_mismatch": RefundRule(working_five, False),
    }
    return rules[reason]


def due_at(reason: str, project_kind: str, event_at: dt.datetime) -> dt.datetime:
    return add_period(event_at, refund_rule(reason, project_kind).period)


def interest(principal: Decimal, held_from: dt.datetime, held_until: dt.datetime) -> Decimal:
    """Demand-deposit interest for the days held (actual/360, as Chinese banks count 活期 interest),
    rounded to the fen. The annual rate is the DEPOSIT_DEMAND_RATE setting."""
    # Days are Beijing calendar days, whatever zone the two moments arrive in.
    days = max(
        (timezone.localtime(held_until).date() - timezone.localtime(held_from).date()).days, 0
    )
    rate = Decimal(str(settings.DEPOSIT_DEMAND_RATE))
    return (principal * rate * days / Decimal(360)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
