"""Who may see which part of a lot's bidding: the lookups shared by the pages, the API and the PDFs.

The issue's rule — bidders see only their own bids; agents see prices only after the opening; supervisors
see everything after the opening; the public sees the opening record and the results — as functions:

| what | who | when |
|---|---|---|
| a bid (status, hashes, receipt) | its own organization | always (its price once it decrypted it) |
| a bid with its price | the project's agent, center staff, supervisors | once the record is published |
| how many bids arrived | the project's agent, center staff, supervisors | always — a count, never a name |
| decryption progress | the project's agent, center staff, supervisors | during the opening |
| the opening record | anyone | once published (opened or failed) |
| the evaluation, every score | center staff, supervisors | from the start of evaluation |
| the evaluation | a committee member | while it runs and until they sign |
| the evaluation report (page, API, PDF) | center staff, supervisors | once compiled |
| the evaluation report (page, API, PDF) | a committee member | while it awaits signatures |
| the evaluation report (page, API, PDF) | the project's agent | once every member signed |
| candidate publicity, the award | anyone | once published |
| the award notice (中标通知书) | the winner, the project's agent, center staff, supervisors | once issued |

A lot of a project the user may not see, and an object the user may not see, answer 404 (NotFound);
an action on a visible object by someone not allowed is refused by the service (403).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm
from bidding import services
from bidding.models import Bid, Evaluation, EvaluationMember, Opening, Publicity
from lib.errors import DomainError, NotFound
from trading.models import Lot, Project
from trading.rules import SEALED_METHODS

ANNOUNCED = (Project.Status.PUBLISHED, Project.Status.TERMINATED)
RECORDED = (Opening.Stage.OPENED, Opening.Stage.FAILED)
# Sealed bids and an electronic opening: the procedures the clock opens (trading.services).
SEALED_KINDS = (Project.Kind.CONSTRUCTION, Project.Kind.GOVERNMENT_PROCUREMENT)


def uses_sealed_bids(project: Project) -> bool:
    return project.kind in SEALED_KINDS and project.method in SEALED_METHODS


# --- Roles on a project ---------------------------------------------------------------------------


def is_agent(user: Any, project: Project) -> bool:
    """The project's own agent (招标代理): it manages the project."""
    return has_perm(user, "trading.manage_project", project)


def is_staff(user: Any) -> bool:
    return has_perm(user, "bidding.run_evaluation")


def is_supervisor(user: Any) -> bool:
    return getattr(user, "role", "") == Role.SUPERVISOR and has_perm(user, "bidding.view_bid")


def oversees(user: Any, project: Project) -> bool:
    """Sees counts before the deadline, the opening's progress and every bid once the record is out:
    the project's agent, center staff and supervisors."""
    return is_agent(user, project) or has_perm(user, "bidding.view_opening")


def organization_id(user: Any) -> int | None:
    if user is None or not user.is_authenticated or user.role != Role.SUPPLIER:
        return None
    return user.organization_id


# --- Lookups --------------------------------------------------------------------------------------


def lot_for(user: Any, pk: int) -> Lot:
    lot = (
        Lot.objects.select_related("project", "project__owner", "project__agent")
        .filter(pk=pk)
        .first()
    )
    if lot is None or not (
        lot.project.status in ANNOUNCED or has_perm(user, "trading.view_project", lot.project)
    ):
        raise NotFound(_("未找到该标段。"))
    return lot


def opening_of(lot: Lot) -> Opening | None:
    return Opening.objects.filter(lot=lot).first()


def published_record(lot: Lot) -> Opening:
    """The opening whose record is public (opened or failed), or 404."""
    opening = opening_of(lot)
    if opening is None or opening.stage not in RECORDED:
        raise NotFound(_("开标记录尚未公布。"))
    return opening


def record_is_published(lot: Lot) -> bool:
    return Opening.objects.filter(lot=lot, stage__in=RECORDED).exists()


def own_bid(user: Any, lot: Lot) -> Bid | None:
    org = organization_id(user)
    if org is None:
        return None
    return Bid.objects.filter(lot=lot, organization_id=org).prefetch_related("files").first()


def may_see_bid(user: Any, bid: Bid) -> bool:
    if organization_id(user) == bid.organization_id:
        return True
    return oversees(user, bid.lot.project) and record_is_published(bid.lot)


def bid_for(user: Any, pk: int) -> Bid:
    bid = (
        Bid.objects.select_related("lot", "lot__project", "organization")
        .prefetch_related("files")
        .filter(pk=pk)
        .first()
    )
    if bid is None or not may_see_bid(user, bid):
        raise NotFound(_("未找到该投标文件。"))
    return bid


def own_bid_for(user: Any, pk: int) -> Bid:
    """A bid the user's organization submitted (receipts are the bidder's own papers)."""
    bid = bid_for(user, pk)
    if organization_id(user) != bid.organization_id:
        raise NotFound(_("未找到该投标文件。"))
    return bid


def bids_count(lot: Lot) -> int:
    """Bids standing for the opening: submitted and not withdrawn. A number, never who."""
    return Bid.objects.filter(lot=lot).exclude(status=Bid.Status.WITHDRAWN).count()


def progress(lot: Lot) -> dict[str, int]:
    counts = dict.fromkeys(Bid.Status.values, 0)
    for status in Bid.objects.filter(lot=lot).values_list("status", flat=True):
        counts[status] += 1
    return {
        "awaiting": counts[Bid.Status.AWAITING_DECRYPTION],
        "decrypted": counts[Bid.Status.DECRYPTED],
        "failed": counts[Bid.Status.FAILED_BIDDER] + counts[Bid.Status.FAILED_PLATFORM],
    }


