"""When each deposit is refunded and whether with interest (the legal sources: 条例, GP 条例, 87号令, 39号令).

| event | who | due (construction, rights) | due (GP, land) | interest |
|---|---|---|---|---|
| withdrawal before the deadline (条例 Art.35; 87号令 Art.38) | that bidder | 5 days | 5 w.d. | no |
| failed to decrypt, where the rules refund it (条例 Art.35) | that bidder | 5 days | 5 w.d. | no |
| engineering contract signed (条例 Art.57) | every bidder of the lot | 5 days | — | yes, demand rate |
| GP award notice (GP 条例 Art.33) | losers | — | 5 w.d. | no |
| GP contract signed (GP 条例 Art.33) | the winner | — | 5 w.d. | no |
| land deal (39号令) | losers | — | 5 w.d. | no |
| termination (条例 Art.31; 87号令 Art.29 [M]) | everyone | 5 days | 5 w.d. | yes |
| lot failed (流标, 流拍) | everyone | 5 days | 5 w.d. | no |
| payer mismatch / unknown sub-account / credit unlike its instrument | the payer | 5 w.d. | 5 w.d. | no |

A due date counted in calendar days that lands on a rest day moves to the next working day
(`trading.rules.deadline_after`, 民法典 Art.203).

A guarantee (保函) names as its beneficiary the 招标人/采购人/出让人 of the project (the project's
owner): the party a forfeited deposit belongs to (条例 Art.35, 74; GP 条例 Art.33), which the center
calls the guarantee for — `guarantee_beneficiary`. An electronic guarantee naming anyone else (the
center itself included) is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import Organization
from trading.models import Lot
from trading.rules import Period, deadline_after, rules_for_kind


@dataclass(frozen=True)
class RefundRule:
    period: Period
    with_interest: bool


def refund_rule(reason: str, project_kind: str) -> RefundRule:
    # Government procurement counts every refund in working days (GP 条例 Art.33, 87号令); the land
    # rules do too (39号令); engineering tenders count calendar days (条例 Art.35, 57).
    five = Period(5, working=project_kind in ("gp", "land"))
    working_five = Period(5, working=True)
    rules = {
        "withdrawal": RefundRule(five, False),
        "decryption_failure": RefundRule(five, False),
        "contract_signed": RefundRule(five, project_kind != "gp"),
        "not_awarded": RefundRule(working_five, False),
        "land_not_won": RefundRule(working_five, False),
        "termination": RefundRule(five, True),
        "failed_lot": RefundRule(five, False),
        "payer_mismatch": RefundRule(working_five, False),
        "unknown_account": RefundRule(working_five, False),
        "instrument_mismatch": RefundRule(working_five, False),
    }
    return rules[reason]


def due_at(reason: str, project_kind: str, event_at: dt.datetime) -> dt.datetime:
    return deadline_after(
        event_at, refund_rule(reason, project_kind).period, rules_for_kind(project_kind)
    )


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


def guarantee_beneficiary(lot: Lot) -> Organization:
    """Whom a guarantee for `lot` must name as beneficiary: the project's owner (招标人/采购人/出让人)."""
    return lot.project.owner
