"""What the supervision workspace reads: projects by stage, the rooms live now, one project's record,
an auction's replay, alerts. Read-only: nothing here changes a row (starts, rounds, closes and land
windows are the clock's and the rooms' to run, never a reader's).

Supervisors see identities everywhere (as in the live room); center staff, who may open the dashboard
and the search, see the anonymous view of a live room (aliases only), as they do in the room itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Alert, AuditEvent
from audit.services import chain_state
from bidding.access import STAGE_LABELS, progress, uses_sealed_bids
from bidding.auction.services import timeline
from bidding.land.services import current_auction
from bidding.models import (
    Auction,
    AuctionParticipant,
    Bid,
    Evaluation,
    LandListing,
    Opening,
    Publicity,
)
from experts.models import DrawRequest
from supervision.evidence import project_filter
from trading.models import Lot, Project

# Land listing stages that are a live procedure (the listing period itself is its `listing` room).
LAND_LIVE_STAGES = (
    LandListing.Stage.CONFIRMING,
    LandListing.Stage.LIVE,
    LandListing.Stage.CAP_ACCEPT,
    LandListing.Stage.HOUSING,
    LandListing.Stage.SEALED_OFFER,
)
PAGE_SIZE = 100


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds") if value else None


def beijing_ms(value: str | dt.datetime | None) -> str:
    """Beijing server time to the millisecond: 2026-04-11 10:00:01.234."""
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"


# --- Stages --------------------------------------------------------------------------------------------


def stage_labels() -> dict[str, str]:
    """Every stage a project (the least advanced of its lots) can be in, in order, with its label in
    the active language."""
    labels: dict[str, str] = {
        Project.Status.DRAFT: str(Project.Status.DRAFT.label),
        Project.Status.SUBMITTED: str(Project.Status.SUBMITTED.label),
        Project.Status.RETURNED: str(Project.Status.RETURNED.label),
        Project.Status.APPROVED: str(Project.Status.APPROVED.label),
        "published": str(Project.Status.PUBLISHED.label),
        "bidding": str(STAGE_LABELS["bidding"]),
        "awaiting_opening": str(STAGE_LABELS["awaiting_opening"]),
        Opening.Stage.DECRYPTING: str(STAGE_LABELS[Opening.Stage.DECRYPTING]),
        Opening.Stage.OPENED: str(STAGE_LABELS[Opening.Stage.OPENED]),
    }
    for status in Evaluation.Status.values:
        labels[f"evaluation_{status}"] = str(STAGE_LABELS[f"evaluation_{status}"])
    labels["auction_pending"] = _("网上竞价待设置")
    labels["auction_scheduled"] = _("网上竞价待开始")
    labels["auction_live"] = _("网上竞价进行中")
    labels["auction_closed"] = _("网上竞价已结束")
    labels["land_pending"] = _("挂牌出让待设置")
    for stage, label in LandListing.Stage.choices:
        if stage not in (LandListing.Stage.DEAL, LandListing.Stage.NO_DEAL):
            labels[f"land_{stage}"] = _("挂牌出让：%(stage)s") % {"stage": label}
    for status in Publicity.Status.values:
        labels[status] = str(STAGE_LABELS[status])
    labels["land_deal"] = _("挂牌出让：%(stage)s") % {"stage": LandListing.Stage.DEAL.label}
    labels[Opening.Stage.FAILED] = str(STAGE_LABELS[Opening.Stage.FAILED])
    labels["auction_failed"] = _("网上竞价失败")
    labels["land_no_deal"] = _("挂牌出让：%(stage)s") % {"stage": LandListing.Stage.NO_DEAL.label}
    labels[Project.Status.TERMINATED] = str(Project.Status.TERMINATED.label)
    return labels


@dataclass
class _LotFacts:
    """What decides the lots' stages, read in one query per table for many projects."""

    publicity: dict[int, str] = field(default_factory=dict)
    evaluation: dict[int, str] = field(default_factory=dict)
    opening: dict[int, str] = field(default_factory=dict)
    auction: dict[int, str] = field(default_factory=dict)  # the main phase's status
    listing: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, lot_ids: Iterable[int]) -> _LotFacts:
        ids = list(lot_ids)
        return cls(
            publicity=dict(
                Publicity.objects.filter(lot_id__in=ids).values_list("lot_id", "status")
            ),
            evaluation=dict(
                Evaluation.objects.filter(lot_id__in=ids).values_list("lot_id", "status")
            ),
            opening=dict(Opening.objects.filter(lot_id__in=ids).values_list("lot_id", "stage")),
            auction=dict(
                Auction.objects.filter(lot_id__in=ids, phase=Auction.Phase.MAIN).values_list(
                    "lot_id", "status"
                )
            ),
            listing=dict(LandListing.objects.filter(lot_id__in=ids).values_list("lot_id", "stage")),
        )


