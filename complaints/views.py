"""Pages of complaint cases (投诉), mounted at /complaints/ (complaints/urls.py).

- the list: supervisors see every case (by status, with its next deadline), a party its own;
- filing: a supplier complains about a project, following one of its objections there (or, where the
  regime allows, none);
- the case file: timeline, deadlines, documents, and the forms of whoever may act now — the supervisor
  (accept, refuse, request material, suspend, resume, decide), the asked party (answer), the
  complainant (withdraw).

Views parse, authorize, call one service and redirect (POST/redirect/GET). A DomainError re-renders
the page with the user's input kept and the service's message shown, at the error's HTTP status. A
case the user may not see is a 404: its existence is not revealed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm, signed_in_user, visible_to
from complaints import pdf, queries, services
from complaints.forms import (
    NO_OBJECTION,
    AnswerForm,
    DecideForm,
    DocumentForm,
    FileForm,
    ReasonForm,
    RequestForm,
    SuspendForm,
)
from complaints.models import Complaint, ComplaintDocument, MaterialRequest
from lib.errors import DomainError, present
from lib.numbers import NumberError, parse_integer
from lib.uploads import accepts_uploads
from trading.models import Project

LIST_PAGE_SIZE = 50
# The list's status filter: each status, and "open" (filed or accepted: the regulator's work).
OPEN = "open"


def _error_response(
    request: HttpRequest, template: str, context: dict[str, Any], exc: DomainError
) -> HttpResponse:
    context["error"] = exc.message
    context["error_code"] = exc.code
    return render(request, template, context, status=exc.http_status)


def _invalid(form: Any) -> DomainError:
    """A form that did not parse, shown like a service error (the page keeps the input)."""
    return DomainError(
        _("请检查输入：%(errors)s") % {"errors": form.errors.as_text()}, code="VALIDATION_ERROR"
    )


# --- The list -------------------------------------------------------------------------------------


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.has_perm("complaints.view_complaint") and user.role not in (
        Role.SUPPLIER,
        Role.AGENT,
    ):
        raise PermissionDenied
    cases = visible_to(
        user,
        "complaints.view_complaint",
        Complaint.objects.select_related("project", "complainant"),
    ).order_by("-filed_at", "-pk")
    status = request.GET.get("status", "")
    if status == OPEN:
        cases = cases.filter(status__in=(Complaint.Status.FILED, Complaint.Status.ACCEPTED))
    elif status in Complaint.Status.values:
        cases = cases.filter(status=status)
    else:
        status = ""
    page = Paginator(cases, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for case in page.object_list:
        due = queries.current_due(case)
        rows.append((case, due, due is not None and due < now))
    return render(
        request,
        "complaints/list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": [(OPEN, _("办理中")), *Complaint.Status.choices],
            "may_handle": user.has_perm("complaints.handle_complaint"),
            "may_file": user.role == Role.SUPPLIER and user.organization_id is not None,
        },
    )


# --- Filing ---------------------------------------------------------------------------------------


def _supplier_org(request: HttpRequest) -> int:
    user = signed_in_user(request)
    if user.role != Role.SUPPLIER or user.organization_id is None:
        raise PermissionDenied
    return user.organization_id


def _file_context(project: Project, org_id: int, data: Any = None) -> dict[str, Any]:
    """The filing page: the supplier's objections on the project with their windows, and the form
    (bound to `data` when posted)."""
    priors = queries.priors_for(project, org_id)
    subjects = queries.subjects_without_objection(project)
    form = FileForm(data, priors=priors, subjects=subjects)
    return {
        "project": project,
        "priors": priors,
        "subjects": subjects,
        "period": queries.filing_period_text(project),
        "form": form,
        # Each radio button beside the objection it names (the last, "none", beside nothing).
        "choices": list(zip(form["prior"], [*priors, None], strict=False)),
    }


@login_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    org_id = _supplier_org(request)
    try:
        project_id = parse_integer(request.GET.get("project"), minimum=1)
    except NumberError:
        # No project named: the projects the supplier may complain about.
        return render(
            request,
            "complaints/choose_project.html",
            {"projects": queries.complainable_projects(org_id)[:200]},
        )
    project = get_object_or_404(Project.objects.select_related("owner", "agent"), pk=project_id)
    if not queries.may_file_on(project, org_id):
        raise Http404
    if request.method != "POST":
        return render(request, "complaints/new.html", _file_context(project, org_id))
    context = _file_context(project, org_id, request.POST)
    form = context["form"]
    if not form.is_valid():
        return _error_response(request, "complaints/new.html", context, _invalid(form))
    data = form.cleaned_data
    prior = queries.prior_by_key(context["priors"], data["prior"])
    follows: dict[str, Any] = {}
    if prior is not None:
        name = {"o": "objection", "p": "publicity_objection", "r": "opening_response"}
        follows[name[prior.key[0]]] = prior.obj
    try:
        complaint = services.file_complaint(
            Actor.from_request(request),
            project,
            subject=data.get("subject") or Complaint.Subject.PROCESS,
            facts=data["facts"],
            claims=data["claims"],
            knew_at=data.get("knew_at") if data["prior"] == NO_OBJECTION else None,
            **follows,
        )
    except DomainError as exc:
        return _error_response(request, "complaints/new.html", context, exc)
    messages.success(
        request,
        _("投诉已提交：%(number)s。监督部门将在 %(due)s 前审查是否受理。")
        % {
            "number": complaint.number,
            "due": timezone.localtime(complaint.acceptance_due_at).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return redirect("complaint_detail", pk=complaint.pk)


# --- The case file --------------------------------------------------------------------------------


def _case(request: HttpRequest, pk: int) -> Complaint:
    """The case, or 404 for one the user may not see."""
    complaint = get_object_or_404(
        Complaint.objects.select_related(
            "project", "project__agent", "project__owner", "complainant", "lot"
        ),
        pk=pk,
    )
    if not has_perm(request.user, "complaints.view_complaint", complaint):
        raise Http404
    return complaint


def _prior_of(complaint: Complaint) -> Any:
    return complaint.objection or complaint.publicity_objection or complaint.opening_response


def _asked_org_id(complaint: Complaint, request: MaterialRequest) -> int:
    if request.party == MaterialRequest.Party.COMPLAINANT:
        return complaint.complainant_id
    return complaint.project.agent_id


def _case_context(request: HttpRequest, complaint: Complaint, **bound: Any) -> dict[str, Any]:
    """Everything the case page shows. `bound` replaces a blank form with the one that failed."""
    user = signed_in_user(request)
    org_id = user.organization_id
    now = timezone.now()
    is_open = complaint.is_open
    suspensions = list(queries.case_suspensions(complaint))
    standing = next((s for s in suspensions if s.lifted_at is None), None)
    handle = has_perm(user, "complaints.handle_complaint", complaint)
    status = complaint.status
    may = {
        "handle": handle,
        "accept": handle and status == Complaint.Status.FILED,
        "request": handle and status == Complaint.Status.ACCEPTED,
        "suspend": handle
        and is_open
        and standing is None
        and complaint.project.status == Project.Status.PUBLISHED,
        "resume": handle and standing is not None,
        "decide": handle and status == Complaint.Status.ACCEPTED,
        "withdraw": is_open and org_id is not None and org_id == complaint.complainant_id,
        "upload": is_open and services.may_add_document(user, complaint),
    }
    answer_forms = bound.pop("answer_forms", {})
    requests = []
    for material in complaint.requests.all():
        answerable = (
            status == Complaint.Status.ACCEPTED
            and material.answered_at is None
            and org_id is not None
            and org_id == _asked_org_id(complaint, material)
            and now <= material.due_at
        )
        form = answer_forms.get(material.pk) or AnswerForm(prefix=f"a{material.pk}")
        requests.append((material, form if answerable else None))
    max_days = queries.max_suspension_days(complaint)
    decision_due = complaint.decision_due_at
    context = {
        "complaint": complaint,
        "project": complaint.project,
        "prior": _prior_of(complaint),
        "may": may,
        "now": now,
        "timeline": queries.timeline(complaint, suspensions),
        "requests": requests,
        "standing": standing,
        "documents": complaint.documents.select_related("uploaded_by", "request"),
        "acceptance_running": status == Complaint.Status.FILED,
        "acceptance_overdue": status == Complaint.Status.FILED
        and complaint.acceptance_due_at < now,
        "decision_running": status == Complaint.Status.ACCEPTED and decision_due is not None,
        "decision_overdue": status == Complaint.Status.ACCEPTED
        and decision_due is not None
        and decision_due < now,
        "max_days": max_days,
        "refuse_form": ReasonForm(prefix="refuse"),
        "request_form": RequestForm(prefix="ask"),
        "suspend_form": SuspendForm(prefix="suspend", max_days=max_days),
        "decide_form": DecideForm(prefix="decide"),
        "document_form": DocumentForm(complaint=complaint),
    }
    context.update(bound)
    return context


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    return render(request, "complaints/detail.html", _case_context(request, complaint))


def _case_error(
    request: HttpRequest, complaint: Complaint, exc: DomainError, **bound: Any
) -> HttpResponse:
    complaint.refresh_from_db()
    return _error_response(
        request, "complaints/detail.html", _case_context(request, complaint, **bound), exc
    )


def _done(complaint: Complaint, request: HttpRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("complaint_detail", pk=complaint.pk)


@login_required
@require_POST
def complaint_accept(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    try:
        services.accept_complaint(Actor.from_request(request), complaint)
    except DomainError as exc:
        return _case_error(request, complaint, exc)
    return _done(complaint, request, _("已受理，已要求被投诉人作出书面说明。"))


@login_required
@require_POST
def complaint_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    form = ReasonForm(request.POST, prefix="refuse")
    try:
        if not form.is_valid():
            raise _invalid(form)
        services.refuse_complaint(
            Actor.from_request(request), complaint, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _case_error(request, complaint, exc, refuse_form=form)
    return _done(complaint, request, _("已决定不予受理，已告知投诉人理由。"))


@login_required
@require_POST
def complaint_request(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    form = RequestForm(request.POST, prefix="ask")
    try:
        if not form.is_valid():
            raise _invalid(form)
        data = form.cleaned_data
        services.request_material(
            Actor.from_request(request),
            complaint,
            party=data["party"],
            kind=data["kind"],
            text=data["text"],
            due_at=data["due_at"],
        )
    except DomainError as exc:
        return _case_error(request, complaint, exc, request_form=form)
    return _done(complaint, request, _("调查取证要求已发出。"))


@login_required
@require_POST
def complaint_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    form = SuspendForm(
        request.POST, prefix="suspend", max_days=queries.max_suspension_days(complaint)
    )
    try:
        if not form.is_valid():
            raise _invalid(form)
        suspension = services.suspend_procurement(
            Actor.from_request(request),
            complaint,
            reason=form.cleaned_data["reason"],
            days=form.cleaned_data["days"],
        )
    except DomainError as exc:
        return _case_error(request, complaint, exc, suspend_form=form)
    return _done(
        complaint,
        request,
        _("已责令暂停采购活动，最迟至 %(until)s（北京时间）。")
        % {"until": timezone.localtime(suspension.ends_by).strftime("%Y-%m-%d %H:%M")},
    )


@login_required
@require_POST
def complaint_resume(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    try:
        services.resume_procurement(Actor.from_request(request), complaint)
    except DomainError as exc:
        return _case_error(request, complaint, exc)
    return _done(complaint, request, _("已恢复采购活动。"))


@login_required
@require_POST
def complaint_decide(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    form = DecideForm(request.POST, prefix="decide")
    try:
        if not form.is_valid():
            raise _invalid(form)
        data = form.cleaned_data
        services.decide_complaint(
            Actor.from_request(request),
            complaint,
            outcome=data["outcome"],
            remedy=data["remedy"],
            decision=data["decision"],
        )
    except DomainError as exc:
        return _case_error(request, complaint, exc, decide_form=form)
    return _done(complaint, request, _("处理决定已作出，已通知各方当事人。"))


@login_required
@require_POST
def complaint_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    try:
        services.withdraw_complaint(Actor.from_request(request), complaint)
    except DomainError as exc:
        return _case_error(request, complaint, exc)
    return _done(complaint, request, _("投诉已撤回。"))


@login_required
@require_POST
def request_answer(request: HttpRequest, pk: int) -> HttpResponse:
    material = get_object_or_404(MaterialRequest, pk=pk)
    complaint = _case(request, material.complaint_id)
    form = AnswerForm(request.POST, prefix=f"a{material.pk}")
    try:
        if not form.is_valid():
            raise _invalid(form)
        services.answer_request(
            Actor.from_request(request), material, answer=form.cleaned_data["answer"]
        )
    except DomainError as exc:
        return _case_error(request, complaint, exc, answer_forms={material.pk: form})
    return _done(complaint, request, _("答复已提交。"))


# Who may send the case a file: the complainant, the respondent (the agent) and the regulator.
@accepts_uploads(Role.SUPPLIER, Role.AGENT, Role.SUPERVISOR)
@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _case(request, pk)
    form = DocumentForm(request.POST, request.FILES, complaint=complaint)
    try:
        if not form.is_valid():
            raise _invalid(form)
        document = services.add_document(
            Actor.from_request(request),
            complaint,
            form.cleaned_data["file"],
            title=form.cleaned_data["title"],
            request=form.cleaned_data["request"],
        )
    except DomainError as exc:
        return _case_error(request, complaint, exc, document_form=form)
    return _done(
        complaint,
        request,
        _("已上传“%(title)s”，SHA-256：%(sha)s")
        % {"title": document.title, "sha": document.sha256},
    )


@login_required
def document_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    document = get_object_or_404(ComplaintDocument, pk=pk)
    _case(request, document.complaint_id)
    name = present(document.file.name, "a stored case document's name").rsplit("/", 1)[-1]
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=name)


@login_required
def decision_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The regulator's written decision (or refusal), signed by the platform; 404 until there is one."""
    complaint = _case(request, pk)
    if complaint.status not in pdf.DECIDED:
        raise Http404
    response = HttpResponse(pdf.render_decision(complaint), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{complaint.number}.pdf"'
    return response
