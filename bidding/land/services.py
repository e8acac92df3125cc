"""Land-use-right listing (挂牌出让) on the auction engine (国土资源部令第39号 and local online listing
rules; docs/law.md, "Land listing").

Where each rule lives:
- notice ≥ 20 days before the listing; listing ≥ 10 working days (`trading.rules`: `listing_notice`,
  `min_listing`); the close not on a holiday; registration and deposit deadlines before the close:
  `create_listing`.
- the reserve: keyed in once by the designated staff member before the lock time (default 1 h
  before the close), sealed at rest, opened only when the outcome is decided: `set_reserve`,
  `_open_reserve`.
- listing bids: first ≥ the start price, later ≥ highest + k × increment, nothing above the
  maximum price: the engine, phase `listing` (`admit_on_bid`, `first_bid_may_equal_start`,
  `max_price`).
- at the close, ≥ 2 bidders confirm within a window; ≥ 2 continuing → live bidding from the
  highest with a countdown restarting on every bid: `_listing_closed`, `respond`,
  `_after_confirming` (phase `live`).
- otherwise, and after live bidding: no bid → 流拍; the highest (ties → the earlier: the engine's
  ranking) wins if ≥ the reserve, else 流拍; the reserve is compared only there: `_decide`,
  `_deal_or_not`.
- the maximum price reached → the listing's mode: a lottery among those accepting the cap
  (`lottery.py`); 竞配建, housing area bid upwards, highest wins (`_housing_closed`); one sealed offer
  each, equal prices refused, nearest the average wins, equal distance → the lower
  (`submit_offer`, `_after_offers`, `nearest_to_average`).
- the deal: result announcement; losers refunded (≤ 5 working days, no interest); the winner's
  deposit stays held until it signs the 成交确认书, then becomes 定金 and price
  (`sign_confirmation`); a winner who refuses forfeits it and is barred (`record_refusal`).

The listing's start and its windows (confirmation, lottery acceptance, sealed offers) are moved on by
the clock (`land.advance`, scheduled for each of them) and by the answers that can end a window early;
reads never move them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from nacl.public import PrivateKey

from accounts.actors import Actor
from accounts.models import IntegrityRecord, Organization, OrgRole, Role, User
from accounts.permissions import require_perm
from accounts.services import bar_organization, ensure_may_trade, require_org_role
from audit import detectors
from audit.models import AuditEvent
from audit.services import record
from bidding import crypto, notices
from bidding.auction import broadcast
from bidding.auction import rules as R
from bidding.auction import services as auctions
from bidding.history import past_wins
from bidding.land import lottery, pdf
from bidding.models import (
    Auction,
    AuctionParticipant,
    LandListing,
    LandResponse,
    LandSealedOffer,
)
from bidding.services import EarlyAccessRefused, project_private_key, project_public_key
from clock.calendar import working_days_between
from clock.services import schedule
from deposits.models import Deposit, Forfeiture
from deposits.services import (
    apply_to_land_price,
    convert_to_earnest,
    forfeit_deposit,
    refund_losers_on_land_deal,
    refund_on_failed_lot,
)
from lib.canonical import sha256_hex
from lib.errors import Conflict, DomainError, NotFound, NotPermitted
from notifications import recipients
from notifications.services import moment_text
from signing.services import Signed, require_signature, signature_payload
from trading.models import Announcement, Lot, Project
from trading.rules import add_period, check_not_on_holiday, rules_for
from trading.services import publish_version

ADVANCE_STEP = "land.advance"


def get_listing(listing_id: Any) -> LandListing:
    try:
        listing_id = int(listing_id)
    except (TypeError, ValueError):
        raise NotFound(_("挂牌项目不存在。")) from None
    listing = LandListing.objects.select_related("lot__project").filter(pk=listing_id).first()
    if listing is None:
        raise NotFound(_("挂牌项目不存在。"))
    return listing


# --- Setting up ---------------------------------------------------------------------------------------


def create_listing(
    actor: Actor,
    lot: Lot,
    *,
    parcel_number: str,
    location: str,
    area: Any,
    land_use: str,
    term_years: Any,
    planning: dict[str, Any] | None = None,
    start_price: Any,
    increment: Any,
    listing_starts_at: dt.datetime,
    listing_ends_at: dt.datetime,
    reserve_staff: User,
    max_price: Any = None,
    cap_mode: str = "",
    housing_step: Any = "10",
    offer_ceiling: Any = None,
    confirm_seconds: Any = 300,
    live_seconds: Any = 240,
    cap_window_seconds: Any = 600,
    reserve_lock_minutes: Any = 60,
) -> LandListing:
    """Put a parcel of a published 挂牌出让 project up for listing, with its price rules and timeline."""
    require_perm(actor, "trading.manage_project", lot.project)
    fields = {
        "parcel_number": str(parcel_number or "").strip()[:60],
        "location": str(location or "").strip()[:200],
        "area": auctions.clean_amount(area, _("出让面积"), money=False),
        "term_years": auctions.clean_int(term_years, _("出让年限"), minimum=1, maximum=70),
        "start_price": auctions.clean_amount(start_price, _("起始价"), money=False),
        "increment": auctions.clean_amount(increment, _("加价幅度"), money=False),
        "max_price": auctions.clean_amount(max_price, _("最高限价"), optional=True, money=False),
        "housing_step": auctions.clean_amount(housing_step, _("配建面积加价幅度"), money=False),
        "offer_ceiling": auctions.clean_amount(
            offer_ceiling, _("一次性报价上限"), optional=True, money=False
        ),
        "confirm_seconds": auctions.clean_int(
            confirm_seconds, _("确认时限"), minimum=30, maximum=86400
        ),
        "live_seconds": auctions.clean_int(
            live_seconds, _("限时竞价倒计时"), minimum=30, maximum=3600
        ),
        "cap_window_seconds": auctions.clean_int(
            cap_window_seconds, _("限价后程序时限"), minimum=60, maximum=86400
        ),
        "reserve_lock_minutes": auctions.clean_int(
            reserve_lock_minutes, _("底价锁定时间"), minimum=1, maximum=10080
        ),
    }
    if not fields["parcel_number"] or not fields["location"]:
        raise DomainError(_("请填写宗地编号和土地位置。"), code="PARCEL_REQUIRED")
    if land_use not in LandListing.Use.values:
        raise DomainError(_("未知的土地用途。"), code="BAD_USE")
    if planning is not None and not isinstance(planning, dict):
        raise DomainError(_("规划指标必须是对象。"), code="BAD_PLANNING")
    if fields["max_price"] is not None:
        if fields["max_price"] <= fields["start_price"]:
            raise DomainError(_("最高限价必须高于起始价。"), code="BAD_MAX_PRICE")
        if (fields["max_price"] - fields["start_price"]) % fields["increment"]:
            raise DomainError(
                _("最高限价与起始价之差必须是加价幅度的整数倍。"), code="BAD_MAX_PRICE"
            )
        if cap_mode not in LandListing.CapMode.values:
            raise DomainError(_("设置最高限价时须选择达到限价后的方式。"), code="BAD_CAP_MODE")
    elif cap_mode:
        raise DomainError(_("未设置最高限价，不能选择限价方式。"), code="BAD_CAP_MODE")
    if reserve_staff.role != Role.CENTER_STAFF or not reserve_staff.is_active:
        raise DomainError(_("底价录入人必须是交易中心工作人员。"), code="BAD_RESERVE_STAFF")
    for moment in (listing_starts_at, listing_ends_at):
        if timezone.is_naive(moment):
            raise DomainError(_("时间必须带时区。"), code="BAD_TIME")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=lot.project_id)
        if project.kind != Project.Kind.LAND or project.method != Project.Method.LAND_LISTING:
            raise Conflict(_("只有国有建设用地挂牌出让项目可以设置挂牌。"), code="WRONG_METHOD")
        if project.status != Project.Status.PUBLISHED:
            raise Conflict(_("出让公告尚未发布。"), code="WRONG_STATUS")
        if LandListing.objects.filter(lot=lot).exists():
            raise Conflict(_("该宗地已设置挂牌。"), code="ALREADY_EXISTS")
        if land_use == LandListing.Use.INDUSTRIAL and set(lot.deposit_currencies or []) - {"CNY"}:
            # Foreign-currency deposits only for 经营性用地; industrial land is paid in RMB only.
            raise DomainError(
                _("工业用地的竞买保证金只能以人民币缴纳。"), code="FOREIGN_CURRENCY_NOT_ALLOWED"
            )
        _check_timeline(project, listing_starts_at, listing_ends_at)
        listing = LandListing.objects.create(
            lot=lot,
            land_use=land_use,
            planning=planning or {},
            cap_mode=cap_mode,
            listing_starts_at=listing_starts_at,
            listing_ends_at=listing_ends_at,
            reserve_staff=reserve_staff,
            created_by=actor.user,
            **fields,
        )

        schedule(ADVANCE_STEP, listing.pk, listing_starts_at)  # 挂牌中 on time
        auctions.open_phase(
            actor,
            lot,
            phase=Auction.Phase.LISTING,
            created_by=actor.acting_user,
            starts_at=listing_starts_at,
            duration_seconds=int((listing_ends_at - listing_starts_at).total_seconds()),
            start_price=fields["start_price"],
            step=fields["increment"],
            direction=Auction.Direction.ASCENDING,
            extension_seconds=0,
            min_participants=1,
            admit_on_bid=True,
            first_bid_may_equal_start=True,
            max_price=fields["max_price"],
            public_view=True,
        )
        record(
            actor,
            "land.listing.created",
            listing,
            {
                **fields,
                "land_use": land_use,
                "cap_mode": cap_mode,
                "listing_starts_at": listing_starts_at,
                "listing_ends_at": listing_ends_at,
                "reserve_staff": reserve_staff.pk,
            },
        )
    return listing


def _check_timeline(project: Project, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    local = timezone.localtime
    rules = rules_for(project)
    if project.published_at is None or starts_at < add_period(
        project.published_at, rules.listing_notice
    ):
        raise DomainError(
            _("挂牌开始时间距出让公告发布不得少于%(period)s。"),
            code="NOTICE_TOO_SHORT",
            period=rules.listing_notice.label(),
        )
    # Days the listing is open, counting its first and last day.
    first_day = local(starts_at) - dt.timedelta(days=1)
    if rules.min_listing.working:
        open_days = working_days_between(first_day.date(), local(ends_at).date())
    else:
        open_days = (local(ends_at).date() - first_day.date()).days
    if ends_at <= starts_at or open_days < rules.min_listing.days:
        raise DomainError(
            _("挂牌期不得少于%(period)s（现为 %(actual)d 个）。"),
            code="LISTING_TOO_SHORT",
            period=rules.min_listing.label(),
            actual=open_days,
        )
    check_not_on_holiday({_("挂牌截止时间"): ends_at}, rules)
    deposit_deadline = project.deposit_deadline or project.bid_deadline
    for deadline, label in (
        (project.documents_until, _("报名截止")),
        (deposit_deadline, _("保证金到账截止")),
    ):
        if deadline is None or deadline >= ends_at:
            raise DomainError(
                _("%(what)s时间必须早于挂牌截止时间。"), code="DEADLINE_AFTER_CLOSE", what=label
            )
    if project.bid_deadline and project.bid_deadline > ends_at:
        raise DomainError(
            _("竞买文件递交截止时间不得晚于挂牌截止时间。"), code="DEADLINE_AFTER_CLOSE"
        )


# --- The reserve (底价) ---------------------------------------------------------------------------------


def reserve_lock_time(listing: LandListing) -> dt.datetime:
    return listing.listing_ends_at - dt.timedelta(minutes=listing.reserve_lock_minutes)


def set_reserve(actor: Actor, listing: LandListing, amount: Any) -> LandListing:
    """The designated staff member keys in the reserve, once, before the lock time. It is sealed to the
    project key at once: nobody — this person included — can read it back before the outcome."""
    if actor.user is None or actor.user.pk != listing.reserve_staff_id:
        raise NotPermitted(_("只有指定的底价录入人可以录入底价。"))
    reserve = auctions.clean_amount(amount, _("底价"), money=False)
    with transaction.atomic():
        locked = LandListing.objects.select_for_update().get(pk=listing.pk)
        now = timezone.now()
        if locked.sealed_reserve is not None:
            raise Conflict(_("底价已录入，不可更改。"), code="RESERVE_LOCKED")
        if now >= reserve_lock_time(locked):
            raise Conflict(_("已过底价录入截止时间。"), code="RESERVE_TOO_LATE")
        sealed = crypto.seal_to(project_public_key(locked.lot.project), str(reserve).encode())
        locked.sealed_reserve = sealed
        locked.reserve_sha256 = sha256_hex(sealed)
        locked.reserve_set_at = now
        locked.save(update_fields=["sealed_reserve", "reserve_sha256", "reserve_set_at"])
        record(actor, "land.reserve.sealed", locked, {"sealed_sha256": locked.reserve_sha256})
    return locked


def _private_key(listing: LandListing, closing: Auction | None = None) -> PrivateKey:
    """The project key opens a listing's sealed values (reserve, lottery seed, offers) only once its
    price bidding is over: the listing auction has closed (at its end, or at the maximum price)."""
    # `closing`: the listing auction being closed in the caller's transaction (not saved yet).
    listing_auction = (
        closing
        if closing is not None and closing.phase == Auction.Phase.LISTING
        else _phase(listing, Auction.Phase.LISTING)
    )
    if listing_auction is None or not listing_auction.finished:
        raise EarlyAccessRefused(_("挂牌报价结束前任何人不得开启底价和密封报价。"))
    return project_private_key(listing.lot.project_id)


def _open_reserve(
    listing: LandListing, now: dt.datetime, closing: Auction | None = None
) -> Decimal | None:
    if listing.sealed_reserve is None:
        return None
    private = _private_key(listing, closing)
    listing.reserve = Decimal(crypto.open_outer(private, bytes(listing.sealed_reserve)).decode())
    return listing.reserve


# --- Closing the listing and live bidding ---------------------------------------------------------------


def _lock_listing(lot_id: int) -> LandListing:
    return LandListing.objects.select_for_update().select_related("lot__project").get(lot_id=lot_id)


def _set_stage(listing: LandListing, stage: str, ends_at: dt.datetime | None) -> None:
    listing.stage = stage
    listing.stage_ends_at = ends_at
    if ends_at is not None:
        schedule(ADVANCE_STEP, listing.pk, ends_at)


@auctions.on_close(Auction.Phase.LISTING)
def _listing_closed(
    auction: Auction, now: dt.datetime, batch: auctions.Batch, actor: Actor
) -> None:
    listing = _lock_listing(auction.lot_id)
    if listing.decided:
        return
    if auction.capped_at is not None:
        _enter_cap_mode(listing, auction, now, batch, actor)
    elif len(auction.results) >= 2:
        _set_stage(
            listing,
            LandListing.Stage.CONFIRMING,
            now + dt.timedelta(seconds=listing.confirm_seconds),
        )
        event = record(
            actor,
            "land.confirmation.opened",
            listing,
            {
                "bidders": [r["organization"] for r in auction.results],
                "until": listing.stage_ends_at,
            },
        )
        # Each listing bidder must say whether it takes part in the live bidding, or loses the right.
        notices.tell(
            "land.confirm_due",
            recipients.bidders_of(
                Organization.objects.filter(
                    pk__in=[r["organization"] for r in auction.results or []]
                )
            ),
            event,
            listing.lot,
            url=reverse("land_listing", args=[listing.pk]),
            params={"deadline": moment_text(listing.stage_ends_at)},
            due_at=listing.stage_ends_at,
        )
    else:
        _decide(listing, auction.results, now, actor, basis="listing", closing=auction)
    listing.save()


@auctions.on_close(Auction.Phase.LIVE)
def _live_closed(auction: Auction, now: dt.datetime, batch: auctions.Batch, actor: Actor) -> None:
    listing = _lock_listing(auction.lot_id)
    if listing.decided:
        return
    if auction.capped_at is not None:
        _enter_cap_mode(listing, auction, now, batch, actor)
    else:
        # No live bid leaves every seat at its listing price: the listing's highest then wins.
        _decide(listing, auction.results, now, actor, basis="live")
    listing.save()


def _phase(listing: LandListing, phase: str) -> Auction | None:
    return Auction.objects.filter(lot_id=listing.lot_id, phase=phase).first()


def bidders_of(listing: LandListing) -> list[AuctionParticipant]:
    """Everyone who placed a valid listing bid, with its best listing price."""
    auction = _phase(listing, Auction.Phase.LISTING)
    if auction is None:
        return []
    return list(
        auction.participants.exclude(alias="").filter(price__isnull=False).order_by("alias")
    )


def ensure_may_act(actor: Actor, listing: LandListing, act: str) -> None:
    """The integrity gate (`accounts.services.ensure_may_trade`) at a binding act of a listing bidder
    (answering a window, a sealed offer, signing the deal), read fresh at the act: a bidder barred or
    deactivated since it joined is refused with the gate's code, and the refusal is audited — in a
    transaction of its own, which the refusal does not roll back. (Bids are gated by the engine,
    `auction.services.place_bids`.) Call it before the act's own transaction. Only the
    organization's bid operators and administrators act for it (ORG_ROLE_REQUIRED)."""
    require_org_role(actor, OrgRole.BID_OPERATOR, OrgRole.ADMIN)
    organization = Organization.objects.get(pk=actor.organization.pk)
    try:
        ensure_may_trade(organization, timezone.now())
    except DomainError as refusal:
        with transaction.atomic():
            record(actor, "land.act_refused", listing, {"act": act, "code": refusal.code})
        raise