def _lot_stage(project: Project, lot_id: int, facts: _LotFacts, now: dt.datetime) -> str:
    if project.status != Project.Status.PUBLISHED:
        return project.status
    if lot_id in facts.listing:
        stage = facts.listing[lot_id]
        return "land_no_deal" if stage == LandListing.Stage.REFUSED else f"land_{stage}"
    if lot_id in facts.publicity:
        return facts.publicity[lot_id]
    if lot_id in facts.auction:
        return f"auction_{facts.auction[lot_id]}"
    if lot_id in facts.evaluation:
        return f"evaluation_{facts.evaluation[lot_id]}"
    if lot_id in facts.opening:
        return facts.opening[lot_id]
    if project.method == Project.Method.REVERSE_AUCTION:
        return "auction_pending"
    if project.method == Project.Method.LAND_LISTING:
        return "land_pending"
    if uses_sealed_bids(project):
        deadline = project.bid_deadline
        return "awaiting_opening" if deadline is not None and now >= deadline else "bidding"
    return "published"


def project_stages(projects: list[Project]) -> dict[int, tuple[str, list[tuple[Lot, str]]]]:
    """Project id → (its stage: the least advanced of its lots, [(lot, the lot's stage)])."""
    order = {key: index for index, key in enumerate(stage_labels())}
    lots_by_project: dict[int, list[Lot]] = defaultdict(list)
    for lot in Lot.objects.filter(project__in=[p.pk for p in projects]).order_by("number"):
        lots_by_project[lot.project_id].append(lot)
    facts = _LotFacts.of(lot.pk for lots in lots_by_project.values() for lot in lots)
    now = timezone.now()
    out = {}
    for project in projects:
        lots = [
            (lot, _lot_stage(project, lot.pk, facts, now)) for lot in lots_by_project[project.pk]
        ]
        stage = (
            min((s for _lot, s in lots), key=lambda s: order.get(s, len(order)))
            if lots
            else (project.status if project.status != Project.Status.PUBLISHED else "published")
        )
        out[project.pk] = (stage, lots)
    return out


@dataclass
class ProjectBoard:
    counts: list[tuple[str, str, int]]  # (stage, label, projects) for every stage that has some
    rows: list[dict[str, Any]]
    total: int


def projects_by_stage(*, stage: str = "", kind: str = "", query: str = "") -> ProjectBoard:
    """Every project (of `kind`, matching `query` in its number or title) with its stage; the counts
    per stage; the rows of `stage` (all when empty), newest first."""
    matching = Project.objects.order_by("-created_at", "-pk")
    if kind in Project.Kind.values:
        matching = matching.filter(kind=kind)
    if query:
        matching = matching.filter(Q(number__icontains=query) | Q(title__icontains=query))
    projects = list(matching)
    stages = project_stages(projects)
    labels = stage_labels()
    tally: dict[str, int] = defaultdict(int)
    for project_stage, _lots in stages.values():
        tally[project_stage] += 1
    counts = [(key, label, tally[key]) for key, label in labels.items() if tally.get(key)]
    rows = []
    for project in projects:
        project_stage, lots = stages[project.pk]
        if stage and project_stage != stage:
            continue
        rows.append(
            {
                "project": project,
                "stage": project_stage,
                "stage_label": labels.get(project_stage, project_stage),
                "lots": [
                    {"lot": lot, "stage": s, "stage_label": labels.get(s, s)} for lot, s in lots
                ],
            }
        )
    return ProjectBoard(counts=counts, rows=rows, total=len(projects))


# --- The chain and the alerts ----------------------------------------------------------------------


def chain_status() -> dict[str, Any]:
    state = chain_state()  # the head and the last verification as of one moment
    checkpoint = state.checkpoint
    return {
        "head": {"seq": state.head_seq, "hash": state.head_hash},
        "checkpoint": (
            {
                "verified_at": _iso(checkpoint.verified_at),
                "verified_at_text": beijing_ms(checkpoint.verified_at)[:19],
                "seq": checkpoint.seq,
                "hash": checkpoint.hash,
                "ok": checkpoint.ok,
                "detail": checkpoint.detail,
            }
            if checkpoint
            else None
        ),
    }


