"""Self-registration of organizations (主体注册) and the review of their data, version by version.

The journey:

1. `register` (anyone): the organization (统一社会信用代码 checked with python-stdnum and unique), its
   first user — its administrator — and its `OrganizationApplication` in `draft`, holding what was
   entered and the business licence. A signed link (accounts.tokens, purpose "email") goes to the
   user's email. Mobile numbers are not verified yet: that waits for the notification issue's SMS
   adapter; until then the number is kept as entered and marked unverified.
2. `verify_email` (the link): the email is verified, and a draft application is submitted: its data
   becomes version 1 (`OrganizationVersion`, append-only, hashed with lib.canonical).
3. `approve` or `return_application` (center staff): approval copies the version's data onto the live
   `Organization` and, the first time, sets `approved_at` — from then on `ensure_may_trade` lets it
   trade; a return names the reasons the applicant sees.
4. `submit_version` (the organization's administrator): a fixed application after a return, or a
   change of the registered data (name, kind, legal representative, 基本账户, region, contact,
   licence) after approval — a new version under review; the live data stays as approved until staff
   approve the new one.

Only supplier, agent and owner organizations register themselves; the center and regulators are
created by staff.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm

from accounts.actors import Actor
from accounts.models import (
    Organization,
    OrganizationApplication,
    OrganizationVersion,
    OrgRole,
    Role,
    User,
)
from accounts.permissions import require_perm
from accounts.services import add_user_row, clean_uscc, has_org_role
from accounts.signals import application_decided
from accounts.tokens import TokenRefused, absolute, make_token, read_token, send_after_commit
from audit.services import record
from lib.canonical import canonical_sha256, canonical_value, file_sha256
from lib.errors import Conflict, DomainError, NotPermitted
from lib.text import check_text

REGISTRABLE_KINDS = (
    Organization.Kind.SUPPLIER,
    Organization.Kind.AGENT,
    Organization.Kind.OWNER,
)
REGISTRABLE_KIND_VALUES = [str(kind) for kind in REGISTRABLE_KINDS]
# The registered data every version holds (the USCC is the organization's identity: never changed).
DATA_FIELDS = (
    "name",
    "kind",
    "legal_representative",
    "basic_account_bank",
    "basic_account_number",
    "region",
    "contact_name",
    "contact_email",
    "contact_phone",
)
# What approval copies onto the live organization.
LIVE_FIELDS = (
    "name",
    "kind",
    "legal_representative",
    "basic_account_bank",
    "basic_account_number",
    "region",
)
LICENSE_TYPES = {
    b"%PDF-": ".pdf",
    b"\xff\xd8\xff": ".jpg",
    b"\x89PNG\r\n\x1a\n": ".png",
}


class RegistrationRefused(DomainError):
    code = "REGISTRATION_INVALID"

    def with_field(self, field: str) -> RegistrationRefused:
        """The refusal, naming the field at fault for the API's error details and the form."""
        self.field = field
        self.details = {field: [self.message]}
        return self


def role_for_kind(kind: str) -> str:
    return Role.SUPPLIER if kind == Organization.Kind.SUPPLIER else Role.AGENT


def _text(data: dict[str, Any], field: str, label: Any, limit: int) -> str:
    value = check_text(data.get(field, ""), field=str(label), max_length=limit).strip()
    if not value:
        raise RegistrationRefused(
            _("请填写%(field)s。"), code="FIELD_REQUIRED", field=str(label)
        ).with_field(field)
    return value