def respond(
    actor: Actor,
    listing: LandListing,
    *,
    kind: str,
    answer: bool,
    signed: Signed | None = None,
) -> LandResponse:
    """A listing bidder answers inside the window: continue to live bidding, or accept the cap.

    Confirming that it continues (kind `continue`, answer yes) is the binding act `land.confirm`
    (确认竞得资格: it commits the bidder to live bidding from the listing's highest price) and is
    signed; saying no binds it to nothing, so it needs no signature (any signature sent with it is
    ignored). Accepting the cap (`accept_cap`) has no act of its own in `signing.acts` and is not
    signed."""
    if kind not in LandResponse.Kind.values or not isinstance(answer, bool):
        raise DomainError(_("无效的答复。"), code="BAD_ANSWER")
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有竞买人可以答复。"))
    if answer:  # declining binds nobody to anything: a barred bidder may still say no
        ensure_may_act(actor, listing, f"respond:{kind}")
    expected = {
        LandResponse.Kind.CONTINUE: LandListing.Stage.CONFIRMING,
        LandResponse.Kind.ACCEPT_CAP: LandListing.Stage.CAP_ACCEPT,
    }[kind]
    advance(Actor.system("land"), listing.pk)
    with transaction.atomic():
        locked = _lock_listing(listing.lot_id)
        now = timezone.now()
        if locked.stage != expected or now >= locked.stage_ends_at:
            raise Conflict(_("现在不在答复时限内。"), code="WINDOW_CLOSED")
        if actor.organization.pk not in {s.organization_id for s in bidders_of(locked)}:
            raise NotPermitted(_("只有挂牌期内有效报价的竞买人可以答复。"))
        signature: dict[str, Any] = {}
        if kind == LandResponse.Kind.CONTINUE and answer:
            if locked.responses.filter(organization=actor.organization, kind=kind).exists():
                raise Conflict(_("您已答复，不可更改。"), code="ALREADY_ANSWERED")
            signature = signature_payload(
                require_signature(actor, "land.confirm", locked, signed=signed)
            )
        try:
            with transaction.atomic():
                response = LandResponse.objects.create(
                    listing=locked,
                    organization=actor.organization,
                    kind=kind,
                    answer=answer,
                    answered_at=now,
                )
        except IntegrityError:
            raise Conflict(_("您已答复，不可更改。"), code="ALREADY_ANSWERED") from None
        record(actor, "land.response", locked, {"kind": kind, "answer": answer, **signature})
    advance(Actor.system("land"), listing.pk)  # everyone has answered: no need to wait
    return response


