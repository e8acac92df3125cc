"""The auction's rules as pure functions of the rules on the `Auction` row, prices and the server time.

No database here: `services.py` calls these under the auction's row lock; pages call `allowed_bid` for
the hint they print. Every refusal has a stable code (see `REFUSALS`).

| rule | function |
|---|---|
| a bid improves the reference (current best, or the start price) by k × step, k ≥ 1 | `check_open_bid` |
| an improvement larger than the typo guard (`max_change`) is refused | `check_open_bid` |
| rounds: a bidder improves only its own price by k × step, only in its own turn | `check_turn_bid` |
| a bid in the last N seconds moves the end to now + M seconds, up to the cap | `extended_end` |
| ranking: price, then the time the price was reached, then the event sequence | `rank_key` |
| land: first bid may equal the start; nothing past the cap | `check_open_bid`, `reaches_cap` |
| rounds: turn order worst first, leader last; stage at a time | `round_order`, `stage_at` |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from lib.money import AmountError, parse_amount

if TYPE_CHECKING:
    from bidding.models import Auction

DESCENDING = "descending"

REFUSALS = {
    "BAD_PRICE": _("报价必须是正数金额，最多两位小数。"),
    "NOT_STARTED": _("竞价尚未开始。"),
    "CLOSED": _("竞价已结束。"),
    "NOT_PARTICIPANT": _("您不是本场竞价的竞价人。"),
    "NOT_IMPROVING": _("报价必须优于当前最优价。"),
    "NOT_STEP_MULTIPLE": _("降价（加价）金额必须是竞价幅度的整数倍。"),
    "TOO_FAR": _("单次变动超过允许的最大幅度，请核对报价。"),
    "NOT_YOUR_TURN": _("现在不是您的报价时间。"),
    "INITIAL_REQUIRED": _("请先在开始前递交首次报价。"),
    "ABOVE_START": _("首次报价不得劣于起始价。"),
    "KEY_REUSED": _("该幂等键已用于另一报价。"),
    "ABOVE_CAP": _("报价超过最高限价。"),
    "NOT_ELIGIBLE": _("您尚未取得竞买资格（报名、保证金到账且未被限制交易）。"),
    # The integrity gate's own codes (`accounts.services.ensure_may_trade`), checked at every bid.
    "ORG_BARRED": _("您的机构已被限制参与交易，报价不被接受。"),
    "ORG_INACTIVE": _("您的机构已停用，报价不被接受。"),
    "ORGANIZATION_NOT_APPROVED": _("您的机构主体注册未通过审核，报价不被接受。"),
    # The bidder's own account, read with the gate: a user disabled by its organization's
    # administrator (or by staff) bids no more, even from a socket opened before.
    "ACCOUNT_DISABLED": _("您的账号已被停用，报价不被接受。"),
    "ORG_ROLE_REQUIRED": _("您在本机构的角色不能报价（需要：投标/竞买操作员或管理员）。"),
    "BAD_KEY": _("需要 1–64 个字符的幂等键。"),
    "RATE_LIMITED": _("出价过于频繁，请稍后再试。"),
    "RETRY": _("系统繁忙，报价未被处理，请用同一幂等键重试。"),
}


@dataclass(frozen=True)
class Refusal:
    code: str

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code])


def parse_price(text: object) -> Decimal | None:
    """A price as the client sent it, or None if it is not one (the room answers BAD_PRICE).

    The platform's one amount contract (`lib.money.parse_amount`: a string of ASCII digits, at most
    two decimals, no sign, exponent, space or separator, below MAX_AMOUNT, not zero); a float never
    touches money. The room keeps its documented code rather than the parser's."""
    try:
        return parse_amount(text)
    except AmountError:
        return None


def improvement(direction: str, reference: Decimal, price: Decimal) -> Decimal:
    """How much `price` is better than `reference` (lower for reverse auctions, higher for sales)."""
    return reference - price if direction == DESCENDING else price - reference


def allowed_bid(auction: Auction, reference: Decimal | None = None) -> Decimal:
    """The least improving bid: the "≤ X" (or "≥ X") a bidder's page shows."""
    if reference is None and auction.best_price is None and auction.first_bid_may_equal_start:
        return auction.start_price
    base = reference if reference is not None else (auction.best_price or auction.start_price)
    return base - auction.step if auction.direction == DESCENDING else base + auction.step


