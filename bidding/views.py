"""Pages of sealed bidding (issue 6): the supplier's bid, receipt and online decryption; the opening
record; the agent's status board, publicity and award; center staff's opening and evaluation; the
committee's scoring and signatures; supervisors' read-only view; the public record and results.

Views parse, authorize (bidding.access: 404 for what the user may not see), call one service and reply.
A DomainError re-renders the page the form came from with the service's message, at the error's status.
Nothing here ever holds a price before the deadline: prices exist only once a bidder decrypted at the
opening (bidding.services), and forms never echo one back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import visible_to
from bidding import access, negotiation, pdf, services
from bidding import evaluation as evaluating
from bidding.forms import (
    BidForm,
    ContractForm,
    DecryptForm,
    DissentForm,
    FinalCallForm,
    FinalQuoteForm,
    RespondForm,
    RoundForm,
    ScoreForm,
    StartEvaluationForm,
    TextForm,
)
from bidding.models import (
    Auction,
    Bid,
    Evaluation,
    EvaluationMember,
    Opening,
    OpeningResponse,
    Publicity,
    PublicityObjection,
    Score,
)
from experts.services import may_see_identities
from lib.canonical import canonical_bytes
from lib.errors import DomainError, NotFound
from lib.money import format_amount
from lib.uploads import accepts_uploads
from signing.services import parse_signed
from trading.models import Lot, Project, Registration
from trading.rules import rules_for

PAGE_SIZE = 50


# --- Helpers --------------------------------------------------------------------------------------


def _lot(request: HttpRequest, pk: int) -> Lot:
    try:
        return access.lot_for(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


def _found(lookup: Any, *args: Any) -> Any:
    try:
        return lookup(*args)
    except NotFound as exc:
        raise Http404 from exc


def _invalid(form: Any) -> DomainError:
    return DomainError(
        _("请检查输入：%(errors)s") % {"errors": form.errors.as_text()}, code="VALIDATION_ERROR"
    )


def _render_error(
    request: HttpRequest, template: str, context: dict[str, Any], exc: DomainError
) -> HttpResponse:
    context["error"] = exc.message
    context["error_code"] = exc.code
    return render(request, template, context, status=exc.http_status)


def _pdf(content: bytes, filename: str, *, private: bool = True) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    response["Cache-Control"] = "private, no-store" if private else "public, max-age=60"
    return response


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def record_rows(opening: Opening) -> list[dict[str, Any]]:
    """The published record's rows, ready for a template (times as datetimes, statuses labelled)."""
    labels = dict(Bid.Status.choices)
    rows = []
    for row in (opening.record or {}).get("bids", []):
        rows.append(
            {
                **row,
                "submitted": _when(row.get("submitted_at")),
                "status_label": labels.get(row.get("status"), row.get("status")),
            }
        )
    return rows


def _progress_rows(lot: Lot) -> list[Bid]:
    """Who has decrypted during the opening (names and outcomes; prices wait for the record)."""
    return list(
        Bid.objects.filter(lot=lot)
        .exclude(status=Bid.Status.WITHDRAWN)
        .select_related("organization")
        .order_by("submitted_at", "pk")
    )


# --- Lists ----------------------------------------------------------------------------------------


def _board_lots(user: Any) -> Any:
    lots = Lot.objects.filter(
        project__status__in=access.ANNOUNCED,
        project__kind__in=access.SEALED_KINDS,
        project__method__in=access.SEALED_METHODS,
    ).select_related("project", "opening")
    if not (access.is_staff(user) or access.is_supervisor(user)):
        projects = visible_to(user, "trading.manage_project", Project.objects.all())
        lots = lots.filter(project__in=projects)
    return lots.annotate(
        standing=Count("bids", filter=~Q(bids__status=Bid.Status.WITHDRAWN))
    ).order_by("-project__bid_deadline", "project_id", "number")


def index(request: HttpRequest) -> HttpResponse:
    """Public results for everyone; the overseers' board below them; suppliers and experts go to
    their own lists."""
    user = request.user
    if user.is_authenticated and user.role == Role.SUPPLIER:
        return redirect("my_bids")
    if user.is_authenticated and user.role == Role.EXPERT:
        return redirect("my_evaluations")
    board = None
    if user.is_authenticated and user.role in (Role.AGENT, Role.CENTER_STAFF, Role.SUPERVISOR):
        board = Paginator(_board_lots(user), PAGE_SIZE).get_page(request.GET.get("page"))
        for lot in board.object_list:
            lot.stage = access.stage_of(lot, getattr(lot, "opening", None))
    results = (
        Opening.objects.filter(stage__in=access.RECORDED)
        .select_related("lot", "lot__project")
        .order_by("-finished_at", "-pk")[:PAGE_SIZE]
    )
    return render(
        request,
        "bidding/index.html",
        {"board": board, "results": results, "now": timezone.now()},
    )


