"""To-do items of bidding (notifications.todo): sealed bids to submit, bids to decrypt, live rooms to
join, land windows to answer and deals to sign, awards to accept and contracts to sign for bidders; the
opening, evaluation, publicity, award and contract steps that wait for the agent; evaluation reports for
experts to sign. Registered from BiddingConfig.ready.

Nothing here reveals more than the recipient may see: items name the lot only, never another bidder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from bidding.evaluation import award_acceptance, result_due_at
from bidding.land.services import bidders_of
from bidding.models import (
    Auction,
    Bid,
    Evaluation,
    EvaluationMember,
    LandListing,
    LandResponse,
    Opening,
    OpeningResponse,
    Publicity,
    PublicityObjection,
)
from bidding.services import BIDDING_ROLES
from notifications.services import moment_text
from notifications.todo import (
    LEADS_DECRYPTION,
    LEADS_DEFAULT,
    LEADS_LIVE,
    LEADS_NONE,
    LEADS_SUBMISSION,
    Assigned,
    TodoItem,
    TodoQuery,
    register_source,
)
from trading.models import Lot, Project, Registration
from trading.rules import SEALED_METHODS

LIMIT = 50


def bids_to_submit(query: TodoQuery) -> Iterator[Assigned]:
    """Bid operators: a lot registered for, in a sealed-bid tender still open, with no standing bid."""
    if not query.role_is(Role.SUPPLIER):
        return
    standing = Bid.objects.filter(
        lot=OuterRef("lot"), organization=OuterRef("organization"), status=Bid.Status.SUBMITTED
    )
    rows = (
        Registration.objects.filter(
            project__status=Project.Status.PUBLISHED,
            project__method__in=SEALED_METHODS,
            project__bid_deadline__gt=query.now,
        )
        .exclude(Exists(standing))
        .select_related("lot__project", "organization")
    )
    if query.organization_id is not None:
        rows = rows.filter(organization_id=query.organization_id)
    for registration in query.dated(rows, "project__bid_deadline").order_by(
        "project__bid_deadline", "pk"
    )[:LIMIT]:
        people = query.people(registration.organization, *BIDDING_ROLES)
        if people:
            lot = registration.lot
            yield Assigned(
                TodoItem(
                    key=f"bid.submit:lot:{lot.pk}:org:{registration.organization_id}",
                    action=_("递交投标文件"),
                    subject=str(lot),
                    url=reverse("bid_form", args=[lot.pk]),
                    due_at=lot.project.bid_deadline,
                    legal=True,
                    leads=LEADS_SUBMISSION,
                    params=(("lot", str(lot)),),
                ),
                people,
            )


def bids_to_decrypt(query: TodoQuery) -> Iterator[Assigned]:
    """Bid operators: the opening has started and this bidder's bid waits for its decryption (a bid not
    decrypted by the deadline fails, and its deposit may be kept)."""
    if not query.role_is(Role.SUPPLIER):
        return
    rows = Bid.objects.filter(
        status=Bid.Status.AWAITING_DECRYPTION,
        lot__opening__stage=Opening.Stage.DECRYPTING,
        lot__opening__decryption_until__gt=query.now,
    ).select_related("lot__project", "lot__opening", "organization")
    if query.organization_id is not None:
        rows = rows.filter(organization_id=query.organization_id)
    for bid in query.dated(rows, "lot__opening__decryption_until").order_by("pk")[:LIMIT]:
        people = query.people(bid.organization, *BIDDING_ROLES)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"bid.decrypt:lot:{bid.lot_id}:org:{bid.organization_id}",
                    action=_("解密投标文件"),
                    subject=str(bid.lot),
                    url=reverse("bidding_opening", args=[bid.lot_id]),
                    due_at=bid.lot.opening.decryption_until,
                    legal=True,
                    leads=LEADS_DECRYPTION,
                    params=(("lot", str(bid.lot)),),
                ),
                people,
            )


def live_rooms(query: TodoQuery) -> Iterator[Assigned]:
    """Bid operators: an auction (电子反拍, registered bidders) or a land listing's 限时竞价 (those who
    confirmed) about to start or live: join the room. Reminded 30 and 5 minutes before the start."""
    if not query.role_is(Role.SUPPLIER):
        return
    rows = Auction.objects.filter(
        Q(status=Auction.Status.SCHEDULED, starts_at__gt=query.now) | Q(status=Auction.Status.LIVE),
        phase__in=(Auction.Phase.MAIN, Auction.Phase.LIVE),
    ).select_related("lot__project")
    if query.due_before is not None:
        rows = rows.filter(status=Auction.Status.SCHEDULED, starts_at__lt=query.due_before)
    if query.organization_id is not None:
        mine = Q(
            phase=Auction.Phase.MAIN,
            lot__registrations__organization_id=query.organization_id,
        ) | Q(
            phase=Auction.Phase.LIVE,
            lot__land_listing__responses__organization_id=query.organization_id,
            lot__land_listing__responses__kind=LandResponse.Kind.CONTINUE,
            lot__land_listing__responses__answer=True,
        )
        rows = rows.filter(mine).distinct()
    for auction in rows.order_by("starts_at", "pk")[:LIMIT]:
        land = auction.phase == Auction.Phase.LIVE
        if land:
            orgs = [
                r.organization
                for r in LandResponse.objects.filter(
                    listing__lot=auction.lot, kind=LandResponse.Kind.CONTINUE, answer=True
                ).select_related("organization")
            ]
        else:
            orgs = [
                r.organization for r in auction.lot.registrations.select_related("organization")
            ]
        people = [u for org in orgs for u in query.people(org, *BIDDING_ROLES)]
        if not people:
            continue
        scheduled = auction.status == Auction.Status.SCHEDULED
        yield Assigned(
            TodoItem(
                key=f"auction.join:{auction.pk}",
                action=_("参加限时竞价") if land else _("参加网上竞价"),
                subject=str(auction.lot),
                url=reverse("auction_room", args=[auction.pk]),
                due_at=auction.starts_at if scheduled else auction.ends_at,
                legal=True,
                reminder_kind="land.live_starting" if land else "auction.starting",
                leads=LEADS_LIVE if scheduled else LEADS_NONE,
                params=(("lot", str(auction.lot)), ("start", moment_text(auction.starts_at))),
            ),
            people,
        )


def land_windows(query: TodoQuery) -> Iterator[Assigned]:
    """Land bidders: answer the window (continue to 限时竞价, or accept the maximum price) before it
    closes; the winner: sign the 成交确认书 (no signing deadline is kept: undated)."""
    if not query.role_is(Role.SUPPLIER):
        return
    windows = {
        LandListing.Stage.CONFIRMING: (LandResponse.Kind.CONTINUE, _("确认是否参加限时竞价")),
        LandListing.Stage.CAP_ACCEPT: (LandResponse.Kind.ACCEPT_CAP, _("确认是否接受最高限价")),
    }
    rows = LandListing.objects.filter(
        stage__in=list(windows), stage_ends_at__gt=query.now
    ).select_related("lot__project")
    for listing in query.dated(rows, "stage_ends_at").order_by("stage_ends_at")[:LIMIT]:
        if listing.stage_ends_at is None:
            continue
        kind, action = windows[LandListing.Stage(listing.stage)]
        answered = set(
            listing.responses.filter(kind=kind).values_list("organization_id", flat=True)
        )
        people = [
            u
            for p in bidders_of(listing)
            if p.organization_id not in answered
            and (query.organization_id in (None, p.organization_id))
            for u in query.people(p.organization, *BIDDING_ROLES)
        ]
        if people:
            yield Assigned(
                TodoItem(
                    key=f"land.{kind}:{listing.pk}:{int(listing.stage_ends_at.timestamp())}",
                    action=action,
                    subject=str(listing.lot),
                    url=reverse("land_listing", args=[listing.pk]),
                    due_at=listing.stage_ends_at,
                    legal=True,
                    reminder_kind="land.confirm_due",
                    leads=LEADS_LIVE,
                    params=(("lot", str(listing.lot)),),
                ),
                people,
            )
    if query.due_before is not None:
        return
    deals = LandListing.objects.filter(
        stage=LandListing.Stage.DEAL, refused_at__isnull=True, confirmation_signed_at__isnull=True
    ).select_related("lot__project", "winner")
    if query.organization_id is not None:
        deals = deals.filter(winner_id=query.organization_id)
    for listing in deals.order_by("pk")[:LIMIT]:
        people = query.people(listing.winner, *BIDDING_ROLES)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"land.deal:{listing.pk}",
                    action=_("签署成交确认书"),
                    subject=str(listing.lot),
                    url=reverse("land_listing", args=[listing.pk]),
                    legal=True,
                    reminder_kind="land.deal_due",
                    leads=LEADS_NONE,
                ),
                people,
            )


def awards(query: TodoQuery) -> Iterator[Assigned]:
    """The winner: accept the award notice, and sign the contract by its due date (the agent records
    it); the agent: the contract to record."""
    if not query.role_is(Role.SUPPLIER, Role.AGENT):
        return
    rows = Publicity.objects.filter(
        status=Publicity.Status.AWARDED, contract_signed_at__isnull=True
    ).select_related("lot__project__agent", "winner")
    if query.organization_id is not None:
        rows = rows.filter(
            Q(winner_id=query.organization_id) | Q(lot__project__agent_id=query.organization_id)
        )
    for publicity in query.dated(rows, "contract_due_at").order_by("contract_due_at", "pk")[:LIMIT]:
        lot = publicity.lot
        winners = query.people(publicity.winner, *BIDDING_ROLES)
        if winners and award_acceptance(publicity) is None and query.due_before is None:
            yield Assigned(
                TodoItem(
                    key=f"award.accept:{publicity.pk}:{publicity.winner_id}",
                    action=_("接受中标通知书"),
                    subject=str(lot),
                    url=reverse("bidding_lot", args=[lot.pk]),
                    due_at=publicity.contract_due_at,
                    legal=True,
                    leads=LEADS_NONE,
                ),
                winners,
            )
        people = winners + query.people(lot.project.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"contract.sign:{publicity.pk}:{publicity.winner_id}",
                    action=_("签订合同"),
                    subject=str(lot),
                    url=reverse("bidding_lot", args=[lot.pk]),
                    due_at=publicity.contract_due_at,
                    legal=True,
                    reminder_kind="contract.due",
                    leads=LEADS_DEFAULT,
                    params=(("lot", str(lot)),),
                ),
                people,
            )


def _agent_lots(query: TodoQuery) -> Q:
    if query.organization_id is None:
        return Q()
    return Q(project__agent_id=query.organization_id)


def agent_steps(query: TodoQuery) -> Iterator[Assigned]:
    """The agent: the opening under way, bidders' objections to the opening record, the evaluation to
    organize, candidates to publish, objections in the publicity to answer (by their due date), and the
    award to issue once the publicity has ended."""
    if not query.role_is(Role.AGENT):
        return
    steps: list[tuple[str, Lot, str | Promise, str, dt.datetime | None]] = []
    lots = Lot.objects.filter(_agent_lots(query)).select_related("project__agent")
    if query.due_before is None:
        for lot in lots.filter(opening__stage=Opening.Stage.DECRYPTING)[:LIMIT]:
            steps.append(
                (
                    "opening.run",
                    lot,
                    _("主持开标（投标人解密中）"),
                    "bidding_opening",
                    lot.opening.decryption_until,
                )
            )
        waiting = OpeningResponse.objects.filter(
            opening__lot=OuterRef("pk"), confirmed=False, answered_at__isnull=True
        )
        for lot in lots.filter(Exists(waiting))[:LIMIT]:
            steps.append(("opening.answer", lot, _("答复开标异议"), "opening_record", None))
        no_evaluation = lots.filter(opening__stage=Opening.Stage.OPENED, evaluation__isnull=True)
        for lot in no_evaluation[:LIMIT]:
            steps.append(("evaluation.start", lot, _("组织评标"), "bidding_evaluation", None))
        for lot in lots.filter(
            publicity__status=Publicity.Status.PUBLIC, publicity__ends_at__lte=query.now
        )[:LIMIT]:
            steps.append(("award.issue", lot, _("发出中标通知书"), "bidding_lot", None))
    for key, lot, action, url_name, due in steps:
        people = query.people(lot.project.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"{key}:lot:{lot.pk}",
                    action=action,
                    subject=str(lot),
                    url=reverse(url_name, args=[lot.pk]),
                    due_at=due,
                    leads=LEADS_NONE,
                ),
                people,
            )
    # The result's publication has a legal deadline (rules.result_publication): dated and reminded.
    for lot in lots.filter(
        evaluation__status=Evaluation.Status.CONFIRMED, publicity__isnull=True
    ).select_related("evaluation")[:LIMIT]:
        due = result_due_at(lot.project, lot.evaluation)
        people = query.people(lot.project.agent)
        if people and (query.due_before is None or (due is not None and due < query.due_before)):
            yield Assigned(
                TodoItem(
                    key=f"publicity.publish:lot:{lot.pk}",
                    action=_("发布中标候选人公示"),
                    subject=str(lot),
                    url=reverse("bidding_lot", args=[lot.pk]),
                    due_at=due,
                    legal=True,
                ),
                people,
            )
    objections = PublicityObjection.objects.filter(replied_at__isnull=True).select_related(
        "publicity__lot__project__agent"
    )
    if query.organization_id is not None:
        objections = objections.filter(publicity__lot__project__agent_id=query.organization_id)
    for objection in query.dated(objections, "reply_due_at").order_by("reply_due_at")[:LIMIT]:
        lot = objection.publicity.lot
        people = query.people(lot.project.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"publicity.reply:{objection.pk}",
                    action=_("答复质疑"),
                    subject=str(lot),
                    url=reverse("bidding_lot", args=[lot.pk]),
                    due_at=objection.reply_due_at,
                    legal=True,
                ),
                people,
            )


def reports_to_sign(query: TodoQuery) -> Iterator[Assigned]:
    """Experts: the evaluation report to sign (or dissent from)."""
    if not query.role_is(Role.EXPERT):
        return
    rows = EvaluationMember.objects.filter(
        confirmed_at__isnull=True, evaluation__status=Evaluation.Status.REPORTED
    ).select_related("evaluation__lot__project", "expert__user")
    if query.user is not None:
        rows = rows.filter(expert__user=query.user)
    for member in query.dated(rows, "evaluation__due_at").order_by("evaluation__due_at")[:LIMIT]:
        people = query.person(member.expert.user)
        if people:
            lot = member.evaluation.lot
            yield Assigned(
                TodoItem(
                    key=f"evaluation.sign:{member.pk}",
                    action=_("签署评标报告"),
                    subject=str(lot),
                    url=reverse("bidding_evaluation", args=[lot.pk]),
                    due_at=member.evaluation.due_at,
                    legal=True,
                ),
                people,
            )


def register() -> None:
    for source in (
        bids_to_submit,
        bids_to_decrypt,
        live_rooms,
        land_windows,
        awards,
        agent_steps,
        reports_to_sign,
    ):
        register_source(source)
