"""Setting an auction up: its rules, fixed before anyone bids, and the phases another trade opens.

`create_auction` fixes a 电子反拍 lot's auction (the agent's service). `open_phase` is how the land
listing opens its phases of the same engine (listing, live bidding, housing area), having checked
permission and its own rules itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import User
from accounts.permissions import require_perm
from audit.services import AuditEntry, record
from bidding.auction import rules as R
from bidding.auction.batch import AUCTION_FIELDS, Batch, iso, org_ref
from bidding.auction.lifecycle import CLOSE_STEP, schedule_start_and_close
from bidding.models import Auction, AuctionParticipant
from clock.services import schedule
from lib.errors import Conflict, DomainError
from lib.numbers import parse_integer
from trading.models import Lot, Project


def clean_amount(
    value: Any, field_name: str, *, optional: bool = False, money: bool = True
) -> Decimal | None:
    """A positive amount (money, or an area) with at most two decimals, sent as a string (an int or
    Decimal from Python code is accepted; a float never is)."""
    if value in (None, "") and optional:
        return None
    amount = R.parse_price(str(value) if isinstance(value, int | Decimal) else value)
    if amount is None:
        message = (
            _("%(field)s 必须是正数金额，最多两位小数。")
            if money
            else _("%(field)s 必须是正数，最多两位小数。")
        )
        raise DomainError(message, code="BAD_AMOUNT", field=field_name)
    return amount


def clean_int(
    value: Any,
    field_name: str,
    *,
    minimum: int = 0,
    maximum: int = 10**7,
    optional: bool = False,
) -> int | None:
    """A setting as sent (a JSON integer or ASCII digits), read by the one number parser."""
    if value in (None, "") and optional:
        return None
    return parse_integer(value, field=field_name, minimum=minimum, maximum=maximum)


# --- A procurement auction ---------------------------------------------------------------------------


def create_auction(
    actor: Actor,
    lot: Lot,
    *,
    format: str = Auction.Format.OPEN,
    start_price: Any,
    step: Any,
    starts_at: dt.datetime,
    duration_seconds: Any = 1800,
    max_change: Any = None,
    extension_window_seconds: Any = 120,
    extension_seconds: Any = 120,
    max_extensions: Any = None,
    min_participants: Any = 3,
    public_view: bool = True,
    rounds: Any = 3,
    turn_seconds: Any = 120,
    pause_seconds: Any = 120,
    direction: str = Auction.Direction.DESCENDING,
) -> Auction:
    """Fix an auction's rules on a lot of a published 电子反拍 project. The rules cannot change later:
    bidders prepare against them."""
    require_perm(actor, "trading.manage_project", lot.project)
    if format not in Auction.Format.values:
        raise DomainError(_("未知的竞价方式。"), code="BAD_FORMAT")
    if direction not in Auction.Direction.values:
        raise DomainError(_("未知的竞价方向。"), code="BAD_DIRECTION")
    rules = _clean_rules(
        start_price=start_price,
        step=step,
        max_change=max_change,
        duration_seconds=duration_seconds,
        extension_window_seconds=extension_window_seconds,
        extension_seconds=extension_seconds,
        max_extensions=max_extensions,
        min_participants=min_participants,
        rounds=rounds,
        turn_seconds=turn_seconds,
        pause_seconds=pause_seconds,
    )
    if timezone.is_naive(starts_at):
        raise DomainError(_("开始时间必须带时区。"), code="BAD_TIME")
    if not isinstance(public_view, bool):
        raise DomainError(_("“允许公众旁观”必须是布尔值。"), code="BAD_FLAG")
    settings = {"format": format, "direction": direction, "public_view": public_view}
    with transaction.atomic():
        _check_may_create(lot, direction, starts_at)
        auction = Auction.objects.create(
            lot=lot,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(seconds=rules["duration_seconds"]),
            created_by=actor.acting_user,
            **settings,
            **rules,
        )
        schedule_start_and_close(auction)
        payload = {"lot": lot.pk, **rules, "format": format, "direction": direction}
        payload |= {"starts_at": starts_at, "public_view": public_view}
        record(actor, "bidding.auction.created", auction, payload)
    return auction


def _clean_rules(**sent: Any) -> dict[str, Any]:
    """The rules as sent, each read by its parser, and checked against each other."""
    rules = {
        "start_price": clean_amount(sent["start_price"], _("起始价")),
        "step": clean_amount(sent["step"], _("竞价幅度")),
        "max_change": clean_amount(sent["max_change"], _("单次最大变动"), optional=True),
        "duration_seconds": clean_int(sent["duration_seconds"], _("竞价时长"), minimum=60),
        "extension_window_seconds": clean_int(sent["extension_window_seconds"], _("延时触发窗口")),
        "extension_seconds": clean_int(sent["extension_seconds"], _("延时时长")),
        "max_extensions": clean_int(sent["max_extensions"], _("最多延时次数"), optional=True),
        "min_participants": clean_int(sent["min_participants"], _("最少竞价人数"), minimum=1),
        "rounds": clean_int(sent["rounds"], _("轮数"), minimum=1),
        "turn_seconds": clean_int(sent["turn_seconds"], _("每次报价时长"), minimum=10),
        "pause_seconds": clean_int(sent["pause_seconds"], _("轮间休息"), minimum=0),
    }
    step, start_price, max_change = rules["step"], rules["start_price"], rules["max_change"]
    assert step is not None and start_price is not None  # required: refused above if missing
    if step >= start_price:
        raise DomainError(_("竞价幅度必须小于起始价。"), code="BAD_STEP")
    if max_change is not None and max_change < step:
        raise DomainError(_("单次最大变动不能小于竞价幅度。"), code="BAD_MAX_CHANGE")
    return rules


def _check_may_create(lot: Lot, direction: str, starts_at: dt.datetime) -> None:
    """Under the project's lock: a published 电子反拍 project, a start after registration and the
    deposits close, and no auction on the lot yet."""
    project = Project.objects.select_for_update().get(pk=lot.project_id)
    if project.method != Project.Method.REVERSE_AUCTION and direction == "descending":
        raise Conflict(_("只有电子反拍项目可以设置反向竞价。"), code="WRONG_METHOD")
    if project.status != Project.Status.PUBLISHED:
        raise Conflict(_("项目尚未发布。"), code="WRONG_STATUS")
    now = timezone.now()
    registration_ends = project.deposit_deadline or project.bid_deadline
    if starts_at <= now or (registration_ends and starts_at < registration_ends):
        raise DomainError(_("开始时间必须晚于现在和报名/保证金截止时间。"), code="BAD_START")
    if Auction.objects.filter(lot=lot, phase=Auction.Phase.MAIN).exists():
        raise Conflict(_("该标段已设置竞价。"), code="ALREADY_EXISTS")


# --- A phase of another trade (the land listing) --------------------------------------------------


def open_phase(
    actor: Actor,
    lot: Lot,
    *,
    phase: str,
    created_by: User,
    starts_at: dt.datetime,
    duration_seconds: int,
    start_price: Decimal,
    step: Decimal,
    batch: Batch | None = None,
    seats: list[dict[str, Any]] | None = None,
    best_alias: str | None = None,
    **rules: Any,
) -> Auction:
    """An auction phase opened by another service (the land listing), which has checked permission and
    the trade's own rules. Without `seats` it is scheduled like any auction; with them (live bidding,
    the housing-area bidding) it starts at once with those seats — each {organization, alias, price,
    price_at, may_bid} — and, if given, the seat `best_alias` holding the best price. A phase that
    starts at once emits its `started` event into the caller's `batch`."""
    auction = Auction.objects.create(
        lot=lot,
        phase=phase,
        format=Auction.Format.OPEN,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(seconds=duration_seconds),
        duration_seconds=duration_seconds,
        start_price=start_price,
        step=step,
        created_by=created_by,
        **rules,
    )
    if seats is None:
        schedule_start_and_close(auction)
    else:
        assert batch is not None, (
            "a phase that starts at once broadcasts through the caller's batch"
        )
        _start_with_seats(auction, seats, best_alias, batch)
    entry = _phase_created(actor, auction, seats, rules)
    if batch is not None:
        batch.audit.append(entry)  # in order with the batch's other events
    else:
        record(*entry)
    return auction


