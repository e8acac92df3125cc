"""评标, 中标候选人公示, 中标通知书 and the contract: the windows of 招标投标法 and its 条例.

| step | rule | where |
|---|---|---|
| mandatory rejection | over the ceiling; no valid deposit; barred (条例 Art.51) | `_mandatory_rejections` |
| candidates | at most 3, ranked | `_rank` |
| report | signed by every member, dissent recorded (条例 Art.53) | `confirm_report` |
| more time | > 1/3 of members ask → extended (条例 Art.48) | `request_more_time` |
| publicity | ≥ 3 days; objections inside; reply ≤ 3 days (GP 7 w.d.); suspended (Art.54) | `*candidate*` |
| contract | ≤ 30 days after the award notice (招标投标法 Art.46) | `issue_award`, `record_contract` |
| refusal to sign | deposit forfeitable; the next candidate may be awarded (条例 Art.74) | `record_refusal` |
| the winner accepts the award notice, signed (award.accept, over the notice's hash) | `accept_award` |

The periods come from `trading.rules` (`candidate_publicity`, `publicity_objection_reply`,
`contract_after_award`); each end that falls on a rest day moves to the next working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Organization, OrgRole, Role
from accounts.permissions import require_perm
from accounts.services import (
    OrganizationBarred,
    OrganizationInactive,
    ensure_may_trade,
    require_org_role,
)
from audit import detectors
from audit.models import AuditEvent
from audit.services import record
from bidding import notices
from bidding.award_notice import award_sha256
from bidding.history import past_wins
from bidding.models import (
    AuctionParticipant,
    Bid,
    Evaluation,
    EvaluationMember,
    Opening,
    Publicity,
    PublicityObjection,
    Score,
)
from bidding.negotiation import evaluated_prices
from bidding.signals import award_withdrawn
from clock.calendar import next_working_moment
from deposits.services import qualification, refund_losers_on_award, refund_on_contract_signed
from experts.models import DrawnExpert, DrawRequest
from experts.services import deviating_scores, disclose
from lib.canonical import canonical_sha256, canonical_value
from lib.errors import Conflict, DomainError, NotFound, NotPermitted, present
from notifications import recipients
from notifications.services import moment_text
from signing.services import Signed, require_signature, signature_payload
from trading.exceptions import TooLate
from trading.models import Announcement, Lot, Project
from trading.rules import deadline_after, evaluation_rule, rules_for
from trading.services import ensure_not_suspended, lock_project, publish_version

MAX_CANDIDATES = 3
POINTS = Decimal("0.01")


def publicity_ends_at(project: Project, published_at: dt.datetime) -> dt.datetime:
    """The end of a 中标候选人公示 published at `published_at` (条例 Art.54)."""
    rules = rules_for(project)
    return deadline_after(published_at, rules.candidate_publicity, rules)


def _check_method_scheme(project: Project, scheme: str, price_weight: Decimal) -> None:
    """The method's own law on how responses are judged (`trading.rules.EVALUATION_RULES`): 谈判 and
    询价 by the lowest compliant price, 磋商 by comprehensive scoring with the price weight in its
    category's range."""
    rule = evaluation_rule(project)
    if rule is None:
        return
    if scheme not in rule.schemes:
        raise DomainError(
            _("%(method)s应当采用%(schemes)s（%(law)s）。"),
            code="SCHEME_NOT_ALLOWED",
            method=project.get_method_display(),
            schemes="、".join(str(Evaluation.Scheme(s).label) for s in sorted(rule.schemes)),
            law=rule.law,
        )
    bounds = rule.price_weight.get(project.category)
    if bounds is not None and not bounds[0] <= price_weight <= bounds[1]:
        raise DomainError(
            _("价格分值占总分值的比重应在 %(low)s%% 至 %(high)s%% 之间（%(law)s）。"),
            code="PRICE_WEIGHT_OUT_OF_RANGE",
            low=int(bounds[0] * 100),
            high=int(bounds[1] * 100),
            law=rule.law,
        )


def result_due_at(project: Project, evaluation: Evaluation) -> dt.datetime | None:
    """When the result of a signed report must be published (`rules.result_publication`)."""
    if evaluation.confirmed_at is None:
        return None
    rules = rules_for(project)
    return deadline_after(evaluation.confirmed_at, rules.result_publication, rules)


def _lock_evaluation(lot: Lot) -> Evaluation:
    return Evaluation.objects.select_for_update().get(lot=lot)


