"""Experts apply to the pool themselves (专家申请); center staff review.

`apply` (anyone) records the application and mails a signed link (accounts.tokens, purpose
"expert-email"); opening it (`verify_email`) verifies the address and submits the application. The
same link shows the applicant their application's status and, once returned, lets them fix it and
`resubmit`. `approve` adds the expert to the pool through `services.add_expert` (its rules: 8 years
in the field, known specialty codes) with a user of the expert role — employed by the registered
organization named by `employer_uscc`, else none — and mails them a link to set their password
(Django's password-reset confirmation). `return_application` gives reasons.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as StdnumValidationError

from accounts.actors import Actor
from accounts.models import Organization, Role
from accounts.permissions import require_perm
from accounts.services import add_user_row
from accounts.tokens import TokenRefused, absolute, make_token, read_token, send_after_commit
from audit.services import record
from experts import services
from experts.models import Expert, ExpertApplication, Specialty
from lib.errors import Conflict, DomainError
from lib.text import check_text

FIELDS = (
    "name",
    "id_number",
    "title",
    "years_in_field",
    "region",
    "employer",
    "employer_uscc",
    "specialties",
    "email",
    "phone",
)


class ExpertApplicationRefused(DomainError):
    code = "EXPERT_APPLICATION_INVALID"

    def with_field(self, field: str) -> ExpertApplicationRefused:
        self.details = {field: [self.message]}
        return self


def _required(data: dict[str, Any], field: str, label: Any, limit: int) -> str:
    value = check_text(data.get(field, ""), field=str(label), max_length=limit).strip()
    if not value:
        raise ExpertApplicationRefused(
            _("请填写%(field)s。"), code="FIELD_REQUIRED", field=str(label)
        ).with_field(field)
    return value


def clean_data(data: dict[str, Any]) -> dict[str, Any]:
    name = _required(data, "name", _("姓名"), 50)
    id_number = _required(data, "id_number", _("身份证号码"), 18).upper()
    try:
        ric.validate(id_number)
    except StdnumValidationError as exc:
        raise ExpertApplicationRefused(_("身份证号码无效。"), code="INVALID_ID_NUMBER").with_field(
            "id_number"
        ) from exc
    title = data.get("title", "")
    if title not in Expert.Title.values:
        raise ExpertApplicationRefused(_("无效的职称。"), code="INVALID_TITLE").with_field("title")
    years = data.get("years_in_field")
    if isinstance(years, str) and re.fullmatch(r"[0-9]{1,2}", years):
        years = int(years)
    if not isinstance(years, int) or isinstance(years, bool) or not 0 <= years <= 70:
        raise ExpertApplicationRefused(
            _("从业年限须为 0 至 70 的整数。"), code="INVALID_YEARS"
        ).with_field("years_in_field")
    if years < 8:
        # 评标委员会和评标方法暂行规定: experts have worked in the field for at least 8 years.
        raise ExpertApplicationRefused(
            _("评标专家须从事相关领域工作满八年。"), code="TOO_FEW_YEARS"
        ).with_field("years_in_field")
    region = _required(data, "region", _("所在地区"), 12)
    if not re.fullmatch(r"[0-9]{6}", region):
        raise ExpertApplicationRefused(
            _("行政区划代码须为 6 位数字。"), code="INVALID_REGION"
        ).with_field("region")
    employer = _required(data, "employer", _("工作单位"), 200)
    employer_uscc = check_text(data.get("employer_uscc", ""), max_length=30).strip().upper()
    if employer_uscc and not uscc_number.is_valid(employer_uscc):
        raise ExpertApplicationRefused(
            _("统一社会信用代码无效：%(value)s"), code="INVALID_USCC", value=employer_uscc
        ).with_field("employer_uscc")
    specialties = data.get("specialties")
    if (
        not isinstance(specialties, list)
        or not specialties
        or len(specialties) > 10
        or not all(isinstance(code, str) for code in specialties)
    ):
        raise ExpertApplicationRefused(_("请选择专业。"), code="INVALID_SPECIALTY").with_field(
            "specialties"
        )
    codes = sorted(set(specialties))
    if Specialty.objects.filter(code__in=codes).count() != len(codes):
        raise ExpertApplicationRefused(
            _("请填写有效的专业代码。"), code="INVALID_SPECIALTY"
        ).with_field("specialties")
    email = _required(data, "email", _("邮箱"), 254)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ExpertApplicationRefused(_("邮箱地址无效。"), code="INVALID_EMAIL").with_field(
            "email"
        ) from exc
    phone = check_text(data.get("phone", ""), max_length=20).strip()
    if phone and not re.fullmatch(r"\+?[0-9][0-9-]{6,19}", phone):
        raise ExpertApplicationRefused(
            _("联系电话只能包含数字和连字符。"), code="INVALID_PHONE"
        ).with_field("phone")
    return {
        "name": name,
        "id_number": id_number,
        "title": title,
        "years_in_field": years,
        "region": region,
        "employer": employer,
        "employer_uscc": employer_uscc,
        "specialties": codes,
        "email": email,
        "phone": phone,
    }


def status_link(application: ExpertApplication) -> str:
    token = make_token("expert-email", {"application": application.pk, "email": application.email})
    return absolute(reverse("expert_application_status") + "?token=" + token)


def _send_link(application: ExpertApplication) -> None:
    send_after_commit(
        _("【bidhall】请验证您的邮箱（专家申请）"),
        _(
            "%(name)s，您好：\n\n请打开下面的链接验证邮箱并提交您的专家申请（3 天内有效）；"
            "之后也可通过它查看审核结果：\n%(link)s\n\n如非本人操作，请忽略本邮件。"
        )
        % {"name": application.name, "link": status_link(application)},
        application.email,
    )


def _snapshot(application: ExpertApplication) -> dict[str, Any]:
    # The ID number is kept in the application row, only its last four digits in the audit chain.
    return {
        "name": application.name,
        "id_number_tail": application.id_number[-4:],
        "title": application.title,
        "years_in_field": application.years_in_field,
        "region": application.region,
        "employer": application.employer,
        "employer_uscc": application.employer_uscc,
        "specialties": application.specialties,
        "email": application.email,
    }


def apply(actor: Actor, data: dict[str, Any]) -> ExpertApplication:
    clean = clean_data(data)
    with transaction.atomic():
        if ExpertApplication.objects.filter(
            id_number=clean["id_number"],
            status__in=[ExpertApplication.Status.SUBMITTED, ExpertApplication.Status.APPROVED],
        ).exists():
            raise Conflict(
                _("该身份证号码已有待审核或已通过的专家申请。"), code="EXPERT_APPLICATION_EXISTS"
            )
        application = ExpertApplication.objects.create(**clean)
        record(actor, "experts.application.created", application, _snapshot(application))
        _send_link(application)
    return application


def application_for(token: str) -> ExpertApplication:
    """The application a status link names, its email unchanged since the link was sent."""
    payload = read_token("expert-email", token)
    application_id = payload.get("application")
    application = ExpertApplication.objects.filter(
        pk=application_id if isinstance(application_id, int) else 0
    ).first()
    if application is None or application.email != payload.get("email"):
        raise TokenRefused(_("链接无效。"))
    return application


def verify_email(actor: Actor, token: str) -> ExpertApplication:
    """Opening the link verifies the email and submits a draft application."""
    application = application_for(token)
    with transaction.atomic():
        locked = ExpertApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status == ExpertApplication.Status.DRAFT:
            now = timezone.now()
            locked.email_verified_at = now
            locked.submitted_at = now
            locked.status = ExpertApplication.Status.SUBMITTED
            locked.save(update_fields=["email_verified_at", "submitted_at", "status"])
            record(actor, "experts.application.submitted", locked, {"email": locked.email})
    return locked


def resubmit(actor: Actor, token: str, data: dict[str, Any]) -> ExpertApplication:
    """A returned application, fixed by its applicant (through the status link) and sent again.
    The email stays the one verified."""
    application = application_for(token)
    clean = clean_data({**data, "email": application.email})
    with transaction.atomic():
        locked = ExpertApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != ExpertApplication.Status.RETURNED:
            raise Conflict(
                _("只有被退回的申请可以修改后重新提交。"), code="APPLICATION_NOT_RETURNED"
            )
        for field, value in clean.items():
            setattr(locked, field, value)
        locked.status = ExpertApplication.Status.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.save()
        record(actor, "experts.application.resubmitted", locked, _snapshot(locked))
    return locked


def _pending(application: ExpertApplication) -> ExpertApplication:
    locked = ExpertApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status != ExpertApplication.Status.SUBMITTED:
        raise Conflict(_("该申请当前不在待审核状态。"), code="APPLICATION_NOT_SUBMITTED")
    return locked


def approve(actor: Actor, application: ExpertApplication, *, username: str = "") -> Expert:
    """Staff approve: the expert joins the pool with a user account of the expert role."""
    require_perm(actor, "experts.review_expertapplication")
    with transaction.atomic():
        locked = _pending(application)
        employer = (
            Organization.objects.filter(uscc=locked.employer_uscc).first()
            if locked.employer_uscc
            else None
        )
        user = add_user_row(
            actor,
            organization=employer,
            username=username.strip() or f"expert{locked.pk:05d}",
            role=Role.EXPERT,
            password=None,
            display_name=locked.name,
            email=locked.email,
            phone=locked.phone,
            org_roles=[],
            email_verified=True,
        )
        expert = services.add_expert(
            actor,
            name=locked.name,
            title=locked.title,
            years_in_field=locked.years_in_field,
            region=locked.region,
            specialties=list(locked.specialties),
            employer=employer,
            user=user,
            phone=locked.phone,
        )
        locked.status = ExpertApplication.Status.APPROVED
        locked.decided_at = timezone.now()
        locked.decided_by = actor.acting_user
        locked.expert = expert
        locked.return_reasons = ""
        locked.save(
            update_fields=["status", "decided_at", "decided_by", "expert", "return_reasons"]
        )
        record(
            actor,
            "experts.application.approved",
            locked,
            {"expert": expert.pk, "user": user.pk, "username": user.username},
        )
        link = absolute(
            reverse(
                "password_reset_confirm",
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user),
                },
            )
        )
        send_after_commit(
            _("【bidhall】专家申请已通过"),
            _(
                "%(name)s，您好：\n\n您的专家申请已审核通过，已加入评标专家库。您的用户名是 %(username)s，"
                "请打开下面的链接设置密码：\n%(link)s"
            )
            % {"name": locked.name, "username": user.username, "link": link},
            locked.email,
        )
    return expert


def return_application(
    actor: Actor, application: ExpertApplication, *, reasons: str
) -> ExpertApplication:
    require_perm(actor, "experts.review_expertapplication")
    reasons = check_text(reasons, field=str(_("退回理由")), max_length=2000).strip()
    if not reasons:
        raise DomainError(_("请填写退回理由。"), code="REASON_REQUIRED")
    with transaction.atomic():
        locked = _pending(application)
        locked.status = ExpertApplication.Status.RETURNED
        locked.return_reasons = reasons
        locked.decided_at = timezone.now()
        locked.decided_by = actor.acting_user
        locked.save(update_fields=["status", "return_reasons", "decided_at", "decided_by"])
        record(actor, "experts.application.returned", locked, {"reasons": reasons})
        send_after_commit(
            _("【bidhall】专家申请被退回"),
            _(
                "%(name)s，您好：\n\n您的专家申请被退回，理由：\n%(reasons)s\n\n请修改后重新提交：%(link)s"
            )
            % {"name": locked.name, "reasons": reasons, "link": status_link(locked)},
            locked.email,
        )
    return locked