def clean_data(data: dict[str, Any]) -> dict[str, str]:
    """The registered data, checked: every field present, bounded, of its shape."""
    clean = {
        "name": _text(data, "name", _("机构名称"), 200),
        "legal_representative": _text(data, "legal_representative", _("法定代表人"), 100),
        "basic_account_bank": _text(data, "basic_account_bank", _("基本账户开户行"), 100),
        "basic_account_number": _text(data, "basic_account_number", _("基本账户账号"), 40),
        "region": _text(data, "region", _("行政区划代码"), 12),
        "contact_name": _text(data, "contact_name", _("联系人"), 100),
        "contact_email": _text(data, "contact_email", _("联系人邮箱"), 254),
        "contact_phone": _text(data, "contact_phone", _("联系人电话"), 20),
    }
    kind = data.get("kind", "")
    if kind not in REGISTRABLE_KINDS:
        raise RegistrationRefused(
            _("只能注册为投标人/竞买人、招标代理机构或招标人/采购人。"), code="INVALID_KIND"
        ).with_field("kind")
    clean["kind"] = str(kind)
    # 基本账户账号: bank account numbers are digits only (Chinese banks use 12–25).
    if not re.fullmatch(r"[0-9]{8,32}", clean["basic_account_number"]):
        raise RegistrationRefused(
            _("基本账户账号只能是 8 至 32 位数字。"), code="INVALID_ACCOUNT_NUMBER"
        ).with_field("basic_account_number")
    # 行政区划代码: six digits (GB/T 2260).
    if not re.fullmatch(r"[0-9]{6}", clean["region"]):
        raise RegistrationRefused(
            _("行政区划代码须为 6 位数字。"), code="INVALID_REGION"
        ).with_field("region")
    try:
        validate_email(clean["contact_email"])
    except ValidationError as exc:
        raise RegistrationRefused(_("邮箱地址无效。"), code="INVALID_EMAIL").with_field(
            "contact_email"
        ) from exc
    if not re.fullmatch(r"\+?[0-9][0-9-]{6,19}", clean["contact_phone"]):
        raise RegistrationRefused(
            _("联系电话只能包含数字和连字符。"), code="INVALID_PHONE"
        ).with_field("contact_phone")
    return {field: clean[field] for field in DATA_FIELDS}


def check_license(upload: UploadedFile) -> str:
    """The licence's SHA-256 once it is a PDF, JPEG or PNG within LICENSE_MAX_BYTES."""
    if not upload.size:
        raise RegistrationRefused(_("营业执照文件为空。"), code="EMPTY_FILE").with_field("license")
    if upload.size > settings.LICENSE_MAX_BYTES:
        raise RegistrationRefused(
            _("营业执照文件过大：最多 %(mib)s MiB。"),
            code="FILE_TOO_LARGE",
            mib=settings.LICENSE_MAX_BYTES // (1024 * 1024),
        ).with_field("license")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in LICENSE_TYPES):
        raise RegistrationRefused(
            _("营业执照须为 PDF、JPEG 或 PNG 文件。"), code="FILE_TYPE"
        ).with_field("license")
    digest = file_sha256(upload.chunks())
    upload.seek(0)
    return digest


def _license_name(upload: UploadedFile) -> str:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    suffix = next(ext for magic, ext in LICENSE_TYPES.items() if head.startswith(magic))
    return f"license{suffix}"


