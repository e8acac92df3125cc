"""An auction's result: the ranking, and handing it on to the award as the candidates' publicity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Organization
from accounts.permissions import require_perm
from audit.services import record
from bidding import notices
from bidding.auction import rules as R
from bidding.auction.batch import iso
from bidding.auction.participants import seats_of
from bidding.evaluation import MAX_CANDIDATES, publicity_ends_at
from bidding.models import Auction, AuctionParticipant, Publicity
from lib.errors import Conflict
from notifications.services import moment_text
from trading.models import Announcement, Project
from trading.services import lock_project, publish_version


def results_of(auction: Auction, names: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Every bidder's final price, ranked by price, then time (the earlier bid wins a tie)."""
    seats = [s for s in seats_of(auction) if s.price is not None]
    if names is None:
        names = dict(
            Organization.objects.filter(pk__in=[s.organization_id for s in seats]).values_list(
                "pk", "name"
            )
        )
    seats.sort(key=lambda s: _rank_key(auction, s))
    return [
        {
            "rank": rank,
            "alias": s.alias,
            "organization": s.organization_id,
            "bidder": names.get(s.organization_id, ""),
            "price": str(s.price),
            "at": iso(s.price_at),
        }
        for rank, s in enumerate(seats, start=1)
    ]


def _rank_key(auction: Auction, seat: AuctionParticipant) -> tuple[Any, ...]:
    """A priced seat's place: a seat's price and the time it reached it are written together."""
    at = cast(dt.datetime, seat.price_at)
    return R.rank_key(auction.direction, cast(Decimal, seat.price), at, seat.pk)


def publish_result(actor: Actor, auction: Auction) -> Publicity:
    """The agent publishes the auction's ranking as the 中标（成交）候选人公示; from there the award,
    contract and deposit refunds follow the tender's path (`bidding.evaluation`)."""
    require_perm(actor, "trading.manage_project", auction.lot.project)
    with transaction.atomic():
        project = lock_project(auction.lot.project_id)
        auction = Auction.objects.select_for_update().get(pk=auction.pk)
        if auction.status != Auction.Status.CLOSED:
            raise Conflict(_("竞价尚未成功结束。"), code="WRONG_STATUS")
        if Publicity.objects.filter(lot_id=auction.lot_id).exists():
            raise Conflict(_("已公示。"), code="ALREADY_PUBLISHED")
        now = timezone.now()
        candidates = candidates_of(auction)
        publicity = Publicity.objects.create(
            lot_id=auction.lot_id,
            candidates=candidates,
            published_at=now,
            ends_at=publicity_ends_at(project, now),
        )
        _announce_candidates(actor, project, auction, publicity)
        event = record(
            actor,
            "bidding.auction.result_published",
            auction,
            {"publicity": publicity.pk, "candidates": candidates},
        )
        notices.tell(
            "auction.result",
            [*notices.room_people(auction), *notices.agent_users(auction.lot)],
            event,
            auction.lot,
            url=reverse("auction_room", args=[auction.pk]),
            params={"deadline": moment_text(publicity.ends_at)},
        )
    return publicity


def candidates_of(auction: Auction) -> list[dict[str, Any]]:
    """The first `MAX_CANDIDATES` of the ranking, as the publicity lists candidates."""
    return [
        {
            "rank": r["rank"],
            "bidder": r["bidder"],
            "organization": r["organization"],
            "bid": None,
            "price": r["price"],
            "alias": r["alias"],
        }
        for r in (auction.results or [])[:MAX_CANDIDATES]
    ]


def _announce_candidates(
    actor: Actor, project: Project, auction: Auction, publicity: Publicity
) -> None:
    """The candidates' announcement, with the closing audit hash the ranking can be checked against."""
    candidates = publicity.candidates
    lines = [f"第{c['rank']}名：{c['bidder']}，最终报价 {c['price']} 元" for c in candidates]
    publish_version(
        actor,
        project,
        Announcement.Kind.CANDIDATES,
        title=f"{project.title}{Announcement.Kind.CANDIDATES.label}",
        body="\n".join(lines)
        + f"\n\n竞价结束时审计链哈希：{auction.closing_audit_hash}"
        + f"\n公示期至 {timezone.localtime(publicity.ends_at):%Y-%m-%d %H:%M}。",
        reason=str(_("网上竞价结果公示")),
        extra={
            "lot": auction.lot.number,
            "candidates": candidates,
            "auction": auction.pk,
            "closing_audit_hash": auction.closing_audit_hash,
        },
    )