def _all_answered(listing: LandListing, kind: str) -> bool:
    bidders = {s.organization_id for s in bidders_of(listing)}
    answered = set(listing.responses.filter(kind=kind).values_list("organization_id", flat=True))
    return bool(bidders) and bidders <= answered


def advance(actor: Actor, listing_id: int) -> None:
    """Start the listing, or end a window when its time is up (or everyone has answered). Idempotent:
    the clock and every answer call it."""
    with transaction.atomic():
        listing = (
            LandListing.objects.select_for_update()
            .select_related("lot__project")
            .filter(pk=listing_id)
            .first()
        )
        if listing is None or listing.decided:
            return
        now = timezone.now()
        if listing.stage == LandListing.Stage.SCHEDULED and now >= listing.listing_starts_at:
            listing.stage = LandListing.Stage.LISTING
            listing.save(update_fields=["stage"])
        if listing.stage_ends_at is None:
            return
        due = now >= listing.stage_ends_at
        if listing.stage == LandListing.Stage.CONFIRMING and (
            due or _all_answered(listing, LandResponse.Kind.CONTINUE)
        ):
            _after_confirming(listing, now, actor)
        elif listing.stage == LandListing.Stage.CAP_ACCEPT and (
            due or _all_answered(listing, LandResponse.Kind.ACCEPT_CAP)
        ):
            _after_lottery_window(listing, now, actor)
        elif listing.stage == LandListing.Stage.SEALED_OFFER and (
            due or listing.offers.count() >= len(bidders_of(listing))
        ):
            _after_offers(listing, now, actor)
        else:
            return
        listing.save()