def _check_improvement(auction: Auction, reference: Decimal, price: Decimal) -> Refusal | None:
    gain = improvement(auction.direction, reference, price)
    if gain <= 0:
        return Refusal("NOT_IMPROVING")
    if gain % auction.step != 0:
        return Refusal("NOT_STEP_MULTIPLE")
    if auction.max_change is not None and gain > auction.max_change:
        return Refusal("TOO_FAR")
    return None


def check_open_bid(auction: Auction, price: Decimal) -> Refusal | None:
    """Open format: improve the room's best price (or the start price) by a whole number of steps.

    Land listings: the first bid may equal the start price (k ≥ 0 for it), and no bid may go past the
    maximum price (最高限价)."""
    if (
        auction.max_price is not None
        and improvement(auction.direction, auction.max_price, price) > 0
    ):
        return Refusal("ABOVE_CAP")
    if (
        auction.best_price is None
        and auction.first_bid_may_equal_start
        and price == auction.start_price
    ):
        return None
    reference = auction.best_price if auction.best_price is not None else auction.start_price
    return _check_improvement(auction, reference, price)


def reaches_cap(auction: Auction, price: Decimal) -> bool:
    return auction.max_price is not None and price == auction.max_price


def check_initial_bid(auction: Auction, price: Decimal) -> Refusal | None:
    """Rounds format, before the start: the sealed opening price may not be worse than the start price."""
    if improvement(auction.direction, auction.start_price, price) < 0:
        return Refusal("ABOVE_START")
    return None


def check_turn_bid(auction: Auction, own_price: Decimal | None, price: Decimal) -> Refusal | None:
    """Rounds format: improve one's own price by k × step; beating the leader is not required."""
    if own_price is None:
        return Refusal("INITIAL_REQUIRED")
    return _check_improvement(auction, own_price, price)


def extended_end(auction: Auction, now: dt.datetime) -> dt.datetime | None:
    """The new end if a bid accepted at `now` triggers the anti-sniping extension, else None."""
    if auction.format != "open" or auction.extension_seconds == 0:
        return None
    if auction.ends_at - now > dt.timedelta(seconds=auction.extension_window_seconds):
        return None
    if auction.max_extensions is not None and auction.extensions_used >= auction.max_extensions:
        return None
    new_end = now + dt.timedelta(seconds=auction.extension_seconds)
    return new_end if new_end > auction.ends_at else None


def rank_key(direction: str, price: Decimal, at: dt.datetime, tiebreak: int) -> tuple:
    """Price first, then who reached it first (ties go to the earlier bid), then the event order."""
    return (price if direction == DESCENDING else -price, at, tiebreak)


# --- Rounds format --------------------------------------------------------------------------------


def round_length(auction: Auction, bidders: int) -> dt.timedelta:
    return dt.timedelta(seconds=auction.pause_seconds + bidders * auction.turn_seconds)


def rounds_end(auction: Auction, bidders: int) -> dt.datetime:
    return auction.starts_at + auction.rounds * round_length(auction, bidders)


@dataclass(frozen=True)
class Stage:
    """Where a rounds auction is at a moment: `round` from 0; `turn` None during the pause."""

    round: int
    turn: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime


def stage_at(auction: Auction, bidders: int, now: dt.datetime) -> Stage | None:
    """The stage at `now`, or None before the start and after the last turn."""
    if bidders == 0 or now < auction.starts_at or now >= rounds_end(auction, bidders):
        return None
    length = round_length(auction, bidders)
    number = int((now - auction.starts_at) / length)
    round_start = auction.starts_at + number * length
    pause_end = round_start + dt.timedelta(seconds=auction.pause_seconds)
    if now < pause_end:
        return Stage(number, None, round_start, pause_end)
    turn = int((now - pause_end) / dt.timedelta(seconds=auction.turn_seconds))
    turn_start = pause_end + turn * dt.timedelta(seconds=auction.turn_seconds)
    return Stage(number, turn, turn_start, turn_start + dt.timedelta(seconds=auction.turn_seconds))


def round_order(direction: str, standings: list[tuple[int, Decimal, dt.datetime]]) -> list[int]:
    """Participant ids in turn order: worst price first, the leader last (it always has the last word).

    `standings` holds (participant id, current price, when that price was reached)."""
    ranked = sorted(standings, key=lambda row: rank_key(direction, row[1], row[2], row[0]))
    return [row[0] for row in reversed(ranked)]