def start_evaluation(
    actor: Actor,
    lot: Lot,
    *,
    draw: Any,
    scheme: str,
    price_weight: Decimal = Decimal("1"),
    hours: int = 8,
) -> Evaluation:
    """Seat the signed-off committee on an opened lot."""
    require_perm(actor, "bidding.run_evaluation")
    if scheme not in Evaluation.Scheme.values:
        raise DomainError(_("无效的评标办法。"), code="INVALID_SCHEME")
    if not isinstance(price_weight, Decimal) or not Decimal("0") < price_weight <= Decimal("1"):
        raise DomainError(_("价格权重须在 0 到 1 之间。"), code="INVALID_WEIGHT")
    _check_method_scheme(lot.project, scheme, price_weight)
    with transaction.atomic():
        lock_project(lot.project_id)
        ensure_not_suspended(lot.project)
        opening = Opening.objects.filter(lot=lot).first()
        if opening is None or opening.stage != Opening.Stage.OPENED:
            raise Conflict(_("开标尚未完成，不能评标。"), code="WRONG_STATUS")
        draw = DrawRequest.objects.get(pk=draw.pk)
        if draw.project_id != lot.project_id or draw.status != DrawRequest.Status.SIGNED_OFF:
            raise DomainError(_("须使用本项目经监督确认的专家抽取结果。"), code="DRAW_NOT_READY")
        if Evaluation.objects.filter(lot=lot).exists():
            raise Conflict(_("该标段已开始评标。"), code="ALREADY_STARTED")
        now = timezone.now()
        evaluation = Evaluation.objects.create(
            lot=lot,
            draw=draw,
            scheme=scheme,
            price_weight=price_weight if scheme == "comprehensive" else Decimal("1"),
            started_at=now,
            due_at=now + dt.timedelta(hours=hours),
        )
        seated = DrawnExpert.objects.filter(
            draw__in=[draw, *DrawRequest.objects.filter(replaces_in=draw)], seated=True
        )
        for drawn in seated:
            EvaluationMember.objects.create(evaluation=evaluation, expert=drawn.expert)
        event = record(
            actor,
            "bidding.evaluation.started",
            evaluation,
            {
                "lot": lot.pk,
                "draw": draw.pk,
                "scheme": scheme,
                "members": seated.count(),
                "due_at": evaluation.due_at,
            },
        )
        # The committee's experts only: bidders and the agent learn nothing of who evaluates.
        notices.tell(
            "evaluation.started",
            [
                drawn.expert.user
                for drawn in seated.select_related("expert__user")
                if drawn.expert.user is not None
            ],
            event,
            lot,
            url=reverse("bidding_evaluation", args=[lot.pk]),
            params={"when": moment_text(now), "deadline": moment_text(evaluation.due_at)},
            due_at=evaluation.due_at,
        )
    return evaluation


def _member_for(actor: Actor, evaluation: Evaluation) -> EvaluationMember:
    member = (
        EvaluationMember.objects.filter(evaluation=evaluation, expert__user=actor.user).first()
        if actor.user
        else None
    )
    if member is None:
        raise NotPermitted(_("您不是本标段评标委员会成员。"))
    return member


def visible_bids(actor: Actor, lot: Lot) -> list[Bid]:
    """Experts see the bids of their own assignment, and only while the evaluation runs."""
    evaluation = Evaluation.objects.filter(lot=lot).first()
    if evaluation is None or evaluation.status != Evaluation.Status.IN_PROGRESS:
        raise NotPermitted(_("评审未在进行中。"))
    _member_for(actor, evaluation)
    return list(Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED).order_by("pk"))


def score_bid(
    actor: Actor,
    bid: Bid,
    *,
    compliant: bool,
    technical_points: Decimal | None = None,
    rejection_reason: str = "",
) -> Score:
    with transaction.atomic():
        evaluation = _lock_evaluation(bid.lot)
        ensure_not_suspended(bid.lot.project)
        member = _member_for(actor, evaluation)
        now = timezone.now()
        if evaluation.status != Evaluation.Status.IN_PROGRESS or now > evaluation.due_at:
            raise TooLate(_("评审时间已过或评审已结束。"))
        if bid.status != Bid.Status.DECRYPTED:
            raise DomainError(_("该投标不在评审范围内。"), code="NOT_EVALUATED")
        if not compliant and not rejection_reason.strip():
            raise DomainError(_("否决投标须写明理由。"), code="REASON_REQUIRED")
        points_needed = evaluation.scheme == Evaluation.Scheme.COMPREHENSIVE and compliant
        points_ok = isinstance(technical_points, Decimal) and Decimal(
            "0"
        ) <= technical_points <= Decimal("100")
        if points_needed and not points_ok:
            raise DomainError(_("技术得分须在 0 到 100 之间。"), code="INVALID_POINTS")
        score, _created = Score.objects.update_or_create(
            member=member,
            bid=bid,
            defaults={
                "compliant": compliant,
                "technical_points": technical_points if compliant else None,
                "rejection_reason": rejection_reason.strip()[:200],
                "scored_at": now,
            },
        )
        record(
            actor,
            "bidding.evaluation.scored",
            score,
            {"bid": bid.pk, "compliant": compliant, "technical_points": technical_points},
        )
    return score


