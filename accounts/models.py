"""Parties of the trading center: organizations, their users, and their integrity (诚信) records."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as StdnumValidationError


class Role(models.TextChoices):
    """A user's role is the Django group of the same name; each user holds exactly one."""

    CENTER_STAFF = "center_staff", _("交易中心工作人员")
    AGENT = "agent", _("招标代理/采购人")
    SUPPLIER = "supplier", _("投标人/竞买人")
    SUPERVISOR = "supervisor", _("监督人员")
    EXPERT = "expert", _("评标专家")


def validate_uscc(value: str) -> None:
    try:
        uscc_number.validate(value)
    except StdnumValidationError as exc:
        raise ValidationError(
            _("统一社会信用代码无效：%(value)s"), code="invalid_uscc", params={"value": value}
        ) from exc


class Organization(models.Model):
    class Kind(models.TextChoices):
        CENTER = "center", _("交易中心")
        OWNER = "owner", _("招标人/采购人")
        AGENT = "agent", _("招标代理机构")
        SUPPLIER = "supplier", _("投标人/竞买人")
        REGULATOR = "regulator", _("行政监督部门")

    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    region = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    # 基本账户: deposits of 依法必须招标 tenders must come from it (条例 Art.26).
    basic_account_bank = models.CharField(_("基本账户开户行"), max_length=100, blank=True)
    basic_account_number = models.CharField(_("基本账户账号"), max_length=40, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    # When center staff first approved it (self-registration), or when staff created it. Null: a
    # self-registered organization still under its first review, which may not trade
    # (accounts.services.ensure_may_trade). Later changes of its data under review leave it set.
    approved_at = models.DateTimeField(_("审核通过时间"), null=True, blank=True)
    # Object permissions on what an organization owns are granted to this group, so every member
    # of the organization (and only they) share them.
    members_group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="organization"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "机构")
        verbose_name_plural = _("机构")
        ordering = ["name"]
        permissions = [("manage_integrity", _("可登记或解除机构的失信/不良行为限制"))]

    def __str__(self) -> str:
        return self.name

    def active_bars(self, when: dt.datetime) -> models.QuerySet[IntegrityRecord]:
        return self.integrity_records.active_at(
            when.date() if isinstance(when, dt.datetime) else when
        )


class IntegrityRecordQuerySet(models.QuerySet["IntegrityRecord"]):
    def active_at(self, day: dt.date) -> IntegrityRecordQuerySet:
        return self.filter(
            Q(lifted_at__isnull=True),
            Q(barred_from__lte=day),
            Q(barred_until__isnull=True) | Q(barred_until__gte=day),
        )


