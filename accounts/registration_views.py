"""Pages of self-registration (机构注册), its review (注册审核), an organization's users, sessions and
password reset. Each parses, calls one service, replies."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import members, registration, sessions
from accounts.actors import Actor
from accounts.forms import (
    AcceptInvitationForm,
    InviteForm,
    OrgRolesForm,
    RegistrationForm,
    ReturnForm,
    TokenForm,
    VersionForm,
)
from accounts.models import (
    LoginSession,
    OrganizationApplication,
    OrganizationVersion,
    OrgRole,
    Role,
)
from accounts.permissions import has_perm, signed_in_user
from accounts.registration_api import license_cap
from accounts.services import has_org_role
from lib.addresses import client_ip
from lib.canonical import sha256_hex
from lib.errors import DomainError
from lib.uploads import ANYONE, accepts_uploads

DATA_FIELDS = registration.DATA_FIELDS


def _form_error(form: Any, exc: DomainError) -> None:
    """A service's refusal, shown at its field when it names one."""
    field = next(iter(exc.details), None) if isinstance(exc.details, dict) else None
    form.add_error(field if field in form.fields else None, exc.message)


@accepts_uploads(ANYONE, max_bytes=license_cap)
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = registration.register(
                Actor.from_request(request),
                uscc=data["uscc"],
                data={field: data[field] for field in DATA_FIELDS},
                license=data["license"],
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            login(
                request,
                application.created_by,
                backend="django.contrib.auth.backends.ModelBackend",
            )
            return redirect("register_done")
    return render(request, "accounts/register.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


def verify_email(request: HttpRequest) -> HttpResponse:
    """The link from the email shows a button; the POST verifies (a link that a mail scanner
    fetches changes nothing)."""
    form = TokenForm(request.POST or None, initial={"token": request.GET.get("token", "")})
    if request.method == "POST" and form.is_valid():
        try:
            registration.verify_email(Actor.from_request(request), form.cleaned_data["token"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("邮箱已验证，注册申请已提交审核。"))
            return redirect("my_application" if request.user.is_authenticated else "login")
    return render(request, "accounts/verify_email.html", {"form": form})


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    try:
        registration.resend_verification(Actor.from_request(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("验证邮件已重新发送。"))
    return redirect("my_application")


def _version_form(application: OrganizationApplication) -> VersionForm:
    last = application.versions.order_by("-number").first()
    return VersionForm(initial=last.data if last else application.draft)


@accepts_uploads(Role.SUPPLIER, Role.AGENT, max_bytes=license_cap)
@login_required
def my_application(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    application = (
        OrganizationApplication.objects.filter(organization_id=user.organization_id or 0)
        .select_related("organization", "created_by")
        .first()
    )
    if application is None:
        raise Http404
    form = _version_form(application)
    if request.method == "POST":
        form = VersionForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                registration.submit_version(
                    Actor.from_request(request),
                    application,
                    data={field: data[field] for field in DATA_FIELDS},
                    license=data.get("license"),
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已提交，请等待交易中心审核。"))
                return redirect("my_application")
    may_submit = has_org_role(user, OrgRole.ADMIN) and application.status in (
        OrganizationApplication.Status.RETURNED,
        OrganizationApplication.Status.APPROVED,
    )
    return render(
        request,
        "accounts/my_application.html",
        {
            "application": application,
            "versions": application.versions.select_related("submitted_by", "decided_by"),
            "form": form,
            "may_submit": may_submit,
            "email_verified": user.email_verified_at is not None,
        },
    )


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, "accounts.view_organizationapplication"):
        raise Http404
    status = request.GET.get("status", OrganizationApplication.Status.SUBMITTED)
    rows = OrganizationApplication.objects.select_related("organization")
    if status in OrganizationApplication.Status.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "accounts/application_list.html",
        {
            "applications": rows.order_by("-updated_at")[:500],
            "statuses": OrganizationApplication.Status.choices,
            "status": status,
        },
    )


def _reviewable(request: HttpRequest, pk: int) -> OrganizationApplication:
    application = (
        OrganizationApplication.objects.select_related("organization", "created_by")
        .filter(pk=pk)
        .first()
    )
    if application is None or not registration.may_view(request.user, application):
        raise Http404
    return application


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _reviewable(request, pk)
    return render(
        request,
        "accounts/application_detail.html",
        {
            "application": application,
            "versions": application.versions.select_related("submitted_by", "decided_by"),
            "may_review": has_perm(request.user, "accounts.review_application")
            and application.status == OrganizationApplication.Status.SUBMITTED,
            "return_form": ReturnForm(),
        },
    )


@login_required
def version_license(request: HttpRequest, pk: int) -> FileResponse:
    version = OrganizationVersion.objects.filter(pk=pk).first()
    if version is None or not version.license:
        raise Http404
    _reviewable(request, version.application_id)
    return FileResponse(version.license.open("rb"), as_attachment=True)


@login_required
@require_POST
def application_approve(request: HttpRequest, pk: int) -> HttpResponse:
    application = _reviewable(request, pk)
    try:
        registration.approve(Actor.from_request(request), application)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已审核通过。"))
    return redirect("application_detail", pk=pk)


@login_required
@require_POST
def application_return(request: HttpRequest, pk: int) -> HttpResponse:
    application = _reviewable(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("application_detail", pk=pk)
    try:
        registration.return_application(
            Actor.from_request(request), application, reasons=form.cleaned_data["reasons"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已退回。"))
    return redirect("application_detail", pk=pk)


# --- An organization's users ------------------------------------------------------------------


@login_required
def org_users(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    try:
        org = members.administered_organization(actor)
    except DomainError as exc:
        raise Http404 from exc
    invite_form = InviteForm(request.POST or None)
    if request.method == "POST" and invite_form.is_valid():
        try:
            members.invite(actor, **invite_form.cleaned_data)
        except DomainError as exc:
            _form_error(invite_form, exc)
        else:
            messages.success(request, _("邀请已发送。"))
            return redirect("org_users")
    users = org.users.order_by("username").prefetch_related("org_role_grants")
    return render(
        request,
        "accounts/org_users.html",
        {
            "org": org,
            "users": [(user, OrgRolesForm(initial={"roles": user.org_roles})) for user in users],
            "invitations": org.invitations.all()[:50],
            "invite_form": invite_form,
        },
    )


@login_required
@require_POST
def org_user_roles(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    form = OrgRolesForm(request.POST)
    try:
        user = members.member_of(actor, pk)
        if not form.is_valid():
            raise DomainError(_("请至少选择一个角色。"), code="ORG_ROLE_REQUIRED_FIELD")
        members.set_org_roles(actor, user, form.cleaned_data["roles"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("角色已更新。"))
    return redirect("org_users")


@login_required
@require_POST
def org_user_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    try:
        user = members.member_of(actor, pk)
        members.set_member_active(actor, user, active=request.POST.get("active") == "1")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已更新。"))
    return redirect("org_users")


def accept_invitation(request: HttpRequest) -> HttpResponse:
    form = AcceptInvitationForm(
        request.POST or None, initial={"token": request.GET.get("token", "")}
    )
    invitation = None
    try:
        invitation = members.invitation_for(
            request.POST.get("token", "")
            if request.method == "POST"
            else request.GET.get("token", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    if invitation is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            members.accept_invitation(
                Actor.from_request(request),
                token=data["token"],
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("账户已创建，请登录。"))
            return redirect("login")
    return render(
        request, "accounts/accept_invitation.html", {"form": form, "invitation": invitation}
    )


# --- Sessions ---------------------------------------------------------------------------------


@login_required
def my_sessions(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "accounts/sessions.html",
        {"rows": sessions.open_sessions(user, request.session.session_key)},
    )


@login_required
@require_POST
def end_session(request: HttpRequest, pk: int) -> HttpResponse:
    login_session = LoginSession.objects.select_related("user").filter(pk=pk).first()
    if login_session is None:
        raise Http404
    try:
        sessions.end_session(Actor.from_request(request), login_session)
    except DomainError as exc:
        raise Http404 from exc
    messages.success(request, _("会话已结束。"))
    return redirect("my_sessions")


# --- Password reset ---------------------------------------------------------------------------


def _over_rate(key: str) -> bool:
    """Count one more reset asked under `key` this hour; True when that goes over the rate."""
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > settings.PASSWORD_RESET_RATE


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email, throttled per client address (429 once over PASSWORD_RESET_RATE an
    hour) and per email address (further mails are silently not sent). Every answer is the same
    "if the address is registered, a mail is on its way": nothing tells whether an email exists."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        address = client_ip(self.request.META) or "unknown"
        if _over_rate(f"password-reset:ip:{address}"):
            response = self.render_to_response(
                self.get_context_data(form=form, throttled=True), status=429
            )
            response["Retry-After"] = "3600"
            return response
        email = form.cleaned_data["email"].strip().lower()
        if _over_rate(f"password-reset:email:{sha256_hex(email.encode())}"):
            return redirect(self.get_success_url())
        return super().form_valid(form)
