"""Complaint cases (投诉): a supplier or bidder asks the regulator to rule on a procurement after its
objection (异议) or challenge (质疑) was answered badly or not at all.

A case runs: filed → accepted (受理) or refused (不予受理) → investigated (the regulator asks the parties
for explanations and material) → decided (处理决定), with the procurement possibly suspended meanwhile
(`trading.Suspension`). Its periods come from `complaints.rules`; every step is an audit event.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from bidding.models import OpeningResponse, PublicityObjection
from trading.models import Lot, Objection, Project

TEXT_LIMIT = 10_000  # characters of facts, claims, requests, answers and decisions


class Complaint(models.Model):
    class Regime(models.TextChoices):
        # The law the case runs under, from the project's kind: 政府采购法 or 招标投标法实施条例.
        GP = "gp", _("政府采购投诉")
        TENDER = "tender", _("招标投标投诉")

    class Subject(models.TextChoices):
        DOCUMENTS = "documents", _("招标/采购文件")
        OPENING = "opening", _("开标")
        RESULT = "result", _("评标/中标结果")
        PROCESS = "process", _("招标/采购过程")

    class Status(models.TextChoices):
        FILED = "filed", _("待受理")
        REFUSED = "refused", _("不予受理")
        ACCEPTED = "accepted", _("已受理，处理中")
        DECIDED = "decided", _("已作出处理决定")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Outcome(models.TextChoices):
        DISMISSED = "dismissed", _("投诉事项不成立，驳回投诉")
        UPHELD = "upheld", _("投诉事项成立")

    class Remedy(models.TextChoices):
        NONE = "none", _("无需处理")
        CORRECT = "correct", _("责令改正后继续")
        REDO = "redo", _("责令重新开展采购活动/重新评标")
        ANNUL_AWARD = "annul_award", _("认定中标/成交结果无效")
        TERMINATE = "terminate", _("终止项目")

    number = models.CharField(_("案件编号"), max_length=24, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="complaints")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    regime = models.CharField(_("适用程序"), max_length=8, choices=Regime.choices)
    subject = models.CharField(_("投诉事项"), max_length=12, choices=Subject.choices)
    complainant = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("投诉人")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The objection or challenge it follows (at most one; required where the law puts one first).
    objection = models.ForeignKey(
        Objection, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    publicity_objection = models.ForeignKey(
        PublicityObjection,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    opening_response = models.ForeignKey(
        OpeningResponse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    facts = models.TextField(_("事实与理由"))
    claims = models.TextField(_("投诉请求"))
    # When the complainant knew (or should have known) what it complains of: the window counts from it.
    knew_at = models.DateTimeField(_("知道或应当知道之日"))
    filed_at = models.DateTimeField(_("投诉时间"))
    acceptance_due_at = models.DateTimeField(_("受理审查期限"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.FILED
    )
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    refused_at = models.DateTimeField(_("不予受理时间"), null=True, blank=True)
    refusal_reason = models.TextField(_("不予受理理由"), blank=True)
    # Moves later by the working days spent waiting for material or expert review (not counted).
    decision_due_at = models.DateTimeField(_("处理期限"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices, blank=True)
    remedy = models.CharField(_("处理措施"), max_length=12, choices=Remedy.choices, blank=True)
    decision = models.TextField(_("处理决定"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "投诉")
        verbose_name_plural = _("投诉")
        ordering = ["-filed_at"]
        permissions = [("handle_complaint", _("可受理和处理投诉"))]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(objection__isnull=True, publicity_objection__isnull=True)
                    | Q(objection__isnull=True, opening_response__isnull=True)
                    | Q(publicity_objection__isnull=True, opening_response__isnull=True)
                ),
                name="complaint_follows_at_most_one_objection",
            )
        ]
        indexes = [models.Index(fields=["status", "decision_due_at"])]

    def __str__(self) -> str:
        return self.number

    @property
    def source(self) -> str:
        """How a suspension ordered in this case names it (`trading.Suspension.source`)."""
        return f"complaint:{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.FILED, self.Status.ACCEPTED)


class MaterialRequest(models.Model):
    """The regulator asks a party for an explanation or for material (调查取证)."""

    class Party(models.TextChoices):
        COMPLAINANT = "complainant", _("投诉人")
        RESPONDENT = "respondent", _("被投诉人（采购人/代理机构）")

    class Kind(models.TextChoices):
        # The respondent's written explanation: its time counts toward the decision period.
        EXPLANATION = "explanation", _("书面说明")
        # Supplementing material, inspection, expert review: its time is not counted
        # (政府采购质疑和投诉办法 Art.28; 条例 Art.61).
        SUPPLEMENT = "supplement", _("补正材料/检验鉴定（不计入处理期限）")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="requests")
    party = models.CharField(_("对象"), max_length=12, choices=Party.choices)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    text = models.TextField(_("要求"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(_("提出时间"))
    due_at = models.DateTimeField(_("答复期限"))
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Working days the decision period moved by when this (uncounted) request closed.
    paused_working_days = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = pgettext_lazy("singular", "调查取证")
        verbose_name_plural = _("调查取证")
        ordering = ["asked_at"]

    def __str__(self) -> str:
        return f"{self.complaint} {self.party}"


class ComplaintDocument(models.Model):
    """A file a party or the regulator adds to the case (投诉书附件, 证明材料, 处理决定书), with its
    SHA-256."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="documents")
    request = models.ForeignKey(
        MaterialRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    title = models.CharField(_("名称"), max_length=200)
    file = models.FileField(upload_to="complaints/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "案件材料")
        verbose_name_plural = _("案件材料")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.title