def request_more_time(actor: Actor, lot: Lot) -> Evaluation:
    """条例 Art.48: when more than a third of the members say the time is not enough, it is extended."""
    with transaction.atomic():
        evaluation = _lock_evaluation(lot)
        member = _member_for(actor, evaluation)
        if evaluation.status != Evaluation.Status.IN_PROGRESS:
            raise Conflict(_("评审已结束。"), code="WRONG_STATUS")
        member.wants_more_time = True
        member.save(update_fields=["wants_more_time"])
        record(actor, "bidding.evaluation.more_time_requested", evaluation, {"member": member.pk})
        total = evaluation.members.count()
        asking = evaluation.members.filter(wants_more_time=True).count()
        if not evaluation.extended and asking * 3 > total:
            evaluation.extended = True
            evaluation.due_at += dt.timedelta(hours=settings.EVALUATION_EXTENSION_HOURS)
            evaluation.save(update_fields=["extended", "due_at"])
            record(
                actor,
                "bidding.evaluation.extended",
                evaluation,
                {"asking": asking, "members": total, "due_at": evaluation.due_at},
            )
    return evaluation


def _mandatory_rejections(
    lot: Lot, bids: list[Bid], at: dt.datetime, prices: dict[int, Decimal]
) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for bid in bids:
        if lot.ceiling_price is not None and prices[bid.pk] > lot.ceiling_price:
            reasons[bid.pk] = str(_("报价高于最高投标限价"))
        elif not qualification(lot, bid.organization).qualified:
            reasons[bid.pk] = str(_("未按规定提交有效保证金"))
        else:
            try:
                ensure_may_trade(bid.organization, at)
            except (OrganizationBarred, OrganizationInactive):
                reasons[bid.pk] = str(_("投标人被限制参与交易"))
    return reasons


@dataclass
class _Ranked:
    """One compliant bid on its way to the ranking."""

    bid: Bid
    price: Decimal
    technical: Decimal
    total: Decimal = Decimal("0")


def _rank(
    evaluation: Evaluation, bids: list[Bid], rejected: dict[int, str], prices: dict[int, Decimal]
) -> list[dict[str, Any]]:
    """At most three candidates from the compliant bids, judged at `prices` (the decrypted price, or
    the final quote where the method has one). A framework's solicitation ranks every compliant
    response: its admission (`frameworks.services.conclude_agreement`) cuts the list, not the report."""
    members = list(evaluation.members.all())
    scores = {
        (s.member_id, s.bid_id): s for s in Score.objects.filter(member__evaluation=evaluation)
    }
    rows: list[_Ranked] = []
    for bid in bids:
        if bid.pk in rejected:
            continue
        member_scores = [scores.get((m.pk, bid.pk)) for m in members]
        if any(s is None for s in member_scores):
            raise DomainError(_("尚有成员未完成评分。"), code="SCORING_INCOMPLETE")
        # A bid a majority of members find non-compliant is rejected (the report carries each reason).
        noes = [s for s in member_scores if not s.compliant]
        if len(noes) * 2 > len(members):
            rejected[bid.pk] = "；".join(sorted({s.rejection_reason for s in noes}))
            continue
        technical = [
            s.technical_points
            for s in member_scores
            if s.compliant and s.technical_points is not None
        ]
        average = (sum(technical) / len(technical)) if technical else Decimal("0")
        rows.append(_Ranked(bid, prices[bid.pk], Decimal(average)))
    if not rows:
        return []
    ranks_everyone = evaluation.lot.project.method == "framework"
    lowest = min(row.price for row in rows)
    for row in rows:
        price_score = (
            (lowest / row.price * 100) if evaluation.scheme == "comprehensive" else Decimal("0")
        )
        row.total = (
            price_score * evaluation.price_weight + row.technical * (1 - evaluation.price_weight)
        ).quantize(POINTS, rounding=ROUND_HALF_UP)
    if evaluation.scheme == Evaluation.Scheme.LOWEST_PRICE:
        rows.sort(key=lambda r: (r.price, r.bid.submitted_at))
    else:
        rows.sort(key=lambda r: (-r.total, r.price, r.bid.submitted_at))
    return [
        {
            "rank": i,
            "bidder": r.bid.organization.name,
            "organization": r.bid.organization_id,
            "bid": r.bid.pk,
            "price": r.price,
            "technical": r.technical.quantize(POINTS),
            "total": r.total,
        }
        for i, r in enumerate(rows if ranks_everyone else rows[:MAX_CANDIDATES], start=1)
    ]