def member_of(user: Any, evaluation: Evaluation | None) -> EvaluationMember | None:
    if evaluation is None or user is None or not user.is_authenticated:
        return None
    return EvaluationMember.objects.filter(evaluation=evaluation, expert__user=user).first()


def may_see_evaluation(user: Any, evaluation: Evaluation) -> bool:
    if has_perm(user, "bidding.view_evaluation") or member_of(user, evaluation) is not None:
        return True
    return evaluation.status == Evaluation.Status.CONFIRMED and is_agent(
        user, evaluation.lot.project
    )


def evaluation_for(user: Any, lot: Lot) -> Evaluation:
    evaluation = Evaluation.objects.filter(lot=lot).select_related("draw").first()
    if evaluation is None or not may_see_evaluation(user, evaluation):
        raise NotFound(_("未找到该评标。"))
    return evaluation


def may_see_all_scores(user: Any) -> bool:
    return has_perm(user, "bidding.view_evaluation")


def may_see_report(user: Any, evaluation: Evaluation) -> bool:
    """The compiled report (评标报告), a confidential document: center staff and supervisors; a member
    while it awaits the committee's signatures (a member's part ends with the signed report); the
    project's agent once every member signed."""
    if not evaluation.report:
        return False
    if may_see_all_scores(user):
        return True
    if member_of(user, evaluation) is not None:
        return evaluation.status == Evaluation.Status.REPORTED
    return evaluation.status == Evaluation.Status.CONFIRMED and is_agent(
        user, evaluation.lot.project
    )


def publicity_for(lot: Lot) -> Publicity:
    publicity = Publicity.objects.filter(lot=lot).select_related("winner").first()
    if publicity is None:
        raise NotFound(_("中标候选人尚未公示。"))
    return publicity


def awarded(publicity: Publicity) -> bool:
    return publicity.status in (Publicity.Status.AWARDED, Publicity.Status.CONTRACTED)


def may_see_award_notice(user: Any, publicity: Publicity) -> bool:
    if not awarded(publicity):
        return False
    if organization_id(user) == publicity.winner_id:
        return True
    return oversees(user, publicity.lot.project)


def winner_row(publicity: Publicity) -> dict[str, Any] | None:
    for candidate in publicity.candidates:
        if candidate["organization"] == publicity.winner_id:
            return candidate
    return None


# --- Catching up with the clock -------------------------------------------------------------------


def catch_up(lot: Lot, actor: Actor | None = None) -> Opening | None:
    """Run the opening's clock steps if they are overdue, before a bidder's decryption is handled.

    Only write paths call this (a decryption must meet the opening in its right stage even if the
    clock process is late); reads never do: pages and the API show `awaiting_opening` until the clock
    (bidding/tasks.py) opens the lot, so a visit never changes anything.
    Both services are idempotent and check the time themselves; this only avoids calling them early
    (an early call would be recorded as an attempt to open bids before the deadline). A suspended or
    terminated tender is simply not opened.
    """
    project = lot.project
    opening = opening_of(lot)
    now = timezone.now()
    if (
        not uses_sealed_bids(project)
        or project.bid_deadline is None
        or now < project.bid_deadline
        or (opening is not None and opening.stage != Opening.Stage.DECRYPTING)
    ):
        return opening
    actor = actor or Actor.system("catch_up")
    try:
        if opening is None:
            if project.status != Project.Status.PUBLISHED:
                return None
            opening = services.open_lot(actor, lot)
        if opening.stage == Opening.Stage.DECRYPTING and now > opening.decryption_until:
            opening = services.finish_opening(actor, lot)
    except DomainError:
        # EarlyAccessRefused (the deadline moved meanwhile), Conflict (suspended, terminated): the
        # clock comes back when it is due.
        return opening_of(lot)
    return opening


def stage_of(lot: Lot, opening: Opening | None = None) -> str:
    """Where the lot stands, one word for pages and the API."""
    project = lot.project
    publicity = Publicity.objects.filter(lot=lot).first()
    if publicity is not None:
        return publicity.status
    evaluation = Evaluation.objects.filter(lot=lot).first()
    if evaluation is not None:
        return f"evaluation_{evaluation.status}"
    opening = opening or opening_of(lot)
    if opening is not None:
        return opening.stage
    if project.status == Project.Status.TERMINATED:
        return "terminated"
    if project.bid_deadline is not None and timezone.now() >= project.bid_deadline:
        return "awaiting_opening"
    return "bidding"


STAGE_LABELS = {
    "bidding": _("投标中"),
    "awaiting_opening": _("待开标"),
    "terminated": _("已终止"),
    Opening.Stage.DECRYPTING: _("投标人解密中"),
    Opening.Stage.OPENED: _("开标完成"),
    Opening.Stage.FAILED: _("流标"),
    "evaluation_" + Evaluation.Status.IN_PROGRESS: _("评标中"),
    "evaluation_" + Evaluation.Status.REPORTED: _("评标报告待签署"),
    "evaluation_" + Evaluation.Status.CONFIRMED: _("评标报告已签署"),
    Publicity.Status.PUBLIC: _("中标候选人公示"),
    Publicity.Status.AWARDED: _("已发中标通知书"),
    Publicity.Status.CONTRACTED: _("已签订合同"),
}
