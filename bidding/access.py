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
| 谈判/磋商 rounds | the project's agent, center staff, supervisors, panel members | as published |
| 谈判/磋商 rounds | a supplier whose first response was opened: those before it was put out | as published |
| who was put out, who is still in | center staff, supervisors; a supplier put out: that it is | always |
| whether a supplier gave its final quote, its receipt | that supplier only | always |
| final quotes with prices | the project's agent, center staff, supervisors, panel members | once opened |
| a final quote with its price | its own supplier | once opened (at the call's end) |

A lot of a project the user may not see, and an object the user may not see, answer 404 (NotFound);
an action on a visible object by someone not allowed is refused by the service (403).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Organization, Role
from accounts.permissions import has_perm
from bidding import negotiation, services
from bidding.models import (
    Bid,
    Evaluation,
    EvaluationMember,
    FinalQuote,
    FinalQuoteCall,
    NegotiationRound,
    Opening,
    Publicity,
)
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


# --- 竞争性谈判/磋商 after the opening --------------------------------------------------------------


def negotiating_organization(user: Any, lot: Lot) -> int | None:
    """The user's organization if its first response on the lot was opened (it negotiates, or did
    until it was put out)."""
    org = organization_id(user)
    if org is None:
        return None
    opened = Bid.objects.filter(lot=lot, organization_id=org, status=Bid.Status.DECRYPTED)
    return org if opened.exists() else None


def may_see_negotiation(user: Any, lot: Lot) -> bool:
    if not negotiation.uses_negotiation(lot.project):
        return False
    if oversees(user, lot.project) or negotiating_organization(user, lot) is not None:
        return True
    return member_of(user, Evaluation.objects.filter(lot=lot).first()) is not None


def negotiation_for(user: Any, lot: Lot) -> None:
    """404 unless the lot is negotiated and the user may follow its negotiation."""
    if not may_see_negotiation(user, lot):
        raise NotFound(_("未找到该谈判/磋商。"))


def sees_who_is_out(user: Any) -> bool:
    """Who was put out and who is still in: center staff (who run the rounds) and supervisors."""
    return is_staff(user) or is_supervisor(user)


def may_see_final_quotes(user: Any, lot: Lot) -> bool:
    """Every opened final quote with its price: as bids after the opening (the project's agent,
    center staff, supervisors), and the panel that judges by them."""
    if oversees(user, lot.project):
        return True
    return member_of(user, Evaluation.objects.filter(lot=lot).first()) is not None


def negotiation_stage(lot: Lot, call: FinalQuoteCall | None) -> str:
    """waiting (before the panel sits), negotiating, quoting (the call is out), opened."""
    if call is not None:
        return "opened" if call.opened_at is not None else "quoting"
    opening = opening_of(lot)
    evaluation = Evaluation.objects.filter(lot=lot).first()
    if (
        opening is not None
        and opening.stage == Opening.Stage.OPENED
        and evaluation is not None
        and evaluation.status == Evaluation.Status.IN_PROGRESS
    ):
        return "negotiating"
    return "waiting"


NEGOTIATION_STAGE_LABELS = {
    "waiting": _("等待谈判/磋商小组开始"),
    "negotiating": _("谈判/磋商中"),
    "quoting": _("最后报价中"),
    "opened": _("最后报价已开启"),
}


def negotiation_state(user: Any, lot: Lot) -> dict[str, Any]:
    """The negotiation as `user` may see it (call `negotiation_for` first). Before the call closes
    nobody learns another supplier's final-quote status or price; only center staff and supervisors
    learn who was put out; a supplier put out sees the rounds before the one that put it out."""
    project = lot.project
    org = negotiating_organization(user, lot)
    names = sees_who_is_out(user)
    rounds = list(NegotiationRound.objects.filter(lot=lot).order_by("number"))
    call = FinalQuoteCall.objects.filter(lot=lot).first()
    mentioned: set[int] = set()
    if names:
        for round_ in rounds:
            mentioned.update(int(pk) for pk in round_.excluded)
        mentioned.update(negotiation.still_in(lot))
        if call is not None:
            mentioned.update(int(pk) for pk in call.suppliers)
    orgs = Organization.objects.in_bulk(mentioned)
    you = None
    if org is not None:
        out_in = next((r.number for r in rounds if org in {int(pk) for pk in r.excluded}), None)
        rounds = [r for r in rounds if out_in is None or r.number < out_in]
        invited = call is not None and org in {int(pk) for pk in call.suppliers}
        you = {
            "organization": org,
            "still_in": out_in is None and (call is None or invited),
            "out_in_round": out_in,
        }
    state: dict[str, Any] = {
        "lot": lot,
        "method": project.method,
        "stage": negotiation_stage(lot, call),
        "server_time": timezone.now(),
        "rounds": [
            {
                "number": r.number,
                "changes": r.changes,
                "published_at": r.published_at,
                "excluded": [orgs[int(pk)] for pk in r.excluded if int(pk) in orgs]
                if names
                else None,
            }
            for r in rounds
        ],
        "still_in": [orgs[pk] for pk in negotiation.still_in(lot) if pk in orgs]
        if names and call is None
        else None,
        "you": you,
        "final_call": _final_call(user, lot, call, org, orgs if names else None),
    }
    return state


def _final_call(
    user: Any, lot: Lot, call: FinalQuoteCall | None, org: int | None, orgs: dict | None
) -> dict[str, Any] | None:
    if call is None:
        return None
    invited = [int(pk) for pk in call.suppliers]
    own = FinalQuote.objects.filter(call=call, organization_id=org).first() if org else None
    quotes = None
    if call.opened_at is not None:
        # Once opened: every quote for those who see prices after an opening, a supplier its own.
        rows = {q.organization_id: q for q in call.quotes.all()}
        shown = invited if may_see_final_quotes(user, lot) else [pk for pk in invited if pk == org]
        if shown or may_see_final_quotes(user, lot):
            named = Organization.objects.in_bulk(shown)
            quotes = [
                {
                    "organization": named[pk],
                    "quoted": pk in rows,
                    "price": rows[pk].price if pk in rows else None,
                    "submitted_at": rows[pk].submitted_at if pk in rows else None,
                    "sealed_sha256": rows[pk].sealed_sha256 if pk in rows else None,
                }
                for pk in shown
                if pk in named
            ]
    return {
        "called_at": call.called_at,
        "closes_at": call.closes_at,
        "opened_at": call.opened_at,
        "suppliers": [orgs[pk] for pk in invited if pk in orgs] if orgs is not None else None,
        "invited": (org in invited) if org is not None else None,
        "quoted": own is not None if org is not None else None,
        "receipt_sha256": own.sealed_sha256 if own is not None else None,
        "submitted_at": own.submitted_at if own is not None else None,
        "quotes": quotes,
    }


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