def compile_report(actor: Actor, lot: Lot) -> Evaluation:
    """Apply the mandatory rejections and the members' scores; rank at most three candidates."""
    require_perm(actor, "bidding.run_evaluation")
    with transaction.atomic():
        evaluation = _lock_evaluation(lot)
        ensure_not_suspended(lot.project)
        if evaluation.status != Evaluation.Status.IN_PROGRESS:
            raise Conflict(_("评标报告已生成。"), code="WRONG_STATUS")
        now = timezone.now()
        bids = list(
            Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED)
            .select_related("organization")
            .order_by("pk")
        )
        # 谈判/磋商 judge the final quotes; a supplier put out in a round or without one is out.
        prices: dict[int, Decimal] = {
            bid.pk: present(bid.price, "a decrypted price") for bid in bids
        }
        final = evaluated_prices(lot)
        out: dict[int, str] = {}
        if final is not None:
            out = {bid.pk: str(_("未进入或未提交最后报价")) for bid in bids if bid.pk not in final}
            prices.update(final)
        rejected = {
            **out,
            **_mandatory_rejections(lot, [b for b in bids if b.pk not in out], now, prices),
        }
        candidates = _rank(evaluation, bids, rejected, prices)
        evaluation.report = canonical_value(
            {
                "lot": lot.pk,
                "scheme": evaluation.scheme,
                "price_weight": evaluation.price_weight,
                "candidates": candidates,
                "rejected": [
                    {"bid": pk, "reason": reason} for pk, reason in sorted(rejected.items())
                ],
                "members": [m.expert_id for m in evaluation.members.order_by("pk")],
            }
        )
        evaluation.report_sha256 = canonical_sha256(evaluation.report)
        evaluation.status = Evaluation.Status.REPORTED
        evaluation.reported_at = now
        evaluation.save(update_fields=["report", "report_sha256", "status", "reported_at"])
        record(
            actor,
            "bidding.evaluation.reported",
            evaluation,
            {"report_sha256": evaluation.report_sha256},
        )
        scores: dict[int, dict[int, Decimal]] = {}
        for score in Score.objects.filter(
            member__evaluation=evaluation, compliant=True, technical_points__isnull=False
        ).select_related("member"):
            scores.setdefault(score.bid_id, {})[score.member.expert_id] = score.technical_points
        detectors.score_outliers(
            actor,
            project_id=lot.project_id,
            lot_id=lot.pk,
            scores=scores,
            outliers={bid: deviating_scores(by_member) for bid, by_member in scores.items()},
        )
    return evaluation


def confirm_report(
    actor: Actor, lot: Lot, *, dissent: str = "", signed: Signed | None = None
) -> EvaluationMember:
    """Each member signs; a dissent is recorded with the signature (条例 Art.53). The electronic
    signature is `evaluation.sign`, or `evaluation.dissent` with the dissent's text as sent
    (details `text`), over the report's hash (`Evaluation.report_sha256`, the SHA-256 of its
    canonical JSON that the report PDF prints)."""
    with transaction.atomic():
        evaluation = _lock_evaluation(lot)
        ensure_not_suspended(lot.project)
        member = _member_for(actor, evaluation)
        if evaluation.status != Evaluation.Status.REPORTED:
            raise Conflict(_("评标报告尚未生成或已签署完毕。"), code="WRONG_STATUS")
        if member.confirmed_at is not None:
            raise Conflict(_("您已签署。"), code="ALREADY_ANSWERED")
        dissents = bool(dissent.strip())
        signed_act = require_signature(
            actor,
            "evaluation.dissent" if dissents else "evaluation.sign",
            evaluation,
            digest=evaluation.report_sha256,
            details={"text": dissent} if dissents else None,
            signed=signed,
        )
        member.confirmed_at, member.dissent = timezone.now(), dissent.strip()
        member.save(update_fields=["confirmed_at", "dissent"])
        record(
            actor,
            "bidding.evaluation.signed",
            member,
            {
                "report_sha256": evaluation.report_sha256,
                "dissent": member.dissent,
                **signature_payload(signed_act),
            },
        )
        if not evaluation.members.filter(confirmed_at__isnull=True).exists():
            evaluation.status = Evaluation.Status.CONFIRMED
            evaluation.confirmed_at = member.confirmed_at
            evaluation.save(update_fields=["status", "confirmed_at"])
            record(
                actor,
                "bidding.evaluation.confirmed",
                evaluation,
                {"report_sha256": evaluation.report_sha256},
            )
    return member


# --- Publicity, award, contract ------------------------------------------------------------------