def _start_with_seats(
    auction: Auction, seats: list[dict[str, Any]], best_alias: str | None, batch: Batch
) -> None:
    starts_at = auction.starts_at
    rows = AuctionParticipant.objects.bulk_create(
        [AuctionParticipant(auction=auction, admitted_at=starts_at, **seat) for seat in seats]
    )
    auction.status = Auction.Status.LIVE
    auction.started_at = starts_at
    best = next((r for r in rows if r.alias == best_alias), None)
    if best is not None:
        auction.best_price, auction.best_participant, auction.best_at = (
            best.price,
            best,
            best.price_at,
        )
    schedule(CLOSE_STEP, auction.pk, auction.ends_at)
    participants = [
        {
            "alias": r.alias,
            "price": str(r.price) if r.price is not None else None,
            "price_at": iso(r.price_at),
            "may_bid": r.may_bid,
            "organization": org_ref(r.organization_id, {}),
        }
        for r in sorted(rows, key=lambda r: r.alias)
    ]
    started = {"participants": participants, "ends_at": iso(auction.ends_at)}
    batch.emit(auction, "started", starts_at, started)
    auction.save(update_fields=AUCTION_FIELDS)


def _phase_created(
    actor: Actor,
    auction: Auction,
    seats: list[dict[str, Any]] | None,
    rules: dict[str, Any],
) -> AuditEntry:
    payload = {
        "lot": auction.lot_id,
        "phase": auction.phase,
        "starts_at": auction.starts_at,
        "duration_seconds": auction.duration_seconds,
        "start_price": auction.start_price,
        "step": auction.step,
        "seats": [{"alias": x["alias"], "organization": x["organization"].pk} for x in seats or []],
        **{k: v for k, v in rules.items() if not isinstance(v, models.Model)},
    }
    return (actor, "bidding.auction.created", auction, payload)