@login_required
def my_bids(request: HttpRequest) -> HttpResponse:
    org = access.organization_id(request.user)
    if org is None:
        raise PermissionDenied
    registrations = list(
        Registration.objects.filter(
            organization_id=org,
            project__status__in=access.ANNOUNCED,
            project__kind__in=access.SEALED_KINDS,
            project__method__in=access.SEALED_METHODS,
        )
        .select_related("lot", "project")
        .order_by("-project__bid_deadline", "lot__number")
    )
    bids = {
        bid.lot_id: bid for bid in Bid.objects.filter(organization_id=org).select_related("lot")
    }
    for registration in registrations:
        registration.bid = bids.get(registration.lot_id)
        registration.stage = access.stage_of(registration.lot)
    return render(
        request,
        "bidding/my_bids.html",
        {"registrations": registrations, "now": timezone.now()},
    )


@login_required
def my_evaluations(request: HttpRequest) -> HttpResponse:
    if request.user.role != Role.EXPERT:
        raise PermissionDenied
    seats = (
        EvaluationMember.objects.filter(expert__user=request.user)
        .select_related("evaluation", "evaluation__lot", "evaluation__lot__project")
        .order_by("-evaluation__started_at")
    )
    return render(request, "bidding/my_evaluations.html", {"seats": seats, "now": timezone.now()})


# --- The lot page ---------------------------------------------------------------------------------


def _lot_context(request: HttpRequest, lot: Lot, **bound: Any) -> dict[str, Any]:
    user = request.user
    project = lot.project
    opening = access.opening_of(lot)
    now = timezone.now()
    org = access.organization_id(user)
    oversees = access.oversees(user, project)
    evaluation = Evaluation.objects.filter(lot=lot).first()
    publicity = Publicity.objects.filter(lot=lot).select_related("winner").first()
    bid = access.own_bid(user, lot)
    recorded = opening is not None and opening.stage in access.RECORDED
    may = {
        "agent": access.is_agent(user, project),
        "staff": access.is_staff(user),
        "supervisor": access.is_supervisor(user),
        "oversees": oversees,
        "bidder": org is not None and bid is not None and bid.status != Bid.Status.WITHDRAWN,
        "registered": org is not None
        and Registration.objects.filter(lot=lot, organization_id=org).exists(),
        "member": access.member_of(user, evaluation) is not None,
        "evaluation": evaluation is not None and access.may_see_evaluation(user, evaluation),
    }
    context: dict[str, Any] = {
        "lot": lot,
        "project": project,
        "auction": Auction.objects.filter(lot=lot, phase=Auction.Phase.MAIN).first(),
        "now": now,
        "sealed": access.uses_sealed_bids(project),
        "before_deadline": project.bid_deadline is not None and now < project.bid_deadline,
        "stage": access.stage_of(lot, opening),
        "opening": opening,
        "recorded": recorded,
        "record": record_rows(opening) if recorded else [],
        "may": may,
        "bid": bid,
        "evaluation": evaluation,
        "publicity": publicity,
        "decrypt_form": DecryptForm(),
        "respond_form": RespondForm(),
    }
    if oversees:
        context["bids_count"] = access.bids_count(lot)
        if opening is not None:
            context["progress"] = access.progress(lot)
            context["progress_rows"] = _progress_rows(lot)
    if bid is not None and opening is not None:
        context["decrypting"] = (
            opening.stage == Opening.Stage.DECRYPTING
            and bid.status == Bid.Status.AWAITING_DECRYPTION
            and now <= opening.decryption_until
        )
    if recorded:
        context["responses"] = _responses(user, opening, oversees, org)
        context["my_response"] = (
            OpeningResponse.objects.filter(opening=opening, organization_id=org).first()
            if org
            else None
        )
    if publicity is not None:
        objections = publicity.objections.select_related("organization").order_by("raised_at")
        if not oversees:
            objections = objections.filter(organization_id=org or 0)
        reply_forms = bound.pop("reply_forms", {})
        context["objections"] = list(objections)
        for objection in context["objections"]:
            objection.form = reply_forms.get(objection.pk) or TextForm(
                prefix=f"p{objection.pk}", label=_("答复")
            )
        context["objection_form"] = TextForm(prefix="publicity", label=_("异议内容"))
        context["winner"] = access.winner_row(publicity) if access.awarded(publicity) else None
        context["may_award_notice"] = access.may_see_award_notice(user, publicity)
        context.update(_award_acceptance_context(publicity, org, context["may_award_notice"]))
        context["publicity_over"] = now >= publicity.ends_at
        context["objection_reply_period"] = rules_for(lot.project).publicity_objection_reply.label()
        context["refusal_form"] = TextForm(prefix="refusal", label=_("拒签事实"))
        context["contract_form"] = ContractForm(prefix="contract")
    if may["staff"] and opening is not None and evaluation is None:
        context["start_form"] = StartEvaluationForm(lot=lot)
    context.update(_negotiation_context(request, lot, bound))
    context.update(bound)
    return context