def _after_confirming(listing: LandListing, now: dt.datetime, actor: Actor) -> None:
    continuing = set(
        listing.responses.filter(kind=LandResponse.Kind.CONTINUE, answer=True).values_list(
            "organization_id", flat=True
        )
    )
    bidders = bidders_of(listing)
    listing_auction = _phase(listing, Auction.Phase.LISTING)
    if len(continuing) < 2:
        record(actor, "land.confirmation.closed", listing, {"continuing": sorted(continuing)})
        _decide(listing, listing_auction.results, now, actor, basis="listing")
        return
    leader = bidders_of_rank(listing_auction)[0]
    seats = [
        {
            "organization": s.organization,
            "alias": s.alias,
            "price": s.price,
            "price_at": s.price_at,
            "may_bid": s.organization_id in continuing,
        }
        for s in bidders
        if s.organization_id in continuing or s.alias == leader
    ]
    batch = auctions.Batch()
    live = auctions.open_phase(
        actor,
        listing.lot,
        phase=Auction.Phase.LIVE,
        created_by=listing.created_by,
        starts_at=now,
        duration_seconds=listing.live_seconds,
        start_price=listing_auction.best_price,
        step=listing.increment,
        batch=batch,
        seats=seats,
        best_alias=leader,
        direction=Auction.Direction.ASCENDING,
        # The countdown restarts on every bid: any bid within the countdown moves the end to now + it.
        extension_window_seconds=listing.live_seconds,
        extension_seconds=listing.live_seconds,
        min_participants=1,
        max_price=listing.max_price,
        public_view=True,
    )
    _set_stage(listing, LandListing.Stage.LIVE, None)
    batch.audit.append(
        (
            actor,
            "land.live.started",
            listing,
            {"auction": live.pk, "continuing": sorted(continuing)},
        )
    )
    batch.finish([])
    broadcast.after_commit(batch.room_events())  # live bidding's `started`, once this commits