def publish_candidates(actor: Actor, lot: Lot) -> Publicity:
    """中标候选人公示 for at least 3 days (条例 Art.54)."""
    require_perm(actor, "trading.manage_project", lot.project)
    with transaction.atomic():
        project = lock_project(lot.project_id)
        ensure_not_suspended(project)
        evaluation = Evaluation.objects.filter(lot=lot).first()
        if evaluation is None or evaluation.status != Evaluation.Status.CONFIRMED:
            raise Conflict(_("评标报告尚未签署完毕。"), code="WRONG_STATUS")
        if project.method == "framework":
            # 110号令: the solicitation admits suppliers to the agreement; nobody is awarded here.
            raise Conflict(
                _("框架协议采购确定入围供应商，不公示中标候选人。"), code="FRAMEWORK_ADMISSION"
            )
        if not evaluation.report["candidates"]:
            raise Conflict(_("没有合格的中标候选人，应当依法重新招标。"), code="NO_CANDIDATES")
        if Publicity.objects.filter(lot=lot).exists():
            raise Conflict(_("已公示。"), code="ALREADY_PUBLISHED")
        now = timezone.now()
        due = result_due_at(project, evaluation)
        publicity = Publicity.objects.create(
            lot=lot,
            candidates=evaluation.report["candidates"],
            published_at=now,
            ends_at=publicity_ends_at(project, now),
        )
        lines = [
            f"第{c['rank']}名：{c['bidder']}，投标报价 {c['price']} 元"
            for c in publicity.candidates
        ]
        publish_version(
            actor,
            project,
            Announcement.Kind.CANDIDATES,
            title=f"{project.title}{Announcement.Kind.CANDIDATES.label}",
            body="\n".join(lines)
            + f"\n\n公示期至 {timezone.localtime(publicity.ends_at):%Y-%m-%d %H:%M}。",
            reason=str(_("中标候选人公示")),
            extra={"lot": lot.number, "candidates": publicity.candidates},
        )
        # Published late is still published; the chain says it was late, for the supervisors.
        event = record(
            actor,
            "bidding.publicity.published",
            publicity,
            {"ends_at": publicity.ends_at, "due_at": due, "late": due is not None and now > due},
        )
        notices.tell(
            "candidates.published",
            [
                *recipients.bidders_of(notices.bidding_organizations(lot)),
                *notices.agent_users(lot),
            ],
            event,
            lot,
            url=f"/projects/{project.pk}/",
            params={"deadline": moment_text(publicity.ends_at)},
        )
    return publicity


def _took_part(lot: Lot, organization: Any) -> bool:
    """A bidder of the lot: a sealed bid, or a seat in its live auction (电子反拍)."""
    if Bid.objects.filter(lot=lot, organization=organization).exists():
        return True
    return AuctionParticipant.objects.filter(auction__lot=lot, organization=organization).exists()


def object_to_candidates(actor: Actor, publicity: Publicity, *, text: str) -> PublicityObjection:
    """Objections are accepted only inside the publicity period; the publicity stands suspended until
    the reply, and its end moves by the suspension."""
    if actor.organization is None or not _took_part(publicity.lot, actor.organization):
        raise NotPermitted(_("只有本标段投标人可以对公示提出异议。"))
    if not text.strip():
        raise DomainError(_("异议内容不能为空。"), code="TEXT_REQUIRED")
    rules = rules_for(publicity.lot.project)
    with transaction.atomic():
        locked = Publicity.objects.select_for_update().get(pk=publicity.pk)
        now = timezone.now()
        if locked.status != Publicity.Status.PUBLIC or now > locked.ends_at:
            raise TooLate(_("异议须在公示期内提出。"))
        objection = PublicityObjection.objects.create(
            publicity=locked,
            organization=actor.organization,
            text=text.strip(),
            raised_at=now,
            reply_due_at=deadline_after(now, rules.publicity_objection_reply, rules),
        )
        event = record(
            actor,
            "bidding.publicity.objection",
            objection,
            {"text": objection.text, "reply_due_at": objection.reply_due_at},
        )
        # The agent must answer by a legal deadline; supervisors watch. Other bidders are not told who
        # objected.
        notices.tell(
            "objection.raised",
            [*notices.agent_users(locked.lot), *recipients.supervisors()],
            event,
            locked.lot,
            url=reverse("bidding_evaluation", args=[locked.lot_id]),
            params={
                "project": notices.lot_params(locked.lot)["lot"],
                "deadline": moment_text(objection.reply_due_at),
            },
            due_at=objection.reply_due_at,
        )
    return objection