def _award_acceptance_context(
    publicity: Publicity, org: int | None, readable: bool
) -> dict[str, Any]:
    """award.accept on the lot page: the winner's button (signed over the notice's hash) and, for
    those who may read the notice, whether and when it was accepted."""
    if not readable:
        return {}
    accepted = evaluating.award_acceptance(publicity)
    return {
        "award_acceptance": accepted,
        "award_notice_sha256": evaluating.award_notice_sha256(publicity),
        "may_accept_award": accepted is None
        and org is not None
        and org == publicity.winner_id
        and publicity.status == Publicity.Status.AWARDED,
    }


def _responses(user: Any, opening: Opening, oversees: bool, org: int | None) -> list[Any]:
    responses = opening.responses.select_related("organization").order_by("responded_at")
    if not oversees:
        responses = responses.filter(organization_id=org or 0)
    rows = list(responses)
    for response in rows:
        response.form = TextForm(prefix=f"a{response.pk}", label=_("答复"))
    return rows


def lot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    return render(request, "bidding/lot.html", _lot_context(request, lot))


def _lot_error(request: HttpRequest, lot: Lot, exc: DomainError, **bound: Any) -> HttpResponse:
    lot.project.refresh_from_db()
    return _render_error(request, "bidding/lot.html", _lot_context(request, lot, **bound), exc)


# --- The supplier: submit, receipt, withdraw, decrypt ---------------------------------------------


def _scrubbed(form: BidForm) -> BidForm:
    """The bound form without the price and the codes, so a failed submission never echoes them."""
    data = form.data.copy()
    for name in ("price", "decryption_code", "decryption_code_again"):
        data[name] = ""
    form.data = data
    return form