def bidders_of_rank(auction: Auction) -> list[str]:
    """Aliases in rank order (the engine's ranking: price, then time)."""
    return [r["alias"] for r in auction.results or auctions.results_of(auction)]


# --- The maximum price ---------------------------------------------------------------------------------


def _enter_cap_mode(
    listing: LandListing, auction: Auction, now: dt.datetime, batch: auctions.Batch, actor: Actor
) -> None:
    listing.capper = auction.best_participant.organization
    window = now + dt.timedelta(seconds=listing.cap_window_seconds)
    if listing.cap_mode == LandListing.CapMode.LOTTERY:
        seed, seed_hash = lottery.new_seed()
        listing.lottery = {"seed_hash": seed_hash, "sealed_seed": _seal_text(listing, seed)}
        _set_stage(listing, LandListing.Stage.CAP_ACCEPT, window)
        event = record(
            actor, "land.cap.lottery_opened", listing, {"seed_hash": seed_hash, "until": window}
        )
        # Whoever reached the cap is taken to accept it; every other listing bidder must say so in time.
        _tell_listing_bidders(
            "land.cap_accept_due",
            listing,
            event,
            due_at=window,
            exclude=listing.capper_id,
        )
    elif listing.cap_mode == LandListing.CapMode.SEALED_OFFER:
        _set_stage(listing, LandListing.Stage.SEALED_OFFER, window)
        event = record(actor, "land.cap.offers_opened", listing, {"until": window})
        _tell_listing_bidders("land.offer_due", listing, event, due_at=window)
    else:
        seats = [
            {
                "organization": s.organization,
                "alias": s.alias,
                "price": None,
                "price_at": None,
                "may_bid": True,
            }
            for s in bidders_of(listing)
        ]
        housing = auctions.open_phase(
            actor,
            listing.lot,
            phase=Auction.Phase.HOUSING,
            created_by=listing.created_by,
            starts_at=now,
            duration_seconds=listing.live_seconds,
            start_price=Decimal("0"),
            step=listing.housing_step,
            batch=batch,
            seats=seats,
            direction=Auction.Direction.ASCENDING,
            unit=Auction.Unit.SQUARE_METRE,
            extension_window_seconds=listing.live_seconds,
            extension_seconds=listing.live_seconds,
            min_participants=1,
            public_view=True,
        )
        _set_stage(listing, LandListing.Stage.HOUSING, None)
        event = record(actor, "land.cap.housing_opened", listing, {"auction": housing.pk})
        _tell_listing_bidders("land.housing_started", listing, event)


def _tell_listing_bidders(
    kind: str,
    listing: LandListing,
    event: AuditEvent,
    *,
    due_at: dt.datetime | None = None,
    exclude: int | None = None,
) -> None:
    """A window or room of the maximum price, to every listing bidder's bid operators: the deadline, and
    neither who reached the cap nor any price."""
    notices.tell(
        kind,
        recipients.bidders_of(
            Organization.objects.filter(
                pk__in=[
                    seat.organization_id
                    for seat in bidders_of(listing)
                    if seat.organization_id != exclude
                ]
            ).order_by("pk")
        ),
        event,
        listing.lot,
        url=reverse("land_listing", args=[listing.pk]),
        params={"deadline": moment_text(due_at)} if due_at is not None else None,
        due_at=due_at,
    )


def _seal_text(listing: LandListing, text: str) -> str:
    """The lottery seed is kept sealed to the project key until it is revealed (hex in JSON)."""
    return crypto.seal_to(project_public_key(listing.lot.project), text.encode()).hex()


def _after_lottery_window(listing: LandListing, now: dt.datetime, actor: Actor) -> None:
    accepted = set(
        listing.responses.filter(kind=LandResponse.Kind.ACCEPT_CAP, answer=True).values_list(
            "organization_id", flat=True
        )
    )
    # Whoever reached the cap bid it, so it is taken to accept it.
    accepted.add(listing.capper_id)
    private = _private_key(listing)
    seed = crypto.open_outer(private, bytes.fromhex(listing.lottery["sealed_seed"])).decode()
    drawn = lottery.draw(seed, listing.pk, sorted(accepted))
    listing.lottery = {**drawn, "drawn_at": auctions.iso(now)}
    record(actor, "land.cap.lottery_drawn", listing, drawn)
    _deal_or_not(listing, drawn["winner"], listing.max_price, now, actor, basis="lottery")


@auctions.on_close(Auction.Phase.HOUSING)
def _housing_closed(
    auction: Auction, now: dt.datetime, batch: auctions.Batch, actor: Actor
) -> None:
    listing = _lock_listing(auction.lot_id)
    if listing.decided:
        return
    if auction.results:
        top = auction.results[0]
        winner, area = top["organization"], Decimal(top["price"])
    else:
        winner, area = listing.capper_id, Decimal("0")  # nobody bid area: the first to the cap wins
    listing.housing_area = area
    _deal_or_not(listing, winner, listing.max_price, now, actor, basis="housing")
    listing.save()


def _offer_key(listing: LandListing) -> bytes:
    # A key per listing derived from the master key: equal prices give equal fingerprints inside one
    # listing only, and nobody without the master key can test a guess against a fingerprint.
    return hmac.new(
        bytes.fromhex(settings.BID_MASTER_KEY), f"land-offer:{listing.pk}".encode(), hashlib.sha256
    ).digest()


