"""Pages of the expert application (专家申请): the public form, the applicant's status page (reached
through the mailed link), and center staff's review. Each parses, calls one service, replies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.permissions import has_perm
from experts import applications
from experts.forms import (
    ExpertApplicationForm,
    ExpertApproveForm,
    ExpertResubmitForm,
    ExpertReturnForm,
)
from experts.models import ExpertApplication
from lib.errors import DomainError


def _show_error(form: Any, exc: DomainError) -> None:
    field = next(iter(exc.details), None) if isinstance(exc.details, dict) else None
    form.add_error(field if field in form.fields else None, exc.message)


def apply(request: HttpRequest) -> HttpResponse:
    form = ExpertApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            applications.apply(Actor.from_request(request), form.cleaned_data)
        except DomainError as exc:
            _show_error(form, exc)
        else:
            return render(request, "experts/apply_done.html")
    return render(request, "experts/apply.html", {"form": form})


def status(request: HttpRequest) -> HttpResponse:
    """The applicant's page behind the mailed link: GET shows it (and a button to verify the email
    the first time); POST verifies, or resubmits a returned application."""
    token = request.POST.get("token") or request.GET.get("token", "")
    try:
        application = applications.application_for(token)
    except DomainError as exc:
        return render(request, "experts/apply_status.html", {"error": exc.message}, status=400)
    form = ExpertResubmitForm(
        initial={field: getattr(application, field) for field in applications.FIELDS}
    )
    if request.method == "POST":
        try:
            if application.status == ExpertApplication.Status.DRAFT:
                applications.verify_email(Actor.from_request(request), token)
                messages.success(request, _("邮箱已验证，申请已提交审核。"))
            else:
                form = ExpertResubmitForm(request.POST)
                if not form.is_valid():
                    return _status_page(request, application, token, form)
                applications.resubmit(Actor.from_request(request), token, form.cleaned_data)
                messages.success(request, _("已重新提交，请等待审核。"))
        except DomainError as exc:
            _show_error(form, exc)
            return _status_page(request, application, token, form)
        return redirect(request.path + "?token=" + token)
    return _status_page(request, application, token, form)


def _status_page(
    request: HttpRequest, application: ExpertApplication, token: str, form: Any
) -> HttpResponse:
    return render(
        request,
        "experts/apply_status.html",
        {"application": application, "token": token, "form": form},
    )


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, "experts.view_expertapplication"):
        raise Http404
    wanted = request.GET.get("status", ExpertApplication.Status.SUBMITTED)
    rows = ExpertApplication.objects.all()
    if wanted in ExpertApplication.Status.values:
        rows = rows.filter(status=wanted)
    return render(
        request,
        "experts/application_list.html",
        {
            "applications": rows[:500],
            "statuses": ExpertApplication.Status.choices,
            "status": wanted,
        },
    )


def _visible(request: HttpRequest, pk: int) -> ExpertApplication:
    application = ExpertApplication.objects.filter(pk=pk).first()
    if application is None or not has_perm(request.user, "experts.view_expertapplication"):
        raise Http404
    return application


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _visible(request, pk)
    return render(
        request,
        "experts/application_detail.html",
        {
            "application": application,
            "may_review": has_perm(request.user, "experts.review_expertapplication")
            and application.status == ExpertApplication.Status.SUBMITTED,
            "approve_form": ExpertApproveForm(),
            "return_form": ExpertReturnForm(),
        },
    )


@login_required
@require_POST
def application_approve(request: HttpRequest, pk: int) -> HttpResponse:
    application = _visible(request, pk)
    form = ExpertApproveForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(form.errors.as_text())
        applications.approve(
            Actor.from_request(request), application, username=form.cleaned_data["username"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已审核通过，专家已入库。"))
    return redirect("expert_application_detail", pk=pk)


@login_required
@require_POST
def application_return(request: HttpRequest, pk: int) -> HttpResponse:
    application = _visible(request, pk)
    form = ExpertReturnForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(form.errors.as_text())
        applications.return_application(
            Actor.from_request(request), application, reasons=form.cleaned_data["reasons"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已退回。"))
    return redirect("expert_application_detail", pk=pk)