def check_password_strength(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise RegistrationRefused(
            " ".join(str(m) for m in exc.messages), code="WEAK_PASSWORD"
        ).with_field("password") from exc


def verification_link(user: User) -> str:
    token = make_token("email", {"user": user.pk, "email": user.email})
    return absolute(reverse("verify_email") + "?token=" + token)


def send_verification(user: User) -> None:
    send_after_commit(
        _("【bidhall】请验证您的邮箱"),
        _(
            "%(name)s，您好：\n\n请打开下面的链接验证邮箱地址（%(days)s 天内有效）：\n%(link)s\n\n"
            "如非本人操作，请忽略本邮件。"
        )
        % {"name": user.display_name or user.username, "days": 3, "link": verification_link(user)},
        user.email,
    )


def register(
    actor: Actor,
    *,
    uscc: str,
    data: dict[str, Any],
    license: UploadedFile,
    username: str,
    password: str,
    display_name: str = "",
) -> OrganizationApplication:
    """An organization signs itself up: organization (not approved), administrator, draft
    application; the verification email is sent once it commits."""
    code = clean_uscc(uscc)
    clean = clean_data(data)
    digest = check_license(license)
    with transaction.atomic():
        if Organization.objects.filter(uscc=code).exists():
            raise Conflict(_("统一社会信用代码 %(uscc)s 已登记。"), code="USCC_TAKEN", uscc=code)
        group = Group.objects.create(name=f"org-{code}")
        org = Organization.objects.create(
            uscc=code,
            members_group=group,
            approved_at=None,
            **{field: clean[field] for field in LIVE_FIELDS},
        )
        assign_perm("accounts.view_organization", group, org)
        probe = User(username=username, email=clean["contact_email"], display_name=display_name)
        check_password_strength(password, probe)
        user = add_user_row(
            actor,
            organization=org,
            username=username,
            role=role_for_kind(org.kind),
            password=password,
            display_name=display_name or clean["contact_name"],
            email=clean["contact_email"],
            phone=clean["contact_phone"],
            org_roles=[OrgRole.ADMIN],
        )
        application = OrganizationApplication(organization=org, draft=clean, created_by=user)
        application.draft_license.save(_license_name(license), license, save=False)
        application.draft_license_sha256 = digest
        application.save()
        assign_perm("accounts.view_organizationapplication", group, application)
        record(
            actor,
            "accounts.registration.registered",
            application,
            {
                "organization": org.pk,
                "uscc": code,
                "user": user.pk,
                "data": clean,
                "license_sha256": digest,
            },
        )
        send_verification(user)
    return application


def resend_verification(actor: Actor) -> None:
    user = actor.user
    if user is None:
        raise NotPermitted(_("请先登录。"))
    if user.email_verified_at is not None:
        raise Conflict(_("邮箱已验证。"), code="EMAIL_ALREADY_VERIFIED")
    send_verification(user)


def verify_email(actor: Actor, token: str) -> User:
    """The link from the verification email: verifies the address it was sent to, and submits the
    user's organization's application if it was waiting for that."""
    payload = read_token("email", token)
    with transaction.atomic():
        user_id = payload.get("user")
        user = (
            User.objects.select_for_update()
            .filter(pk=user_id if isinstance(user_id, int) else 0)
            .first()
        )
        if user is None or not user.is_active or user.email != payload.get("email"):
            raise TokenRefused(_("链接无效。"))
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
            record(actor, "accounts.user.email_verified", user, {"email": user.email})
        application = (
            OrganizationApplication.objects.select_for_update()
            .filter(organization_id=user.organization_id or 0, created_by=user)
            .first()
        )
        if application is not None and application.status == OrganizationApplication.Status.DRAFT:
            _submit(
                actor,
                application,
                user,
                application.draft,
                license_name=application.draft_license.name or "",
                license_sha256=application.draft_license_sha256,
            )
    return user


def version_hash(version: OrganizationVersion) -> str:
    return canonical_sha256(
        canonical_value(
            {
                "application": version.application_id,
                "organization": version.organization_id,
                "number": version.number,
                "data": version.data,
                "license_sha256": version.license_sha256,
                "submitted_by": version.submitted_by_id,
                "submitted_at": version.submitted_at,
            }
        )
    )


def _submit(
    actor: Actor,
    application: OrganizationApplication,
    user: User,
    data: dict[str, Any],
    *,
    license_name: str,
    license_sha256: str,
) -> OrganizationVersion:
    last = application.versions.order_by("-number").first()
    version = OrganizationVersion(
        application=application,
        organization=application.organization,
        number=(last.number + 1) if last else 1,
        data=data,
        license=license_name,
        license_sha256=license_sha256,
        submitted_by=user,
        submitted_at=timezone.now(),
    )
    version.sha256 = version_hash(version)
    version.save()
    application.status = OrganizationApplication.Status.SUBMITTED
    application.save(update_fields=["status", "updated_at"])
    record(
        actor,
        "accounts.registration.submitted",
        application,
        {"version": version.number, "sha256": version.sha256, "data": data},
    )
    return version


def submit_version(
    actor: Actor,
    application: OrganizationApplication,
    *,
    data: dict[str, Any],
    license: UploadedFile | None = None,
) -> OrganizationVersion:
    """The organization's administrator submits its data again: fixed after a return, or changed
    after approval. Without a new licence file the last one stands."""
    user = actor.user
    if (
        user is None
        or user.organization_id != application.organization_id
        or not has_org_role(user, OrgRole.ADMIN)
    ):
        raise NotPermitted(_("只有本机构的管理员可以提交主体信息。"))
    if not User.objects.filter(pk=user.pk, email_verified_at__isnull=False).exists():
        raise Conflict(_("请先验证邮箱。"), code="EMAIL_NOT_VERIFIED")
    clean = clean_data(data)
    digest = check_license(license) if license is not None else ""
    with transaction.atomic():
        locked = OrganizationApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status == OrganizationApplication.Status.SUBMITTED:
            raise Conflict(
                _("上一次提交仍在审核中，请等待审核结论。"), code="APPLICATION_UNDER_REVIEW"
            )
        if locked.status == OrganizationApplication.Status.DRAFT:
            raise Conflict(_("请先验证邮箱。"), code="EMAIL_NOT_VERIFIED")
        last = locked.versions.order_by("-number").first()
        if license is not None:
            # Stored beside the versions; a version references the file it was submitted with.
            holder = OrganizationVersion(organization=locked.organization)
            holder.license.save(_license_name(license), license, save=False)
            license_name, license_sha256 = holder.license.name, digest
        elif last is not None:
            license_name, license_sha256 = last.license.name, last.license_sha256
        else:
            license_name, license_sha256 = locked.draft_license.name, locked.draft_license_sha256
        return _submit(
            actor,
            locked,
            user,
            clean,
            license_name=license_name or "",
            license_sha256=license_sha256,
        )


def _pending_version(application: OrganizationApplication) -> OrganizationVersion:
    if application.status != OrganizationApplication.Status.SUBMITTED:
        raise Conflict(_("该申请当前不在待审核状态。"), code="APPLICATION_NOT_SUBMITTED")
    version = application.versions.filter(decision=OrganizationVersion.Decision.PENDING).first()
    if version is None:
        raise Conflict(_("该申请当前不在待审核状态。"), code="APPLICATION_NOT_SUBMITTED")
    return version


def approve(actor: Actor, application: OrganizationApplication) -> OrganizationApplication:
    """Center staff approve the pending version: the live organization takes its data."""
    require_perm(actor, "accounts.review_application", application)
    with transaction.atomic():
        locked = OrganizationApplication.objects.select_for_update().get(pk=application.pk)
        version = _pending_version(locked)
        now = timezone.now()
        org = Organization.objects.select_for_update().get(pk=locked.organization_id)
        before = {field: getattr(org, field) for field in LIVE_FIELDS}
        for field in LIVE_FIELDS:
            setattr(org, field, version.data[field])
        first_approval = org.approved_at is None
        if first_approval:
            org.approved_at = now
        org.save(update_fields=[*LIVE_FIELDS, "approved_at"])
        if role_for_kind(before["kind"]) != role_for_kind(org.kind):
            _move_users_to_role(org, role_for_kind(before["kind"]), role_for_kind(org.kind))
        version.decision = OrganizationVersion.Decision.APPROVED
        version.decided_by = actor.acting_user
        version.decided_at = now
        version.save(update_fields=["decision", "decided_by", "decided_at"])
        locked.status = OrganizationApplication.Status.APPROVED
        locked.return_reasons = ""
        locked.save(update_fields=["status", "return_reasons", "updated_at"])
        record(
            actor,
            "accounts.registration.approved",
            locked,
            {
                "version": version.number,
                "sha256": version.sha256,
                "first_approval": first_approval,
                "before": before,
                "after": {field: version.data[field] for field in LIVE_FIELDS},
            },
        )
        application_decided.send(approve, application=locked, version_number=version.number)
    return locked


def _move_users_to_role(org: Organization, old: str, new: str) -> None:
    """A kind change between supplier and agent/owner moves the members' platform role with it."""
    old_group, new_group = Group.objects.get(name=old), Group.objects.get(name=new)
    for user in org.users.filter(groups=old_group):
        user.groups.remove(old_group)
        user.groups.add(new_group)


def return_application(
    actor: Actor, application: OrganizationApplication, *, reasons: str
) -> OrganizationApplication:
    """Center staff return the pending version with reasons the applicant sees and can fix."""
    require_perm(actor, "accounts.review_application", application)
    reasons = check_text(reasons, field=str(_("退回理由")), max_length=2000).strip()
    if not reasons:
        raise DomainError(_("请填写退回理由。"), code="REASON_REQUIRED")
    with transaction.atomic():
        locked = OrganizationApplication.objects.select_for_update().get(pk=application.pk)
        version = _pending_version(locked)
        version.decision = OrganizationVersion.Decision.RETURNED
        version.decided_by = actor.acting_user
        version.decided_at = timezone.now()
        version.reasons = reasons
        version.save(update_fields=["decision", "decided_by", "decided_at", "reasons"])
        locked.status = OrganizationApplication.Status.RETURNED
        locked.return_reasons = reasons
        locked.save(update_fields=["status", "return_reasons", "updated_at"])
        record(
            actor,
            "accounts.registration.returned",
            locked,
            {"version": version.number, "sha256": version.sha256, "reasons": reasons},
        )
        application_decided.send(
            return_application, application=locked, version_number=version.number
        )
    return locked


def may_view(user: Any, application: OrganizationApplication) -> bool:
    """Staff and supervisors see every application; an organization's members see their own."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm("accounts.view_organizationapplication"):
        return True
    return bool(user.organization_id == application.organization_id)