def reply_candidate_objection(
    actor: Actor, objection: PublicityObjection, *, reply: str
) -> PublicityObjection:
    require_perm(actor, "trading.manage_project", objection.publicity.lot.project)
    if not reply.strip():
        raise DomainError(_("答复不能为空。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        publicity = Publicity.objects.select_for_update().get(pk=objection.publicity_id)
        locked = PublicityObjection.objects.select_for_update().get(pk=objection.pk)
        if locked.replied_at is not None:
            raise Conflict(_("已答复。"), code="ALREADY_ANSWERED")
        now = timezone.now()
        pending = publicity.objections.filter(replied_at__isnull=True).order_by("raised_at")
        suspended_since = pending.first().raised_at
        locked.reply, locked.replied_at = reply.strip(), now
        locked.save(update_fields=["reply", "replied_at"])
        if not publicity.objections.filter(replied_at__isnull=True).exists():
            moved = publicity.ends_at + (now - suspended_since)
            if rules_for(publicity.lot.project).deadline_on_working_day:
                moved = next_working_moment(moved)
            publicity.ends_at = moved
            publicity.save(update_fields=["ends_at"])
        event = record(
            actor,
            "bidding.publicity.objection_replied",
            locked,
            {"reply": locked.reply, "ends_at": publicity.ends_at},
        )
        notices.tell(
            "objection.answered",
            recipients.bidders(locked.organization),
            event,
            publicity.lot,
            url=reverse("bidding_evaluation", args=[publicity.lot_id]),
            params={"project": notices.lot_params(publicity.lot)["lot"]},
        )
    return locked


def issue_award(actor: Actor, lot: Lot) -> Publicity:
    """中标通知书 to the best candidate who has not refused, after the publicity ends with no objection
    open; the contract is due within 30 days."""
    require_perm(actor, "trading.manage_project", lot.project)
    with transaction.atomic():
        project = lock_project(lot.project_id)
        ensure_not_suspended(project)
        publicity = Publicity.objects.select_for_update().get(lot=lot)
        now = timezone.now()
        if publicity.status == Publicity.Status.CONTRACTED:
            raise Conflict(_("合同已签订。"), code="WRONG_STATUS")
        if now < publicity.ends_at:
            raise TooLate(_("公示期未满，不能发出中标通知书。"), code="PUBLICITY_RUNNING")
        if publicity.objections.filter(replied_at__isnull=True).exists():
            raise Conflict(_("有异议尚未答复，公示暂停。"), code="PUBLICITY_SUSPENDED")
        remaining = [c for c in publicity.candidates if c["organization"] not in publicity.refused]
        if not remaining:
            raise Conflict(_("候选人均已放弃，应当依法重新招标。"), code="NO_CANDIDATES")
        winner = remaining[0]
        publicity.winner_id = winner["organization"]
        publicity.status = Publicity.Status.AWARDED
        publicity.award_notice_at = now
        rules = rules_for(project)
        publicity.contract_due_at = deadline_after(now, rules.contract_after_award, rules)
        publicity.save(update_fields=["winner", "status", "award_notice_at", "contract_due_at"])
        body = f"第{lot.number}标段中标人：{winner['bidder']}，中标价 {winner['price']} 元。"
        experts = (
            _gp_result_experts(project, lot)
            if project.kind == Project.Kind.GOVERNMENT_PROCUREMENT
            else []
        )
        if experts:
            body += "\n评审专家：" + "、".join(experts) + "。"
        publish_version(
            actor,
            project,
            Announcement.Kind.RESULT,
            title=f"{project.title}{Announcement.Kind.RESULT.label}",
            body=body,
            reason=str(_("中标结果")),
            extra={
                "lot": lot.number,
                "winner": winner,
                **({"experts": experts} if experts else {}),
            },
        )
        event = record(
            actor,
            "bidding.award.issued",
            publicity,
            {"winner": winner, "contract_due_at": publicity.contract_due_at},
        )
        _tell_award(event, lot, publicity)
        detectors.rotation(
            actor,
            project_id=project.pk,
            winner=winner["organization"],
            losers={c["organization"] for c in publicity.candidates} - {winner["organization"]},
            past_wins=past_wins(winner["organization"]),
        )
        if project.kind == Project.Kind.GOVERNMENT_PROCUREMENT:
            refund_losers_on_award(actor, lot, publicity.winner, now)
    return publicity


def _gp_result_experts(project: Project, lot: Lot) -> list[str]:
    """A GP result notice names the evaluation panel (GP 条例 Art.43): the members who signed the
    report, in seat order. The result is fixed now, so the draw's names are disclosed with it
    (`experts.services.disclose`) and every read path that waited for the result shows them."""
    evaluation = Evaluation.objects.filter(lot=lot).select_related("draw").first()
    if evaluation is None:
        return []
    names = [
        member.expert.name for member in evaluation.members.select_related("expert").order_by("pk")
    ]
    draw = evaluation.draw
    if draw is not None and draw.status == DrawRequest.Status.SIGNED_OFF:
        disclose(Actor.system("bidding"), draw)
    return names


def _tell_award(event: AuditEvent, lot: Lot, publicity: Publicity) -> None:
    """The winner learns it won and when its contract is due (legal: with the agent); every other
    bidder learns that the result is published, and nothing of who won or at what price."""
    winner = publicity.winner
    due = publicity.contract_due_at
    others = [o for o in notices.bidding_organizations(lot) if winner is None or o.pk != winner.pk]
    page = reverse("bidding_lot", args=[lot.pk])
    notices.tell("award.won", recipients.bidders(winner), event, lot, url=page)
    notices.tell("award.notified", recipients.bidders_of(others), event, lot, url=page)
    notices.tell(
        "contract.due",
        [*recipients.bidders(winner), *notices.agent_users(lot)],
        event,
        lot,
        url=page,
        params={"deadline": moment_text(due)},
        due_at=due,
    )


def record_contract(actor: Actor, lot: Lot, *, signed_at: dt.datetime | None = None) -> Publicity:
    """The contract is signed: deposits are refunded (engineering: everyone with interest, within 5 days)."""
    require_perm(actor, "trading.manage_project", lot.project)
    with transaction.atomic():
        lock_project(lot.project_id)
        ensure_not_suspended(lot.project)
        publicity = Publicity.objects.select_for_update().get(lot=lot)
        if publicity.status != Publicity.Status.AWARDED:
            raise Conflict(_("尚未发出中标通知书。"), code="WRONG_STATUS")
        signed_at = signed_at or timezone.now()
        publicity.status = Publicity.Status.CONTRACTED
        publicity.contract_signed_at = signed_at
        publicity.save(update_fields=["status", "contract_signed_at"])
        late = signed_at > publicity.contract_due_at
        event = record(
            actor, "bidding.contract.signed", publicity, {"signed_at": signed_at, "late": late}
        )
        notices.tell(
            "contract.signed",
            [*recipients.bidders(publicity.winner), *notices.agent_users(lot)],
            event,
            lot,
            url=reverse("bidding_lot", args=[lot.pk]),
            params={"signed": moment_text(signed_at)},
        )
        refund_on_contract_signed(actor, lot, publicity.winner, signed_at)
    return publicity


def record_refusal(actor: Actor, lot: Lot, *, reason: str) -> Publicity:
    """The winner refuses to sign (条例 Art.74): its deposit becomes forfeitable (center staff decide the
    forfeiture) and the next candidate may be awarded."""
    require_perm(actor, "trading.manage_project", lot.project)
    if not reason.strip():
        raise DomainError(_("请说明拒签事实。"), code="REASON_REQUIRED")
    with transaction.atomic():
        publicity = Publicity.objects.select_for_update().get(lot=lot)
        if publicity.status != Publicity.Status.AWARDED:
            raise Conflict(_("尚未发出中标通知书。"), code="WRONG_STATUS")
        refused = publicity.winner_id
        refuser = publicity.winner
        publicity.refused = [*publicity.refused, refused]
        publicity.status = Publicity.Status.PUBLIC
        publicity.winner = None
        publicity.save(update_fields=["refused", "status", "winner"])
        event = record(
            actor,
            "bidding.award.refused",
            publicity,
            {"organization": refused, "reason": reason.strip(), "deposit_forfeitable": True},
        )
        award_withdrawn.send(
            Publicity, actor=actor, lot=lot, organization=refused, reason=reason.strip()
        )
        # The refuser learns what it costs; the agent that the award may go to the next candidate.
        # Neither notice names the refuser, a candidate or a price (the lot's page does, by its rules).
        page = reverse("bidding_lot", args=[lot.pk])
        notices.tell("award.refused", recipients.bidders(refuser), event, lot, url=page)
        notices.tell("award.reassign", notices.agent_users(lot), event, lot, url=page)
    return publicity


def annul_award(actor: Actor, lot: Lot, *, reason: str, source: str) -> Publicity:
    """The regulator's decision voids the result (中标/成交结果无效: 招标投标法 Art.64 and 条例
    Art.81; 政府采购法 Art.73): the awarded winner — or, during the publicity, the first remaining
    candidate — is struck, and the agent may award the next candidate or tender again (条例 Art.55).
    Its deposit is not forfeitable for it: the fault found need not be the bidder's. A signed
    contract is beyond this (CONTRACT_SIGNED): its fate is the courts' and the parties'."""
    require_perm(actor, "trading.suspend_project", lot.project)
    with transaction.atomic():
        lock_project(lot.project_id)
        publicity = Publicity.objects.select_for_update().filter(lot=lot).first()
        if publicity is None:
            raise Conflict(_("该标段尚无中标结果。"), code="NO_RESULT")
        if publicity.status == Publicity.Status.CONTRACTED:
            raise Conflict(
                _("合同已签订，中标结果无效的后续处理须依法另行进行。"), code="CONTRACT_SIGNED"
            )
        if publicity.status == Publicity.Status.AWARDED:
            struck = publicity.winner_id
        else:
            remaining = [
                c["organization"]
                for c in publicity.candidates
                if c["organization"] not in publicity.refused
            ]
            if not remaining:
                raise Conflict(_("候选人均已放弃，应当依法重新招标。"), code="NO_CANDIDATES")
            struck = remaining[0]
        struck_org = Organization.objects.get(pk=present(struck, "the struck organization"))
        publicity.refused = [*publicity.refused, struck]
        publicity.status = Publicity.Status.PUBLIC
        publicity.winner = None
        publicity.save(update_fields=["refused", "status", "winner"])
        event = record(
            actor,
            "bidding.award.annulled",
            publicity,
            {
                "organization": struck,
                "reason": reason,
                "source": source,
                "deposit_forfeitable": False,
            },
        )
        award_withdrawn.send(Publicity, actor=actor, lot=lot, organization=struck, reason=reason)
        page = reverse("bidding_lot", args=[lot.pk])
        notices.tell("award.annulled", recipients.bidders(struck_org), event, lot, url=page)
        notices.tell("award.reassign", notices.agent_users(lot), event, lot, url=page)
    return publicity


# --- The winner accepts the award (award.accept) -------------------------------------------------

AWARD_ACCEPTED = "bidding.award.accepted"


def award_notice_sha256(publicity: Publicity) -> str:
    """The hash the award notice (中标通知书) prints: what the winner signs when it accepts."""
    return award_sha256(publicity)


def award_acceptance(publicity: Publicity) -> AuditEvent | None:
    """The current winner's acceptance of the award notice (its audit event; the `signed_act` in
    the payload is the SignedAct), or None. A refused winner's acceptance is not the next one's."""
    if publicity.winner_id is None:
        return None
    return (
        AuditEvent.objects.filter(
            action=AWARD_ACCEPTED,
            object_type=Publicity._meta.label_lower,
            object_id=str(publicity.pk),
            organization_id=publicity.winner_id,
        )
        .order_by("-seq")
        .first()
    )


def accept_award(actor: Actor, target: Lot | Publicity, *, signed: Signed | None) -> Publicity:
    """The awarded organization accepts the award (接受中标结果), signing the award notice's hash.

    Only a user of the winner with the bid_operator or admin role (ORG_ROLE_REQUIRED), only while the
    notice stands and before the contract is recorded (NOT_AWARDED), once (ALREADY_ACCEPTED). It is
    kept as the SignedAct and the audit event `bidding.award.accepted`; the award's own rows do not
    change (a refusal recorded later still moves the award on, 条例 Art.74)."""
    lot_id = target.lot_id if isinstance(target, Publicity) else target.pk
    require_org_role(actor, OrgRole.BID_OPERATOR, OrgRole.ADMIN)
    organization = actor.organization
    if actor.role != Role.SUPPLIER or organization is None:
        raise NotPermitted(_("只有中标人可以接受中标结果。"))
    with transaction.atomic():
        publicity = (
            Publicity.objects.select_for_update(of=("self",))
            .select_related("lot__project__owner", "lot__project__agent", "winner")
            .filter(lot_id=lot_id)
            .first()
        )
        if publicity is None:
            raise NotFound(_("尚未发出中标通知书。"))
        if publicity.status != Publicity.Status.AWARDED:
            raise Conflict(_("当前没有待接受的中标通知书。"), code="NOT_AWARDED")
        ensure_not_suspended(publicity.lot.project)
        if publicity.winner_id != organization.pk:
            raise NotPermitted(_("只有中标人可以接受中标结果。"))
        if award_acceptance(publicity) is not None:
            raise Conflict(_("已接受中标结果。"), code="ALREADY_ACCEPTED")
        digest = award_notice_sha256(publicity)
        signed_act = require_signature(
            actor, "award.accept", publicity, digest=digest, signed=signed
        )
        record(
            actor,
            AWARD_ACCEPTED,
            publicity,
            {
                "organization": organization.pk,
                "award_notice_at": publicity.award_notice_at,
                "award_notice_sha256": digest,
                **signature_payload(signed_act),
            },
        )
    return publicity


def give_back_paused_time(
    sender: Any,
    *,
    actor: Actor,
    project: Project,
    since: dt.datetime,
    paused: dt.timedelta,
    **kwargs: Any,
) -> None:
    """`trading.signals.project_resumed`: a candidate publicity still running when the project
    stopped runs on for the time it stood (nobody loses objection time), and so does a contract's
    signing period. Inside the resuming transaction; the project is locked by the caller."""
    for publicity in Publicity.objects.select_for_update().filter(lot__project=project):
        moved: dict[str, dt.datetime] = {}
        if publicity.status == Publicity.Status.PUBLIC and publicity.ends_at > since:
            moved["ends_at"] = publicity.ends_at + paused
        if (
            publicity.status == Publicity.Status.AWARDED
            and publicity.contract_due_at is not None
            and publicity.contract_due_at > since
        ):
            moved["contract_due_at"] = publicity.contract_due_at + paused
        if not moved:
            continue
        for field, value in moved.items():
            setattr(publicity, field, value)
        publicity.save(update_fields=list(moved))
        record(
            actor,
            "bidding.publicity.resumed",
            publicity,
            {"paused_seconds": int(paused.total_seconds()), **moved},
        )