def submit_offer(actor: Actor, listing: LandListing, price: Any) -> LandSealedOffer:
    """一次性报价: once per bidder, inside the window, not below the maximum price (nor above the
    ceiling, if the listing sets one); an equal price to another bidder's is refused."""
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有竞买人可以报价。"))
    amount = R.parse_price(price) if isinstance(price, str) else None
    if amount is None:
        raise DomainError(_("报价必须是正数金额，最多两位小数。"), code="BAD_PRICE")
    ensure_may_act(actor, listing, "offer")
    advance(Actor.system("land"), listing.pk)
    with transaction.atomic():
        locked = _lock_listing(listing.lot_id)
        now = timezone.now()
        if locked.stage != LandListing.Stage.SEALED_OFFER or now >= locked.stage_ends_at:
            raise Conflict(_("现在不在一次性报价时限内。"), code="WINDOW_CLOSED")
        if actor.organization.pk not in {s.organization_id for s in bidders_of(locked)}:
            raise NotPermitted(_("只有挂牌期内有效报价的竞买人可以一次性报价。"))
        if amount < locked.max_price or (
            locked.offer_ceiling is not None and amount > locked.offer_ceiling
        ):
            raise DomainError(
                _("一次性报价须不低于最高限价%(ceiling)s。"),
                code="OFFER_OUT_OF_RANGE",
                ceiling=(
                    _("且不高于 %(c)s 元") % {"c": locked.offer_ceiling}
                    if locked.offer_ceiling
                    else ""
                ),
            )
        fingerprint = hmac.new(_offer_key(locked), str(amount).encode(), hashlib.sha256)
        sealed = crypto.seal_to(project_public_key(locked.lot.project), str(amount).encode())
        try:
            with transaction.atomic():
                offer = LandSealedOffer.objects.create(
                    listing=locked,
                    organization=actor.organization,
                    sealed=sealed,
                    fingerprint=fingerprint.hexdigest(),
                    submitted_at=now,
                )
        except IntegrityError:
            if LandSealedOffer.objects.filter(
                listing=locked, organization=actor.organization
            ).exists():
                raise Conflict(_("每家竞买人只能报价一次。"), code="ALREADY_OFFERED") from None
            raise Conflict(
                _("已有竞买人报出相同价格，请另行报价。"), code="DUPLICATE_PRICE"
            ) from None
        record(
            actor,
            "land.cap.offer_sealed",
            locked,
            {"sealed_sha256": sha256_hex(sealed)},
        )
    advance(Actor.system("land"), listing.pk)
    return offer


def nearest_to_average(offers: list[tuple[int, Decimal]]) -> tuple[int, Decimal, Decimal]:
    """(winner, its offer, the average): nearest the average of all offers; equal distance → the lower."""
    average = sum((price for _, price in offers), Decimal("0")) / len(offers)
    winner, price = min(offers, key=lambda o: (abs(o[1] - average), o[1]))
    return winner, price, average


def _after_offers(listing: LandListing, now: dt.datetime, actor: Actor) -> None:
    offers = list(listing.offers.order_by("pk"))
    if not offers:
        record(actor, "land.cap.offers_opened_none", listing, {})
        _deal_or_not(listing, listing.capper_id, listing.max_price, now, actor, basis="offers")
        return
    private = _private_key(listing)
    for offer in offers:
        offer.price = Decimal(crypto.open_outer(private, bytes(offer.sealed)).decode())
    LandSealedOffer.objects.bulk_update(offers, ["price"])
    winner, price, average = nearest_to_average([(o.organization_id, o.price) for o in offers])
    record(
        actor,
        "land.cap.offers_opened",
        listing,
        {
            "offers": {str(o.organization_id): o.price for o in offers},
            "average": str(average),
            "winner": winner,
        },
    )
    _deal_or_not(listing, winner, price, now, actor, basis="offers")


# --- The outcome -----------------------------------------------------------------------------------


def _decide(
    listing: LandListing,
    results: list[dict[str, Any]],
    now: dt.datetime,
    actor: Actor,
    *,
    basis: str,
    closing: Auction | None = None,
) -> None:
    """No cap reached: the highest bid (ties → the earlier, the engine's ranking) against the reserve."""
    if not results:
        _no_deal(listing, now, actor, _("挂牌期内无人报价。"), basis=basis, closing=closing)
        return
    top = results[0]
    _deal_or_not(
        listing,
        top["organization"],
        Decimal(top["price"]),
        now,
        actor,
        basis=basis,
        closing=closing,
    )


def _deal_or_not(
    listing: LandListing,
    winner_id: int,
    price: Decimal,
    now: dt.datetime,
    actor: Actor,
    *,
    basis: str,
    closing: Auction | None = None,
) -> None:
    """The reserve is opened and compared only here, at the very end."""
    reserve = _open_reserve(listing, now, closing)
    if reserve is not None and price < reserve:
        _no_deal(listing, now, actor, _("最高报价低于底价。"), basis=basis, price=price)
        return
    winner = Organization.objects.get(pk=winner_id)
    listing.stage = LandListing.Stage.DEAL
    listing.stage_ends_at = None
    listing.winner = winner
    listing.final_price = price
    listing.decided_at = now
    listing.outcome_reason = ""
    project = listing.lot.project
    area = f"，配建保障性住房 {listing.housing_area} 平方米" if listing.housing_area else ""
    publish_version(
        actor,
        project,
        Announcement.Kind.DEAL,
        title=f"{project.title}{Announcement.Kind.DEAL.label}",
        body=(
            f"宗地编号 {listing.parcel_number}（{listing.location}），竞得人：{winner.name}，"
            f"成交价 {price} 元{area}。"
        ),
        reason=str(_("挂牌出让成交")),
        extra={
            "parcel": listing.parcel_number,
            "winner": winner.name,
            "price": str(price),
            "housing_area": str(listing.housing_area) if listing.housing_area else None,
            "basis": basis,
        },
    )
    event = record(
        actor,
        "land.deal",
        listing,
        {
            "winner": winner.pk,
            "price": price,
            "reserve": reserve,
            "housing_area": listing.housing_area,
            "basis": basis,
        },
    )
    _tell_result(listing, event)
    # The winner (only) signs the 成交确认书: a right that lapses if it does not.
    notices.tell(
        "land.deal_due",
        recipients.bidders(winner),
        event,
        listing.lot,
        url=reverse("land_listing", args=[listing.pk]),
        params={"price": str(price)},
    )
    refund_losers_on_land_deal(actor, listing.lot, winner, now)
    detectors.rotation(
        actor,
        project_id=project.pk,
        winner=winner.pk,
        losers={s.organization_id for s in bidders_of(listing)} - {winner.pk},
        past_wins=past_wins(winner.pk),
    )


