"""Contracts and their performance (合同与履约): one contract per awarded lot, every change an
immutable version, signed by both parties, published for government procurement, performed through
milestones, accepted (履约验收) or terminated; late or poor performance recorded.

A contract runs: draft → signed (both parties signed its version) → published (GP: 合同公告) →
performing (a delivery was recorded) → accepted | terminated. Its rules are in `contracts.rules`
(the law in docs/law.md, "Contract and performance"); every step is an audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import IntegrityRecord, Organization
from trading.models import MONEY, Lot, Project

TEXT_LIMIT = 20_000  # characters of terms; reasons, remarks and descriptions are shorter


class Contract(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草拟中")
        SIGNED = "signed", _("已签订")
        PUBLISHED = "published", _("已公告")
        PERFORMING = "performing", _("履约中")
        ACCEPTED = "accepted", _("已验收")
        TERMINATED = "terminated", _("已终止")

    number = models.CharField(_("合同编号"), max_length=24, unique=True)
    # One live contract per awarded lot (the award's winner and price); a draft voided when its winner
    # refused or its award was declared void stays, terminated, beside the next winner's.
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="contracts")
    purchaser = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="purchased_contracts",
        verbose_name=_("采购人/招标人"),
    )
    agent = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="agented_contracts",
        verbose_name=_("代理机构"),
    )
    supplier = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="supplied_contracts",
        verbose_name=_("中标/成交供应商"),
    )
    # The award's price: what the contract must keep (招标投标法 Art.46; 条例 Art.57) and what a
    # GP supplement's 10 % is counted on (政府采购法 Art.49).
    award_price = models.DecimalField(_("中标/成交价"), **MONEY)
    # The effective version's figures (copied from it when both parties have signed it).
    price = models.DecimalField(_("合同价款"), **MONEY)
    performance_bond = models.DecimalField(_("履约保证金"), null=True, blank=True, **MONEY)
    terms = models.TextField(_("合同主要条款"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    # The version in force (0 while nothing is signed).
    effective_version = models.PositiveIntegerField(_("生效版本"), default=0)
    drafted_at = models.DateTimeField(_("起草时间"))
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("签订时间"), null=True, blank=True)
    # GP: the 合同公告 is due within 2 working days of signing (GP 条例 Art.50).
    publication_due_at = models.DateTimeField(_("合同公告期限"), null=True, blank=True)
    published_at = models.DateTimeField(_("公告时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("验收通过时间"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    termination_reason = models.TextField(_("终止理由"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "合同")
        verbose_name_plural = _("合同")
        ordering = ["-drafted_at", "-id"]
        permissions = [
            ("manage_contract", _("可管理合同（起草、变更、履约记录、验收）")),
            ("sign_contract", _("可签署合同")),
            ("perform_contract", _("可记录交付")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="contract_price_positive"),
            models.UniqueConstraint(
                fields=["lot"],
                condition=~Q(status="terminated"),
                name="one_live_contract_per_lot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.lot}"

    @classmethod
    def live_for_lot(cls) -> Exists:
        """For a query over awards (`Publicity`): its lot has a contract that was not voided."""
        return Exists(cls.objects.filter(lot=OuterRef("lot")).exclude(status=cls.Status.TERMINATED))

    @property
    def is_gp(self) -> bool:
        return self.lot.project.kind == Project.Kind.GOVERNMENT_PROCUREMENT

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.ACCEPTED, self.Status.TERMINATED)

    @property
    def in_force(self) -> bool:
        return self.status in (self.Status.SIGNED, self.Status.PUBLISHED, self.Status.PERFORMING)


class ContractVersionQuerySet(models.QuerySet["ContractVersion"]):
    def update(self, **kwargs: Any) -> int:
        # Only the signature columns change after creation (see ContractVersion.save).
        if set(kwargs) - ContractVersion.SIGNATURE_FIELDS:
            raise RuntimeError("contract versions are immutable")
        return super().update(**kwargs)

    def delete(self) -> NoReturn:
        raise RuntimeError("contract versions are immutable")


class ContractVersion(models.Model):
    """What the parties agree, exactly: a version is never changed, only signed. `sha256` is the
    canonical hash of `content` (lib.canonical), which is what each party signs (contract.sign)."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("合同文本")
        AMENDMENT = "amendment", _("合同变更")
        SUPPLEMENT = "supplement", _("补充合同（追加同类货物、服务）")

    SIGNATURE_FIELDS = frozenset(
        {
            "purchaser_signed_at",
            "purchaser_signed_by",
            "purchaser_signed_by_id",
            "supplier_signed_at",
            "supplier_signed_by",
            "supplier_signed_by_id",
            "effective_at",
        }
    )

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    price = models.DecimalField(_("合同价款"), **MONEY)
    performance_bond = models.DecimalField(_("履约保证金"), null=True, blank=True, **MONEY)
    terms = models.TextField(_("合同主要条款"))
    reason = models.CharField(_("变更理由"), max_length=500, blank=True)
    # {"price": [before, after]} and {"terms": unified diff} against the version it follows.
    diff = models.JSONField(_("变更内容"), default=dict, blank=True)
    content = models.JSONField(_("版本内容"))
    sha256 = models.CharField(_("内容哈希"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    purchaser_signed_at = models.DateTimeField(_("采购人方签署时间"), null=True, blank=True)
    purchaser_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    supplier_signed_at = models.DateTimeField(_("供应商签署时间"), null=True, blank=True)
    supplier_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    effective_at = models.DateTimeField(_("生效时间"), null=True, blank=True)

    objects = ContractVersionQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("singular", "合同版本")
        verbose_name_plural = _("合同版本")
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="one_contract_version")
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or fields - self.SIGNATURE_FIELDS:
                raise RuntimeError("contract versions are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("contract versions are immutable")


class ContractDocument(models.Model):
    """A file of the contract (合同文本, 附件, 补充协议), with its SHA-256; the version it came with
    lists it, so a signature over the version covers the file."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="documents")
    version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(_("名称"), max_length=200)
    file = models.FileField(upload_to="contracts/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = pgettext_lazy("singular", "合同文件")
        verbose_name_plural = _("合同文件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    """A delivery the contract schedules: its due day, what is delivered, the part of the price it
    carries; when it was delivered and paid. Late is computed (`late`), never stored."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="milestones")
    number = models.PositiveIntegerField(_("序号"))
    description = models.CharField(_("内容"), max_length=500)
    due_on = models.DateField(_("应交付日"))
    amount = models.DecimalField(_("对应价款"), **MONEY)
    delivered_at = models.DateTimeField(_("交付时间"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = pgettext_lazy("singular", "履约节点")
        verbose_name_plural = _("履约节点")
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="one_milestone_number"),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="milestone_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} #{self.number} {self.description[:30]}"

    def late_at(self, now: dt.datetime) -> bool:
        """Delivered after its due day, or not delivered once the due day (Beijing) has ended."""
        if self.delivered_at is not None:
            return timezone.localtime(self.delivered_at).date() > self.due_on
        return timezone.localtime(now).date() > self.due_on

    @property
    def late(self) -> bool:
        return self.late_at(timezone.now())


class Acceptance(models.Model):
    """履约验收: the purchaser's acceptance of what was performed (GP 条例 Art.45), done through its
    agent on the platform."""

    class Result(models.TextChoices):
        PASSED = "passed", _("验收合格")
        FAILED = "failed", _("验收不合格")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="acceptances")
    accepted_on = models.DateField(_("验收日期"))
    result = models.CharField(_("验收结论"), max_length=8, choices=Result.choices)
    remarks = models.TextField(_("验收意见"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = pgettext_lazy("singular", "履约验收")
        verbose_name_plural = _("履约验收")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.get_result_display()}"


class PerformanceIssue(models.Model):
    """Late or poor performance recorded by the purchaser's side. A serious one can become a
    不良行为 record (accounts.IntegrityRecord, BAD_CONDUCT) — only by center staff, who decide the bar
    (`contracts.services.escalate_issue` → `accounts.services.bar_organization`)."""

    class Kind(models.TextChoices):
        LATE = "late", _("逾期履约")
        POOR = "poor", _("履约质量不合格")
        OTHER = "other", _("其他违约行为")

    class Severity(models.TextChoices):
        MINOR = "minor", _("一般")
        SERIOUS = "serious", _("严重")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="issues")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, null=True, blank=True, related_name="issues"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices)
    description = models.TextField(_("情况说明"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"))
    integrity_record = models.OneToOneField(
        IntegrityRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="performance_issue",
        verbose_name=_("不良行为记录"),
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "履约问题")
        verbose_name_plural = _("履约问题")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.get_kind_display()}"