class IntegrityRecord(models.Model):
    """One bar on an organization's right to trade (失信被执行人, 严重违法失信, 不良行为…).

    The organization's integrity status is derived from these rows, never stored on it: "good" unless a
    record is active on the day asked about. Lifting a bar keeps the record for the history.
    """

    class Category(models.TextChoices):
        DISHONEST_DEBTOR = "dishonest_debtor", _("失信被执行人")
        GP_SERIOUS_VIOLATION = "gp_serious_violation", _("政府采购严重违法失信")
        TAX_VIOLATION = "tax_violation", _("重大税收违法")
        BAD_CONDUCT = "bad_conduct", _("不良行为记录")
        LAND_DEFAULT = "land_default", _("土地出让违约")

    class Source(models.TextChoices):
        CREDIT_CHINA = "credit_china", _("信用中国")
        CCGP = "ccgp", _("中国政府采购网")
        TAX_AUTHORITY = "tax", _("税务机关")
        REGULATOR = "regulator", _("行政监督部门")
        CENTER = "center", _("本交易中心")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="integrity_records"
    )
    category = models.CharField(_("类别"), max_length=32, choices=Category.choices)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    reason = models.TextField(_("事由"))
    decision_number = models.CharField(_("决定文号"), max_length=100, blank=True)
    barred_from = models.DateField(_("限制开始日"))
    # Null means until lifted (e.g. 失信被执行人 stays listed until the court removes it).
    barred_until = models.DateField(_("限制截止日（含）"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_reason = models.TextField(_("解除理由"), blank=True)

    objects = IntegrityRecordQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("singular", "诚信记录")
        verbose_name_plural = _("诚信记录")
        ordering = ["-barred_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(barred_until__isnull=True)
                | Q(barred_until__gte=models.F("barred_from")),
                name="integrity_until_after_from",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_category_display()}"


class User(AbstractUser):
    """A person. Belongs to exactly one organization (none only for a bootstrap superuser)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    # Set when the user opened the signed link sent to `email` (accounts.tokens); a changed email
    # needs a new verification.
    email_verified_at = models.DateTimeField(_("邮箱验证时间"), null=True, blank=True)
    # Set when the user typed back the code texted to `phone`; only a verified number receives SMS
    # notices (notifications/), and a changed number needs a new verification.
    phone_verified_at = models.DateTimeField(_("手机验证时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role(self) -> str | None:
        names = {group.name for group in self.groups.all()}
        return next((role.value for role in Role if role.value in names), None)

    def get_role_display(self) -> str:
        role = self.role
        return str(Role(role).label) if role else ""

    @property
    def org_roles(self) -> list[str]:
        return sorted(self.org_role_grants.values_list("role", flat=True))


class OrgRole(models.TextChoices):
    """What a user may do inside their own organization (beside the platform-wide `Role`).

    A user may hold several. Services call `accounts.services.require_org_role`.
    """

    ADMIN = "admin", _("机构管理员")
    BID_OPERATOR = "bid_operator", _("投标/竞买操作")
    FINANCE = "finance", _("保证金/财务")
    VIEWER = "viewer", _("只读")


class OrgRoleGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="org_role_grants")
    role = models.CharField(_("机构内角色"), max_length=16, choices=OrgRole.choices)
    granted_at = models.DateTimeField(_("授予时间"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "机构内角色")
        verbose_name_plural = _("机构内角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="org_role_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class Invitation(models.Model):
    """An organization administrator's invitation: the invitee opens the signed link
    (accounts.tokens, purpose "invitation") before `expires_at`, chooses a username and password
    and joins with `roles`. Used once."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField(_("邮箱"))
    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    roles = models.JSONField(_("机构内角色"), default=list)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("邀请时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    accepted_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "用户邀请")
        verbose_name_plural = _("用户邀请")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email


class LoginSession(models.Model):
    """One login's session, recorded at `user_logged_in` so that its user can list and end it.

    `session_key` references the Django session (the same secret `django_session` holds); ending
    the session deletes that row, which logs the browser out at its next request. When the session
    was last used is kept in the session itself (accounts.sessions), not here: a read stays a read.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip = models.GenericIPAddressField(_("登录地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("登录时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "登录会话")
        verbose_name_plural = _("登录会话")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.created_at:%Y-%m-%d %H:%M}"


def license_path(instance: Any, filename: str) -> str:
    suffix = Path(filename).suffix.lower()[:8]
    return f"licenses/{instance.organization_id}/{uuid.uuid4().hex}{suffix}"


class OrganizationApplication(models.Model):
    """The review case of one self-registered organization (one per organization).

    `status` is the state of its latest submission: draft (registered, email not yet verified) →
    submitted (under review) → approved | returned (with `return_reasons` the applicant sees, fixes
    and resubmits). After approval, a change of the organization's data is a new submission too, so
    the status goes back to submitted; the organization keeps trading with its approved data
    meanwhile (`Organization.approved_at`). What each submission said is in `OrganizationVersion`.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("待验证邮箱")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")

    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, related_name="application"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # What the registration said before the first submission (its email was not verified yet).
    draft = models.JSONField(default=dict)
    draft_license = models.FileField(upload_to=license_path, blank=True)
    draft_license_sha256 = models.CharField(max_length=64, blank=True)
    return_reasons = models.TextField(_("退回理由"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "主体注册申请")
        verbose_name_plural = _("主体注册申请")
        ordering = ["-updated_at", "-id"]
        permissions = [("review_application", _("可审核主体注册申请"))]

    def __str__(self) -> str:
        return str(self.organization)


class OrganizationVersion(models.Model):
    """One submitted version of an organization's registered data: append-only.

    Written once at submission (data, who, when, its hash over lib.canonical) and given its decision
    once by center staff; the live `Organization` row changes only when a version is approved.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("通过")
        RETURNED = "returned", _("退回")

    application = models.ForeignKey(
        OrganizationApplication, on_delete=models.PROTECT, related_name="versions"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(_("版本"))
    data = models.JSONField()
    license = models.FileField(upload_to=license_path, blank=True)
    license_sha256 = models.CharField(max_length=64, blank=True)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    decision = models.CharField(
        _("审核结论"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reasons = models.TextField(_("退回理由"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "主体信息版本")
        verbose_name_plural = _("主体信息版本")
        ordering = ["application", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "number"], name="organization_version_number_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} v{self.number}"

    # What may change after a version is written: its decision, once (accounts.registration).
    DECISION_FIELDS = frozenset({"decision", "decided_by", "decided_at", "reasons"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and (
            update_fields is None or not set(update_fields) <= self.DECISION_FIELDS
        ):
            raise RuntimeError("an organization version is append-only: only its decision is set")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("an organization version is never deleted")