def open_alerts() -> int:
    return Alert.objects.filter(handled_at__isnull=True).count()


def alerts_matching(
    *, kind: str = "", handled: bool | None = None, project_id: int | None = None
) -> QuerySet[Alert]:
    rows = Alert.objects.select_related("handled_by").order_by("-raised_at", "-pk")
    if kind:
        rows = rows.filter(kind=kind)
    if handled is not None:
        rows = rows.filter(handled_at__isnull=not handled)
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    return rows


# --- The rooms live now --------------------------------------------------------------------------------


def _project_ref(project: Project) -> dict[str, Any]:
    return {"id": project.pk, "number": project.number, "title": project.title}


def live_rooms(*, identities: bool) -> dict[str, Any]:
    """Every room live now, with its counters (the dashboard's JSON). `identities`: supervisors see
    who leads; everyone else the alias only."""
    now = timezone.now()
    auctions = []
    live = (
        Auction.objects.filter(status=Auction.Status.LIVE)
        .select_related("lot__project", "best_participant__organization")
        .annotate(seats=Count("participants", filter=~Q(participants__alias="")))
        .order_by("ends_at", "pk")
    )
    for a in live:
        best = a.best_participant
        auctions.append(
            {
                "id": a.pk,
                "project": _project_ref(a.lot.project),
                "lot": f"{a.lot.number}. {a.lot.name}",
                "phase": a.phase,
                "phase_label": a.get_phase_display(),
                "format_label": a.get_format_display(),
                "direction": a.direction,
                "unit": a.unit,
                "unit_label": a.get_unit_display(),
                "accepted": a.accepted_count,
                "rejected": a.rejected_count,
                "participants": a.seats,
                "best_price": str(a.best_price) if a.best_price is not None else None,
                "best_alias": best.alias if best else None,
                "best_name": best.organization.name if best and identities else None,
                "ends_at": _iso(a.ends_at),
                "extensions_used": a.extensions_used,
                "room_url": reverse("auction_room", args=[a.pk]),
            }
        )
    land = []
    for listing in (
        LandListing.objects.filter(stage__in=LAND_LIVE_STAGES)
        .select_related("lot__project")
        .order_by("stage_ends_at", "pk")
    ):
        room = current_auction(listing)
        land.append(
            {
                "id": listing.pk,
                "project": _project_ref(listing.lot.project),
                "parcel": listing.parcel_number,
                "stage": listing.stage,
                "stage_label": listing.get_stage_display(),
                "stage_ends_at": _iso(listing.stage_ends_at),
                "best_price": str(room.best_price) if room and room.best_price else None,
                "unit_label": room.get_unit_display() if room else "",
                "accepted": room.accepted_count if room else 0,
                "listing_url": reverse("land_listing", args=[listing.pk]),
                "room_url": reverse("auction_room", args=[room.pk]) if room else None,
            }
        )
    openings = []
    for opening in (
        Opening.objects.filter(stage=Opening.Stage.DECRYPTING)
        .select_related("lot__project")
        .order_by("decryption_until", "pk")
    ):
        counts = progress(opening.lot)
        openings.append(
            {
                "id": opening.pk,
                "project": _project_ref(opening.lot.project),
                "lot": f"{opening.lot.number}. {opening.lot.name}",
                "decryption_until": _iso(opening.decryption_until),
                "bids": Bid.objects.filter(lot=opening.lot)
                .exclude(status=Bid.Status.WITHDRAWN)
                .count(),
                **counts,
                "room_url": reverse("bidding_opening", args=[opening.lot_id]),
            }
        )
    draws = [
        {
            "id": d.pk,
            "project": _project_ref(d.project),
            "panel_label": d.get_panel_display(),
            "drawn_at": _iso(d.drawn_at),
            "evaluation_at": _iso(d.evaluation_at),
            "room_url": reverse("draw_detail", args=[d.pk]),
        }
        for d in DrawRequest.objects.filter(status=DrawRequest.Status.DRAWN)
        .select_related("project")
        .order_by("evaluation_at", "pk")
    ]
    return {
        "server_time": int(now.timestamp() * 1000),
        "identities": identities,
        "chain": chain_status(),
        "alerts_open": open_alerts(),
        "auctions": auctions,
        "land": land,
        "openings": openings,
        "draws": draws,
    }


# --- One project ---------------------------------------------------------------------------------------