@accepts_uploads(Role.SUPPLIER)
@login_required
def bid_form(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    if access.organization_id(request.user) is None:
        raise PermissionDenied
    bid = access.own_bid(request.user, lot)
    act, target_type, target_id = services.bid_act(lot, bid)
    context: dict[str, Any] = {
        "lot": lot,
        "project": lot.project,
        "bid": bid,
        "now": timezone.now(),
        "sign": {"act": act, "target_type": target_type, "target_id": target_id},
    }
    if request.method != "POST":
        context["form"] = BidForm()
        return render(request, "bidding/bid_form.html", context)
    form = BidForm(request.POST, request.FILES)
    if not form.is_valid():
        context["form"] = _scrubbed(form)
        return _render_error(request, "bidding/bid_form.html", context, _invalid(form))
    try:
        bid = services.submit_bid(
            Actor.from_request(request),
            lot,
            price=format_amount(form.cleaned_data["price"]),
            decryption_code=form.cleaned_data["decryption_code"],
            files=form.cleaned_data["files"],
            nonce=request.POST.get("bid_nonce") or None,
            signed=parse_signed(request.POST),
        )
    except DomainError as exc:
        context["form"] = _scrubbed(form)
        return _render_error(request, "bidding/bid_form.html", context, exc)
    messages.success(
        request,
        _("投标文件已加密递交（第 %(n)s 次），回执哈希 %(sha)s。请牢记解密口令。")
        % {"n": bid.version, "sha": bid.receipt_sha256},
    )
    return redirect("bid_receipt", pk=lot.pk)


def _own_bid_or_404(request: HttpRequest, lot: Lot) -> Bid:
    bid = access.own_bid(request.user, lot)
    if bid is None:
        raise Http404
    return bid


@login_required
@require_safe
def bid_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    bid = _own_bid_or_404(request, lot)
    document = pdf.receipt_document(bid)
    return render(
        request,
        "bidding/receipt.html",
        {
            "lot": lot,
            "project": lot.project,
            "bid": bid,
            "files": sorted(bid.files.all(), key=lambda f: f.pk),
            "canonical": canonical_bytes(document).decode(),
            "recomputed": pdf.receipt_sha256(bid),
            "now": timezone.now(),
        },
    )


@login_required
@require_safe
def bid_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    bid = _own_bid_or_404(request, lot)
    return _pdf(pdf.render_receipt(bid), f"bid-receipt-{lot.project.number}-{lot.number}.pdf")


@login_required
@require_POST
def bid_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    bid = _own_bid_or_404(request, lot)
    try:
        services.withdraw_bid(Actor.from_request(request), bid, signed=parse_signed(request.POST))
    except DomainError as exc:
        return _lot_error(request, lot, exc)
    messages.success(request, _("投标文件已撤回；保证金将依法退还。"))
    return redirect("bidding_lot", pk=lot.pk)


@login_required
@require_POST
def bid_decrypt(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    access.catch_up(lot)
    bid = _own_bid_or_404(request, lot)
    form = DecryptForm(request.POST)
    if not form.is_valid():
        return _lot_error(request, lot, _invalid(form))
    try:
        bid = services.decrypt_bid(
            Actor.from_request(request), bid, decryption_code=form.cleaned_data["decryption_code"]
        )
    except DomainError as exc:
        return _lot_error(request, lot, exc)
    messages.success(request, _("解密成功，报价 %(price)s 元。") % {"price": f"{bid.price:,.2f}"})
    return redirect("bidding_lot", pk=lot.pk)


# --- The opening ----------------------------------------------------------------------------------


@login_required
@require_safe
def opening_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The opening as those who run and watch it see it. A read: the clock opens the lot at the
    deadline and closes the decryption window (bidding/tasks.py); the page only shows where it stands."""
    lot = _lot(request, pk)
    if not access.oversees(request.user, lot.project):
        raise PermissionDenied
    opening = access.opening_of(lot)
    now = timezone.now()
    recorded = opening is not None and opening.stage in access.RECORDED
    return render(
        request,
        "bidding/opening.html",
        {
            "lot": lot,
            "project": lot.project,
            "opening": opening,
            "now": now,
            "before_deadline": lot.project.bid_deadline is not None
            and now < lot.project.bid_deadline,
            "stage": access.stage_of(lot, opening),
            "bids_count": access.bids_count(lot),
            "progress": access.progress(lot) if opening else None,
            "progress_rows": _progress_rows(lot) if opening else [],
            "recorded": recorded,
            "record": record_rows(opening) if recorded else [],
        },
    )


def _record_context(request: HttpRequest, lot: Lot, opening: Opening, **bound: Any) -> dict:
    user = request.user
    org = access.organization_id(user)
    oversees = access.oversees(user, lot.project)
    is_bidder = org is not None and Bid.objects.filter(lot=lot, organization_id=org).exists()
    now = timezone.now()
    answer_forms = bound.pop("answer_forms", {})
    responses = _responses(user, opening, oversees, org)
    for response in responses:
        response.form = answer_forms.get(response.pk) or response.form
    context = {
        "lot": lot,
        "project": lot.project,
        "opening": opening,
        "record": record_rows(opening),
        "canonical": canonical_bytes(opening.record).decode() if opening.record else "",
        "responses": responses,
        "may_answer": access.is_agent(user, lot.project),
        "is_bidder": is_bidder,
        "my_response": OpeningResponse.objects.filter(opening=opening, organization_id=org).first()
        if org
        else None,
        "window_open": opening.stage == Opening.Stage.OPENED
        and opening.objections_until is not None
        and now <= opening.objections_until,
        "respond_form": RespondForm(),
        "now": now,
    }
    context.update(bound)
    return context


def opening_record(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    opening = _found(access.published_record, lot)
    return render(request, "bidding/record.html", _record_context(request, lot, opening))


@require_safe
def opening_record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    opening = _found(access.published_record, lot)
    return _pdf(
        pdf.render_record(opening),
        f"opening-record-{lot.project.number}-{lot.number}.pdf",
        private=False,
    )


@login_required
@require_POST
def record_respond(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    opening = _found(access.published_record, lot)
    form = RespondForm(request.POST)
    if not form.is_valid():
        context = _record_context(request, lot, opening, respond_form=form)
        return _render_error(request, "bidding/record.html", context, _invalid(form))
    try:
        services.respond_to_record(
            Actor.from_request(request),
            opening,
            confirmed=form.cleaned_data["answer"] == RespondForm.CONFIRM,
            objection=form.cleaned_data["objection"],
            signed=parse_signed(request.POST),
        )
    except DomainError as exc:
        context = _record_context(request, lot, opening, respond_form=form)
        return _render_error(request, "bidding/record.html", context, exc)
    messages.success(request, _("已提交对开标记录的回复。"))
    return redirect("opening_record", pk=lot.pk)


@login_required
@require_POST
def record_answer(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_object_or_404(
        OpeningResponse.objects.select_related("opening", "opening__lot"), pk=pk
    )
    lot = _lot(request, response.opening.lot_id)
    user = request.user
    if not (
        access.oversees(user, lot.project)
        or access.organization_id(user) == response.organization_id
    ):
        raise Http404
    form = TextForm(request.POST, prefix=f"a{response.pk}", label=_("答复"))
    opening = response.opening
    if not form.is_valid():
        context = _record_context(request, lot, opening, answer_forms={response.pk: form})
        return _render_error(request, "bidding/record.html", context, _invalid(form))
    try:
        services.answer_record_objection(
            Actor.from_request(request), response, answer=form.cleaned_data["text"]
        )
    except DomainError as exc:
        context = _record_context(request, lot, opening, answer_forms={response.pk: form})
        return _render_error(request, "bidding/record.html", context, exc)
    messages.success(request, _("异议已答复。"))
    return redirect("opening_record", pk=lot.pk)


# --- Evaluation -----------------------------------------------------------------------------------


def _evaluation_or_404(request: HttpRequest, lot: Lot) -> Evaluation:
    return _found(access.evaluation_for, request.user, lot)


def _evaluation_context(
    request: HttpRequest, lot: Lot, evaluation: Evaluation | None, **bound: Any
) -> dict[str, Any]:
    user = request.user
    member = access.member_of(user, evaluation)
    now = timezone.now()
    context: dict[str, Any] = {
        "lot": lot,
        "project": lot.project,
        "evaluation": evaluation,
        "member": member,
        "now": now,
        "may_run": access.is_staff(user),
        "sees_all": access.may_see_all_scores(user),
        "opening": access.opening_of(lot),
    }
    if evaluation is None:
        context["start_form"] = bound.pop("start_form", None) or StartEvaluationForm(lot=lot)
        context.update(bound)
        return context
    score_forms = bound.pop("score_forms", {})
    if member is not None and evaluation.status == Evaluation.Status.IN_PROGRESS:
        bids = evaluating.visible_bids(Actor.from_request(request), lot)
        own = {s.bid_id: s for s in Score.objects.filter(member=member)}
        for bid in bids:
            bid.my_score = own.get(bid.pk)
            initial = (
                {
                    "compliant": "yes" if bid.my_score.compliant else "no",
                    "rejection_reason": bid.my_score.rejection_reason,
                    "technical_points": bid.my_score.technical_points,
                }
                if bid.my_score
                else None
            )
            bid.form = score_forms.get(bid.pk) or ScoreForm(prefix=f"b{bid.pk}", initial=initial)
            bid.sealed_files = list(bid.files.all())
        context["bids"] = bids
    if member is not None and evaluation.status == Evaluation.Status.REPORTED:
        context["dissent_form"] = bound.pop("dissent_form", None) or DissentForm()
    if access.may_see_report(user, evaluation):
        context["report"] = _report_rows(evaluation)
    if context["sees_all"]:
        members = list(evaluation.members.select_related("expert").order_by("pk"))
        counts = dict(
            Score.objects.filter(member__evaluation=evaluation)
            .values_list("member_id")
            .annotate(n=Count("pk"))
        )
        for seat in members:
            seat.scored = counts.get(seat.pk, 0)
        context["members"] = members
        context["scores"] = (
            Score.objects.filter(member__evaluation=evaluation)
            .select_related("member__expert", "bid__organization")
            .order_by("bid_id", "member_id")
        )
        context["bid_total"] = Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED).count()
    context.update(_negotiation_context(request, lot, bound))
    context.update(bound)
    return context


def _report_rows(evaluation: Evaluation) -> dict[str, Any]:
    report = evaluation.report or {}
    bidders = dict(
        Bid.objects.filter(lot_id=evaluation.lot_id).values_list("pk", "organization__name")
    )
    return {
        "candidates": report.get("candidates", []),
        "rejected": [
            {**row, "bidder": bidders.get(row["bid"], row["bid"])}
            for row in report.get("rejected", [])
        ],
        "sha256": evaluation.report_sha256,
        "scheme": dict(Evaluation.Scheme.choices).get(report.get("scheme"), ""),
    }


@login_required
@require_safe
def evaluation_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The report as a signed PDF, to exactly those who may read it on the page (404 to anyone else).
    A reader who may not know the committee's names, or each member's scores, gets a copy without
    them (the hash it prints is the same)."""
    lot = _lot(request, pk)
    evaluation = _evaluation_or_404(request, lot)
    user = request.user
    if not access.may_see_report(user, evaluation):
        raise Http404
    return _pdf(
        pdf.render_evaluation_report(
            evaluation,
            names=access.may_see_all_scores(user) or may_see_identities(user, evaluation.draw),
            all_scores=access.may_see_all_scores(user),
        ),
        f"evaluation-report-{lot.project.number}-{lot.number}.pdf",
    )


@login_required
def evaluation_page(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    evaluation = Evaluation.objects.filter(lot=lot).first()
    if evaluation is None:
        # Before evaluation starts there is nothing to see but the start form for center staff.
        if not (access.is_staff(request.user) or access.is_supervisor(request.user)):
            raise Http404
    elif not access.may_see_evaluation(request.user, evaluation):
        raise Http404
    return render(request, "bidding/evaluation.html", _evaluation_context(request, lot, evaluation))


def _evaluation_error(
    request: HttpRequest, lot: Lot, exc: DomainError, **bound: Any
) -> HttpResponse:
    evaluation = Evaluation.objects.filter(lot=lot).first()
    context = _evaluation_context(request, lot, evaluation, **bound)
    return _render_error(request, "bidding/evaluation.html", context, exc)


@login_required
@require_POST
def evaluation_start(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    if not access.is_staff(request.user):
        raise PermissionDenied
    form = StartEvaluationForm(request.POST, lot=lot)
    if not form.is_valid():
        return _evaluation_error(request, lot, _invalid(form), start_form=form)
    try:
        evaluating.start_evaluation(Actor.from_request(request), lot, **form.service_kwargs())
    except DomainError as exc:
        return _evaluation_error(request, lot, exc, start_form=form)
    messages.success(request, _("评标已开始，评标委员会成员可以评审。"))
    return redirect("bidding_evaluation", pk=lot.pk)


@login_required
@require_POST
def evaluation_score(request: HttpRequest, pk: int, bid_pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _evaluation_or_404(request, lot)
    bid = get_object_or_404(Bid, pk=bid_pk, lot=lot)
    form = ScoreForm(request.POST, prefix=f"b{bid.pk}")
    if not form.is_valid():
        return _evaluation_error(request, lot, _invalid(form), score_forms={bid.pk: form})
    try:
        evaluating.score_bid(
            Actor.from_request(request),
            bid,
            compliant=form.cleaned_data["compliant"],
            technical_points=form.cleaned_data["technical_points"],
            rejection_reason=form.cleaned_data["rejection_reason"],
        )
    except DomainError as exc:
        return _evaluation_error(request, lot, exc, score_forms={bid.pk: form})
    messages.success(request, _("评分已保存。"))
    return redirect("bidding_evaluation", pk=lot.pk)


@login_required
@require_POST
def evaluation_more_time(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _evaluation_or_404(request, lot)
    try:
        evaluation = evaluating.request_more_time(Actor.from_request(request), lot)
    except DomainError as exc:
        return _evaluation_error(request, lot, exc)
    if evaluation.extended:
        messages.success(request, _("超过三分之一的成员认为时间不够，评标时间已延长。"))
    else:
        messages.success(request, _("已记录您的延长申请。"))
    return redirect("bidding_evaluation", pk=lot.pk)


@login_required
@require_POST
def evaluation_compile(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _evaluation_or_404(request, lot)
    try:
        evaluating.compile_report(Actor.from_request(request), lot)
    except DomainError as exc:
        return _evaluation_error(request, lot, exc)
    messages.success(request, _("评标报告已生成，等待评标委员会成员签署。"))
    return redirect("bidding_evaluation", pk=lot.pk)


@login_required
@require_POST
def evaluation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _evaluation_or_404(request, lot)
    form = DissentForm(request.POST)
    if not form.is_valid():
        return _evaluation_error(request, lot, _invalid(form), dissent_form=form)
    try:
        evaluating.confirm_report(
            Actor.from_request(request),
            lot,
            dissent=form.cleaned_data["dissent"],
            signed=parse_signed(request.POST),
        )
    except DomainError as exc:
        return _evaluation_error(request, lot, exc, dissent_form=form)
    messages.success(request, _("已签署评标报告。"))
    return redirect("bidding_evaluation", pk=lot.pk)


# --- 竞争性谈判/磋商 ------------------------------------------------------------------------------


def _negotiation_context(request: HttpRequest, lot: Lot, bound: dict[str, Any]) -> dict[str, Any]:
    """The negotiation section of the lot and evaluation pages (bidding/_negotiation.html): what the
    user may see of it (`access.negotiation_state`), center staff's round and final-call forms while
    it runs, an invited supplier's final-quote form until it quoted or the call closed. A kept form
    comes from `bound`; the final quote is never kept (its price is not echoed back)."""
    user = request.user
    if not access.may_see_negotiation(user, lot):
        return {}
    state = access.negotiation_state(user, lot)
    state["stage_label"] = access.NEGOTIATION_STAGE_LABELS[state["stage"]]
    context: dict[str, Any] = {"negotiation": state}
    if state["stage"] == "negotiating" and access.is_staff(user):
        context["round_form"] = bound.pop("round_form", None) or RoundForm(
            suppliers=negotiation.still_in(lot)
        )
        context["final_call_form"] = bound.pop("final_call_form", None) or FinalCallForm()
    call = state["final_call"]
    if call is not None:
        call["open"] = timezone.now() < call["closes_at"]
        if state["stage"] == "quoting" and call["open"] and call["invited"] and not call["quoted"]:
            context["final_quote_form"] = FinalQuoteForm()
    return context


def _negotiation_or_404(request: HttpRequest, lot: Lot) -> None:
    _found(access.negotiation_for, request.user, lot)


def _from_evaluation(request: HttpRequest, lot: Lot) -> bool:
    """The form was on the evaluation page (and the user may see that page)."""
    if request.POST.get("back") != "evaluation":
        return False
    evaluation = Evaluation.objects.filter(lot=lot).first()
    return evaluation is not None and access.may_see_evaluation(request.user, evaluation)


def _after_negotiation(request: HttpRequest, lot: Lot) -> HttpResponse:
    name = "bidding_evaluation" if _from_evaluation(request, lot) else "bidding_lot"
    return redirect(name, pk=lot.pk)


def _negotiation_error(
    request: HttpRequest, lot: Lot, exc: DomainError, **bound: Any
) -> HttpResponse:
    if _from_evaluation(request, lot):
        return _evaluation_error(request, lot, exc, **bound)
    return _lot_error(request, lot, exc, **bound)


@login_required
@require_POST
def negotiation_round(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _negotiation_or_404(request, lot)
    form = RoundForm(request.POST, suppliers=negotiation.still_in(lot))
    if not form.is_valid():
        return _negotiation_error(request, lot, _invalid(form), round_form=form)
    try:
        round_ = negotiation.publish_round(
            Actor.from_request(request),
            lot,
            changes=form.cleaned_data["changes"],
            excluded=[org.pk for org in form.cleaned_data["excluded"]],
        )
    except DomainError as exc:
        return _negotiation_error(request, lot, exc, round_form=form)
    messages.success(
        request,
        _("第 %(n)s 轮已发布，变动内容已告知仍在谈判/磋商的供应商。") % {"n": round_.number},
    )
    return _after_negotiation(request, lot)


@login_required
@require_POST
def negotiation_final_call(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _negotiation_or_404(request, lot)
    form = FinalCallForm(request.POST)
    if not form.is_valid():
        return _negotiation_error(request, lot, _invalid(form), final_call_form=form)
    try:
        call = negotiation.call_final_quotes(
            Actor.from_request(request), lot, closes_at=form.cleaned_data["closes_at"]
        )
    except DomainError as exc:
        return _negotiation_error(request, lot, exc, final_call_form=form)
    messages.success(
        request,
        _("已通知仍在谈判/磋商的供应商提交最后报价，截止 %(end)s（北京时间）。")
        % {"end": timezone.localtime(call.closes_at).strftime("%Y-%m-%d %H:%M:%S")},
    )
    return _after_negotiation(request, lot)


@login_required
@require_POST
def negotiation_final_quote(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _negotiation_or_404(request, lot)
    form = FinalQuoteForm(request.POST)
    if not form.is_valid():
        return _negotiation_error(request, lot, _invalid(form))
    try:
        quote = negotiation.submit_final_quote(
            Actor.from_request(request), lot, price=format_amount(form.cleaned_data["price"])
        )
    except DomainError as exc:
        return _negotiation_error(request, lot, exc)
    messages.success(
        request,
        _("最后报价已加密提交，回执哈希 %(sha)s。报价在截止时统一开启，不得更改。")
        % {"sha": quote.sealed_sha256},
    )
    return _after_negotiation(request, lot)


# --- Publicity, award, contract -------------------------------------------------------------------


@login_required
@require_POST
def publicity_publish(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    try:
        publicity = evaluating.publish_candidates(Actor.from_request(request), lot)
    except DomainError as exc:
        return _lot_error(request, lot, exc)
    messages.success(
        request,
        _("中标候选人公示已发布，公示期至 %(end)s（北京时间）。")
        % {"end": timezone.localtime(publicity.ends_at).strftime("%Y-%m-%d %H:%M")},
    )
    return redirect("bidding_lot", pk=lot.pk)


@login_required
@require_POST
def publicity_object(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    publicity = _found(access.publicity_for, lot)
    form = TextForm(request.POST, prefix="publicity", label=_("异议内容"))
    if not form.is_valid():
        return _lot_error(request, lot, _invalid(form), objection_form=form)
    try:
        objection = evaluating.object_to_candidates(
            Actor.from_request(request), publicity, text=form.cleaned_data["text"]
        )
    except DomainError as exc:
        return _lot_error(request, lot, exc, objection_form=form)
    messages.success(
        request,
        _("异议已提出，公示暂停；答复期限 %(due)s（北京时间）。")
        % {"due": timezone.localtime(objection.reply_due_at).strftime("%Y-%m-%d %H:%M")},
    )
    return redirect("bidding_lot", pk=lot.pk)


@login_required
@require_POST
def publicity_reply(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(
        PublicityObjection.objects.select_related("publicity", "publicity__lot"), pk=pk
    )
    lot = _lot(request, objection.publicity.lot_id)
    user = request.user
    if not (
        access.oversees(user, lot.project)
        or access.organization_id(user) == objection.organization_id
    ):
        raise Http404
    form = TextForm(request.POST, prefix=f"p{objection.pk}", label=_("答复"))
    if not form.is_valid():
        return _lot_error(request, lot, _invalid(form), reply_forms={objection.pk: form})
    try:
        evaluating.reply_candidate_objection(
            Actor.from_request(request), objection, reply=form.cleaned_data["text"]
        )
    except DomainError as exc:
        return _lot_error(request, lot, exc, reply_forms={objection.pk: form})
    messages.success(request, _("异议已答复。"))
    return redirect("bidding_lot", pk=lot.pk)


@login_required
@require_POST
def award_issue(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _found(access.publicity_for, lot)
    try:
        publicity = evaluating.issue_award(Actor.from_request(request), lot)
    except DomainError as exc:
        return _lot_error(request, lot, exc)
    messages.success(
        request,
        _("中标通知书已发出：%(winner)s。") % {"winner": publicity.winner.name},
    )
    return redirect("bidding_lot", pk=lot.pk)


@login_required
@require_POST
def award_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The winner accepts the award, signed (`evaluating.accept_award`, act award.accept)."""
    lot = _lot(request, pk)
    _found(access.publicity_for, lot)
    try:
        signed = parse_signed(request.POST)
        evaluating.accept_award(Actor.from_request(request), lot, signed=signed)
    except DomainError as exc:
        return _lot_error(request, lot, exc)
    messages.success(request, _("已签名接受中标结果。"))
    return redirect("bidding_lot", pk=lot.pk)


@login_required
@require_safe
def award_notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    publicity = _found(access.publicity_for, lot)
    if not access.may_see_award_notice(request.user, publicity):
        raise Http404
    return _pdf(
        pdf.render_award_notice(publicity),
        f"award-notice-{lot.project.number}-{lot.number}.pdf",
    )


@login_required
@require_POST
def contract_record(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _found(access.publicity_for, lot)
    form = ContractForm(request.POST, prefix="contract")
    if not form.is_valid():
        return _lot_error(request, lot, _invalid(form), contract_form=form)
    try:
        evaluating.record_contract(
            Actor.from_request(request), lot, signed_at=form.cleaned_data["signed_at"]
        )
    except DomainError as exc:
        return _lot_error(request, lot, exc, contract_form=form)
    messages.success(request, _("已登记合同签订；保证金将依法退还。"))
    return redirect("bidding_lot", pk=lot.pk)


@login_required
@require_POST
def refusal_record(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    _found(access.publicity_for, lot)
    form = TextForm(request.POST, prefix="refusal", label=_("拒签事实"))
    # The service, not the form, says a reason is required (one message for every client).
    reason = form.data.get(form.add_prefix("text"), "")
    try:
        evaluating.record_refusal(Actor.from_request(request), lot, reason=reason)
    except DomainError as exc:
        return _lot_error(request, lot, exc, refusal_form=form)
    messages.success(request, _("已登记中标人拒签；可向下一名中标候选人发出中标通知书。"))
    return redirect("bidding_lot", pk=lot.pk)