def _no_deal(
    listing: LandListing,
    now: dt.datetime,
    actor: Actor,
    reason: Any,
    *,
    basis: str,
    price: Decimal | None = None,
    closing: Auction | None = None,
) -> None:
    reserve = (
        listing.reserve if listing.reserve is not None else _open_reserve(listing, now, closing)
    )
    listing.stage = LandListing.Stage.NO_DEAL
    listing.stage_ends_at = None
    listing.outcome_reason = str(reason)
    listing.decided_at = now
    project = listing.lot.project
    publish_version(
        actor,
        project,
        Announcement.Kind.RESULT,
        title=f"{project.title}流拍公告",
        body=f"宗地编号 {listing.parcel_number}（{listing.location}）流拍：{reason}",
        reason=str(_("挂牌出让流拍")),
        extra={"parcel": listing.parcel_number, "reason": str(reason)},
    )
    event = record(
        actor,
        "land.no_deal",
        listing,
        {"reason": str(reason), "highest": price, "reserve": reserve, "basis": basis},
    )
    _tell_result(listing, event)
    refund_on_failed_lot(actor, listing.lot, now)


def _tell_result(listing: LandListing, event: AuditEvent) -> None:
    """Every listing bidder and the agent: the result is published (the announcement names the winner
    and price; the notice names nobody)."""
    notices.tell(
        "land.result",
        [
            *recipients.bidders_of(
                Organization.objects.filter(
                    pk__in=[seat.organization_id for seat in bidders_of(listing)]
                )
            ),
            *notices.agent_users(listing.lot),
        ],
        event,
        listing.lot,
        url=reverse("land_listing", args=[listing.pk]),
    )


def confirmation_sha256(listing: LandListing) -> str:
    """The hash of the 成交确认书 as it stands (`land.pdf.confirmation_content`, the hash its PDF
    prints): unsigned, what the winner signs (act land.deal)."""
    return pdf.sha256(pdf.confirmation_content(listing))


def sign_confirmation(
    actor: Actor, listing: LandListing, *, signed: Signed | None = None
) -> LandListing:
    """The winner signs the 成交确认书 (act land.deal, over the hash of its content before signing —
    the hash the unsigned PDF prints): its deposit becomes 定金 and then part of the price."""
    if actor.organization is None or actor.organization.pk != listing.winner_id:
        raise NotPermitted(_("只有竞得人可以签署成交确认书。"))
    ensure_may_act(actor, listing, "sign_confirmation")
    with transaction.atomic():
        locked = _lock_listing(listing.lot_id)
        if locked.stage != LandListing.Stage.DEAL or locked.refused_at is not None:
            raise Conflict(_("当前状态不能签署成交确认书。"), code="WRONG_STATUS")
        if locked.confirmation_signed_at is not None:
            raise Conflict(_("成交确认书已签署。"), code="ALREADY_SIGNED")
        digest = confirmation_sha256(locked)
        signed_act = require_signature(actor, "land.deal", locked, digest=digest, signed=signed)
        locked.confirmation_signed_at = timezone.now()
        locked.save(update_fields=["confirmation_signed_at"])
        record(
            actor,
            "land.confirmation.signed",
            locked,
            {
                "price": locked.final_price,
                "confirmation_sha256": digest,
                **signature_payload(signed_act),
            },
        )
        system = Actor.system("land")
        for deposit in Deposit.objects.filter(
            lot_id=locked.lot_id,
            organization_id=locked.winner_id,
            status=Deposit.Status.HELD,
            form=Deposit.Form.CASH,
        ):
            apply_to_land_price(system, convert_to_earnest(system, deposit))
    return locked


def record_refusal(actor: Actor, listing: LandListing, *, reason: str) -> LandListing:
    """The winner refuses the 成交确认书 or the contract: no deal, its deposit is forfeited and it is
    barred through the integrity gate (`accounts.services.ensure_may_trade`)."""
    require_perm(actor, "deposits.forfeit_deposit")
    if not (reason or "").strip():
        raise DomainError(_("请说明放弃的事实。"), code="REASON_REQUIRED")
    with transaction.atomic():
        locked = _lock_listing(listing.lot_id)
        if locked.stage != LandListing.Stage.DEAL or locked.confirmation_signed_at is not None:
            raise Conflict(_("只有未签署成交确认书的成交可以记录放弃。"), code="WRONG_STATUS")
        now = timezone.now()
        locked.stage = LandListing.Stage.REFUSED
        locked.refused_at = now
        locked.outcome_reason = reason.strip()[:200]
        locked.save(update_fields=["stage", "refused_at", "outcome_reason"])
        event = record(
            actor, "land.refused", locked, {"winner": locked.winner_id, "reason": reason}
        )
        # The winner (its forfeiture is told to its finance users by deposits) and the agent.
        notices.tell(
            "land.refused",
            [*recipients.bidders(locked.winner), *notices.agent_users(locked.lot)],
            event,
            locked.lot,
            url=reverse("land_listing", args=[locked.pk]),
        )
        for deposit in Deposit.objects.filter(
            lot_id=locked.lot_id,
            organization_id=locked.winner_id,
            status__in=[Deposit.Status.HELD, Deposit.Status.REFUND_SCHEDULED],
        ):
            forfeit_deposit(
                actor, deposit, reason=Forfeiture.Reason.LAND_DEAL_REFUSED, note=reason.strip()
            )
        bar_organization(
            actor,
            locked.winner,
            category=IntegrityRecord.Category.LAND_DEFAULT,
            source=IntegrityRecord.Source.CENTER,
            reason=_("竞得后放弃（%(parcel)s）：%(reason)s")
            % {"parcel": locked.parcel_number, "reason": reason.strip()},
            barred_from=timezone.localdate(now),
            barred_until=None,
        )
    return locked