def project_record(project: Project) -> dict[str, Any]:
    """The project's supervision page: its lots and stages, every auction phase, the land listing,
    openings, draws, alerts and the number of audit events about it."""
    labels = stage_labels()
    stage, lots = project_stages([project])[project.pk]
    auctions = list(
        Auction.objects.filter(lot__project=project)
        .select_related("lot", "best_participant__organization")
        .order_by("lot__number", "pk")
    )
    return {
        "stage": stage,
        "stage_label": labels.get(stage, stage),
        "lots": [{"lot": lot, "stage": s, "stage_label": labels.get(s, s)} for lot, s in lots],
        "auctions": auctions,
        "listings": list(
            LandListing.objects.filter(lot__project=project).select_related("lot", "winner")
        ),
        "openings": list(Opening.objects.filter(lot__project=project).select_related("lot")),
        "draws": list(DrawRequest.objects.filter(project=project).order_by("pk")),
        "alerts": list(alerts_matching(project_id=project.pk)),
        "events": AuditEvent.objects.filter(project_filter(project)).count(),
    }


# --- Replay --------------------------------------------------------------------------------------------


def _better(direction: str, price: Decimal, than: Decimal) -> bool:
    return price < than if direction == Auction.Direction.DESCENDING else price > than


def replay(auction: Auction) -> dict[str, Any]:
    """Every room event of a finished auction as a step: the server time (Beijing, ms), what happened,
    and the standing after it — the best price and who held it, the end time, the extensions used.
    Each step carries only what changed (`prices`: alias → price); the page accumulates them."""
    seats = AuctionParticipant.objects.filter(auction=auction).select_related("organization")
    names = {s.alias: s.organization.name for s in seats if s.alias}
    prices: dict[str, tuple[Decimal, str]] = {}  # alias → (price, at)
    ends_at: str | None = _iso(auction.starts_at + dt.timedelta(seconds=auction.duration_seconds))
    extensions = 0
    steps = []
    for event in timeline(auction):
        data = event.data
        kind = data.get("type", event.kind)
        changed: dict[str, str] = {}
        step: dict[str, Any] = {
            "seq": event.seq,
            "type": kind,
            "at": data.get("at") or _iso(event.at),
            "at_text": beijing_ms(data.get("at") or event.at),
        }
        if kind == "started":
            for p in data.get("participants", []):
                names.setdefault(p["alias"], (p.get("organization") or {}).get("name", ""))
                if p.get("price") is not None:
                    prices[p["alias"]] = (Decimal(p["price"]), p.get("price_at") or step["at"])
                    changed[p["alias"]] = p["price"]
            step["aliases"] = [p["alias"] for p in data.get("participants", [])]
        elif kind == "bid":
            alias = data["alias"]
            names.setdefault(alias, (data.get("organization") or {}).get("name", ""))
            prices[alias] = (Decimal(data["price"]), step["at"])
            changed[alias] = data["price"]
            step |= {"alias": alias, "name": names.get(alias, ""), "price": data["price"]}
        elif kind == "extended":
            extensions = data.get("extensions_used", extensions + 1)
            step["trigger_seq"] = data.get("trigger_seq")
        elif kind == "round":
            step["round"] = data.get("round")
            step["turns"] = [t["alias"] for t in data.get("turns", [])]
        elif kind == "closed":
            step["status"] = data.get("status")
            step["reason"] = data.get("reason", "")
            step["results"] = [
                {
                    "rank": r["rank"],
                    "alias": r["alias"],
                    "name": r.get("bidder") or names.get(r["alias"], ""),
                    "price": r["price"],
                }
                for r in data.get("results", [])
            ]
        ends_at = data.get("ends_at") or ends_at
        best = None
        for alias, (price, at) in prices.items():
            if (
                best is None
                or _better(auction.direction, price, best[1])
                or (price == best[1] and at < best[2])
            ):
                best = (alias, price, at)
        step |= {
            "prices": changed,
            "best_alias": best[0] if best else None,
            "best_name": names.get(best[0], "") if best else None,
            "best_price": str(best[1]) if best else None,
            "ends_at": ends_at,
            "ends_text": beijing_ms(ends_at),
            "extensions_used": extensions,
        }
        steps.append(step)
    return {
        "auction": {
            "id": auction.pk,
            "phase": auction.phase,
            "direction": auction.direction,
            "unit": auction.unit,
            "status": auction.status,
            "start_price": str(auction.start_price),
            "closing_audit_seq": auction.closing_audit_seq,
            "closing_audit_hash": auction.closing_audit_hash,
        },
        "names": names,
        "steps": steps,
    }
