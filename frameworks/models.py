"""Framework agreements (框架协议采购, 财政部令第110号): the agreement a solicitation concludes, its
admitted suppliers (入围供应商) with their agreed unit prices, and the second-stage purchases
(采购合同授予) placed under it.

The solicitation itself is a project of method `framework`, run by the sealed-bid engine of bidding/
(documents, sealed responses, opening, evaluation). Its confirmed report ranks every compliant
response; `frameworks.services.conclude_agreement` admits the best of them. The rules are in
`frameworks.rules`; docs/law.md, "Framework agreements", says where each comes from.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from trading.models import MONEY, Lot

REQUIREMENT_LIMIT = 2_000  # characters of a second stage's requirement (竞价需求)


class Agreement(models.Model):
    class Admission(models.TextChoices):
        # 110号令: admission by the lowest compliant unit prices, or by quality with the price fixed.
        PRICE_PRIORITY = "price_priority", _("价格优先法")
        QUALITY_PRIORITY = "quality_priority", _("质量优先法")

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("有效")
        TERMINATED = "terminated", _("已终止")

    number = models.CharField(_("框架协议编号"), max_length=24, unique=True)
    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="framework_agreement")
    admission = models.CharField(_("入围方法"), max_length=20, choices=Admission.choices)
    # 最高限制单价: no admitted price and no purchase under the agreement may exceed it.
    max_unit_price = models.DecimalField(_("最高限制单价（元）"), **MONEY)
    second_stage_methods = models.JSONField(_("第二阶段成交方式"), default=list)
    valid_from = models.DateTimeField(_("协议生效"))
    valid_until = models.DateTimeField(_("协议期满"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.IN_FORCE
    )
    # The evaluation report the admission was cut from (its canonical hash, as the report PDF prints).
    report_sha256 = models.CharField(max_length=64)
    concluded_at = models.DateTimeField(_("入围确定时间"))
    concluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    responses = models.PositiveIntegerField(_("合格响应数"))
    terminated_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    termination_reason = models.CharField(_("终止原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("框架协议")
        verbose_name_plural = _("框架协议")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_unit_price__gt=0), name="framework_cap_positive"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")),
                name="framework_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.lot.project.title}"

    def in_force(self, at: dt.datetime | None = None) -> bool:
        """In force: not terminated and inside its term (computed, never stored: reads never write)."""
        moment = at or timezone.now()
        return self.status == self.Status.IN_FORCE and self.valid_from <= moment < self.valid_until


class Member(models.Model):
    """An admitted supplier (入围供应商) and its agreed unit price (协议价格), the cap of every price it
    may be paid under the agreement."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="members")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveIntegerField(_("入围排序"))
    agreed_price = models.DecimalField(_("协议价格（元）"), **MONEY)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organization"], name="one_membership_per_supplier"
            ),
            models.UniqueConstraint(fields=["agreement", "rank"], name="one_member_per_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.organization.name}"


class CallOff(models.Model):
    """One second-stage purchase (第二阶段 采购合同授予) under an agreement."""

    class Method(models.TextChoices):
        DIRECT = "direct", _("直接选定")
        SECOND_ROUND = "second_round", _("二次竞价")
        ROTATION = "rotation", _("顺序轮候")

    class Status(models.TextChoices):
        QUOTING = "quoting", _("竞价中")
        AWARDED = "awarded", _("已成交")
        FAILED = "failed", _("竞价失败")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="call_offs")
    number = models.PositiveIntegerField(_("序号"))
    method = models.CharField(_("成交方式"), max_length=16, choices=Method.choices)
    requirement = models.TextField(_("采购需求"), max_length=REQUIREMENT_LIMIT)
    quantity = models.PositiveIntegerField(_("数量"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices)
    placed_at = models.DateTimeField(_("发起时间"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    # 二次竞价: the members invited (ids) and the time their sealed quotes are opened.
    invited = models.JSONField(_("邀请的入围供应商"), default=list, blank=True)
    closes_at = models.DateTimeField(_("报价截止"), null=True, blank=True)
    opened_at = models.DateTimeField(_("开启时间"), null=True, blank=True)
    supplier = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("成交供应商"),
    )
    unit_price = models.DecimalField(_("成交单价（元）"), null=True, blank=True, **MONEY)
    amount = models.DecimalField(_("成交金额（元）"), null=True, blank=True, **MONEY)
    awarded_at = models.DateTimeField(_("成交时间"), null=True, blank=True)

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="call_off_number"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="call_off_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status="awarded", supplier__isnull=False, unit_price__gt=0)
                | ~Q(status="awarded"),
                name="awarded_call_off_has_supplier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.number}-{self.number}"


class Quote(models.Model):
    """A member's sealed quote in a second round (二次竞价), opened by the platform at the close."""

    call_off = models.ForeignKey(CallOff, on_delete=models.PROTECT, related_name="quotes")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    sealed = models.BinaryField()
    sealed_sha256 = models.CharField(max_length=64)
    unit_price = models.DecimalField(_("报价单价（元）"), null=True, blank=True, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["call_off", "organization"], name="one_quote_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.call_off} / {self.organization_id}"