# --- Reading ----------------------------------------------------------------------------------------


def current_auction(listing: LandListing) -> Auction | None:
    """The room to watch now: housing-area bidding, live bidding, else the listing itself."""
    for phase in (Auction.Phase.HOUSING, Auction.Phase.LIVE, Auction.Phase.LISTING):
        auction = _phase(listing, phase)
        if auction is not None:
            return auction
    return None


def listing_state(actor: Actor, listing_id: int) -> dict[str, Any]:
    """What the listing page and the API show the caller. Public: the parcel, the rules, the stage and
    the result; a listing bidder also sees what it may do now; staff and supervisors also see the
    reserve once the outcome is decided."""
    listing = get_listing(listing_id)
    now = timezone.now()
    org = actor.organization if actor.role == Role.SUPPLIER else None
    bidder_orgs = {s.organization_id for s in bidders_of(listing)}
    room = current_auction(listing)
    listing_auction = _phase(listing, Auction.Phase.LISTING)
    answered = (
        dict(listing.responses.filter(organization=org).values_list("kind", "answer"))
        if org
        else {}
    )
    officials = actor.role in (Role.CENTER_STAFF, Role.SUPERVISOR)
    you = None
    if org is not None:
        in_window = listing.stage_ends_at is not None and now < listing.stage_ends_at
        is_bidder = org.pk in bidder_orgs
        you = {
            "eligibility": auctions.eligibility(listing.lot, org, now),
            "listing_bidder": is_bidder,
            "may_continue": is_bidder
            and in_window
            and listing.stage == LandListing.Stage.CONFIRMING
            and LandResponse.Kind.CONTINUE not in answered,
            "may_accept_cap": is_bidder
            and in_window
            and listing.stage == LandListing.Stage.CAP_ACCEPT
            and LandResponse.Kind.ACCEPT_CAP not in answered,
            "may_offer": is_bidder
            and in_window
            and listing.stage == LandListing.Stage.SEALED_OFFER
            and not listing.offers.filter(organization=org).exists(),
            "answers": answered,
            "is_winner": listing.winner_id == org.pk,
            "may_sign": listing.winner_id == org.pk
            and listing.stage == LandListing.Stage.DEAL
            and listing.confirmation_signed_at is None,
        }
        # What the winner signs (land.deal): the unsigned 成交确认书's hash.
        you["confirmation_sha256"] = confirmation_sha256(listing) if you["may_sign"] else None
    lottery_public = None
    if listing.lottery:
        lottery_public = {k: v for k, v in listing.lottery.items() if k != "sealed_seed"}
    return {
        "id": listing.pk,
        "project": listing.lot.project.title,
        "project_id": listing.lot.project_id,
        "lot": listing.lot_id,
        "parcel_number": listing.parcel_number,
        "location": listing.location,
        "area": str(listing.area),
        "land_use": listing.land_use,
        "land_use_label": listing.get_land_use_display(),
        "term_years": listing.term_years,
        "planning": listing.planning,
        "start_price": str(listing.start_price),
        "increment": str(listing.increment),
        "max_price": str(listing.max_price) if listing.max_price is not None else None,
        "cap_mode": listing.cap_mode,
        "cap_mode_label": listing.get_cap_mode_display() if listing.cap_mode else "",
        "deposit": str(listing.lot.deposit_amount),
        "deposit_currencies": listing.lot.deposit_currencies or ["CNY"],
        "listing_starts_at": auctions.iso(listing.listing_starts_at),
        "listing_ends_at": auctions.iso(listing.listing_ends_at),
        "registration_until": auctions.iso(listing.lot.project.documents_until),
        "deposit_until": auctions.iso(
            listing.lot.project.deposit_deadline or listing.lot.project.bid_deadline
        ),
        "reserve_set": listing.sealed_reserve is not None,
        "reserve_lock_at": auctions.iso(reserve_lock_time(listing)),
        "reserve": (
            str(listing.reserve)
            if officials and listing.decided and listing.reserve is not None
            else None
        ),
        "stage": listing.stage,
        "stage_label": listing.get_stage_display(),
        "stage_ends_at": auctions.iso(listing.stage_ends_at),
        "highest": (
            str(listing_auction.best_price)
            if listing_auction and listing_auction.best_price is not None
            else None
        ),
        "room": room.pk if room else None,
        "room_phase": room.phase if room else None,
        "lottery": lottery_public,
        "winner": listing.winner.name if listing.winner_id else None,
        "final_price": str(listing.final_price) if listing.final_price is not None else None,
        "housing_area": str(listing.housing_area) if listing.housing_area is not None else None,
        "outcome_reason": listing.outcome_reason,
        "decided_at": auctions.iso(listing.decided_at),
        "confirmation_signed_at": auctions.iso(listing.confirmation_signed_at),
        "you": you,
        "server_time": int(now.timestamp() * 1000),
    }
