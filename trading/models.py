"""Trading projects (交易项目), their lots, documents and announcements, and the supplier-facing
steps before the bid deadline: registration (报名), questions (答疑) and objections (异议)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn, TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization


class DecimalColumn(TypedDict):
    max_digits: int
    decimal_places: int


# Every money column (here, in bidding/ and deposits/): a TypedDict, so the checker knows what
# `**MONEY` hands DecimalField.
MONEY: DecimalColumn = {"max_digits": 18, "decimal_places": 2}


class Project(models.Model):
    class Kind(models.TextChoices):
        CONSTRUCTION = "construction", _("工程建设招标")
        GOVERNMENT_PROCUREMENT = "gp", _("政府采购")
        LAND = "land", _("国有建设用地使用权出让")
        RIGHTS = "rights", _("产权/排污权交易")

    class Category(models.TextChoices):
        # Decides the deposit cap (trading.rules).
        WORKS = "works", _("施工")
        HOUSING_MUNICIPAL = "housing_municipal", _("房屋建筑和市政工程施工")
        GOODS = "goods", _("货物")
        SERVICES = "services", _("服务")
        SURVEY_DESIGN = "survey_design", _("勘察设计")
        LAND = "land", _("土地")
        RIGHTS = "rights", _("产权")

    class Method(models.TextChoices):
        OPEN = "open", _("公开招标")
        INVITATION = "invitation", _("邀请招标")
        REVERSE_AUCTION = "reverse_auction", _("电子反拍")
        LAND_LISTING = "land_listing", _("挂牌出让")
        # Government procurement's non-tender methods (政府采购法 Art.26; 财政部令第74号; 财库〔2014〕214号).
        CONSULTATION = "consultation", _("竞争性磋商")
        NEGOTIATION = "negotiation", _("竞争性谈判")
        INQUIRY = "inquiry", _("询价")
        SINGLE_SOURCE = "single_source", _("单一来源")
        # 框架协议采购 (财政部令第110号): a solicitation admits suppliers to an agreement (frameworks/).
        FRAMEWORK = "framework", _("框架协议")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已进场")
        PUBLISHED = "published", _("已发布")
        TERMINATED = "terminated", _("已终止")

    number = models.CharField(_("项目编号"), max_length=40, unique=True)
    title = models.CharField(_("项目名称"), max_length=200)
    description = models.TextField(_("项目概况"), blank=True)
    kind = models.CharField(_("交易类型"), max_length=16, choices=Kind.choices)
    category = models.CharField(_("采购类别"), max_length=20, choices=Category.choices)
    method = models.CharField(_("交易方式"), max_length=20, choices=Method.choices)
    region = models.CharField(_("行政区划"), max_length=12, default="440400")
    owner = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="owned_projects",
        verbose_name=_("招标人/采购人"),
    )
    agent = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="agented_projects",
        verbose_name=_("代理机构"),
    )
    # 依法必须招标: the statutory minimum periods apply in full.
    mandatory_tender = models.BooleanField(_("依法必须招标"), default=True)
    registration_required = models.BooleanField(_("下载招标文件须先报名"), default=True)
    bid_validity_days = models.PositiveIntegerField(_("投标有效期（日）"), default=90)
    # 竞争性磋商 of 政府购买服务 or of research and technology-transfer projects: two suppliers may go on
    # to the final quote where three are otherwise required (财库〔2015〕124号).
    two_suppliers_allowed = models.BooleanField(
        _("政府购买服务/科研项目（2家供应商可继续）"), default=False
    )

    # The timeline. Stored in UTC, entered and shown in Beijing time.
    documents_from = models.DateTimeField(_("招标文件获取开始"), null=True, blank=True)
    documents_until = models.DateTimeField(_("招标文件获取截止"), null=True, blank=True)
    questions_until = models.DateTimeField(_("提问截止"), null=True, blank=True)
    bid_deadline = models.DateTimeField(_("投标截止/开标时间"), null=True, blank=True)
    deposit_deadline = models.DateTimeField(_("保证金到账截止"), null=True, blank=True)

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    return_reason = models.TextField(_("退回理由"), blank=True)
    termination_reason = models.TextField(_("终止理由"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # 重新招标: the failed lot (流标) this project tenders again (条例 Art.44; 招标投标法 Art.28).
    retender_of = models.ForeignKey(
        "Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retenders",
        verbose_name=_("重新招标自"),
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "交易项目")
        verbose_name_plural = _("交易项目")
        ordering = ["-created_at"]
        permissions = [
            ("submit_project", _("可提交进场登记")),
            ("review_project", _("可审核进场登记")),
            ("publish_project", _("可发布公告")),
            ("manage_project", _("可管理项目（变更、答疑、异议答复）")),
            ("suspend_project", _("可责令暂停、恢复项目")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def ocid(self) -> str:
        return f"{settings.OCDS_OCID_PREFIX}-{self.number}"

    @property
    def group_name(self) -> str:
        return f"project-{self.pk}"


class Lot(models.Model):
    """A 标段 (engineering) or 包 (procurement): the unit that is bid, opened and awarded."""

    class DepositForm(models.TextChoices):
        CASH = "cash", _("现金（转账至子账户）")
        BANK_GUARANTEE = "bank_guarantee", _("银行保函")
        INSURANCE_GUARANTEE = "insurance_guarantee", _("保证保险保函")
        CHEQUE = "cheque", _("支票")
        DRAFT = "draft", _("汇票")
        PROMISSORY_NOTE = "promissory_note", _("本票")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField(_("标段/包号"))
    name = models.CharField(_("标段/包名称"), max_length=200)
    estimate = models.DecimalField(_("估算价/预算（元）"), **MONEY)
    # 最高投标限价: published with the announcement (条例 Art.27). A minimum price is forbidden, so
    # there is no field for one.
    ceiling_price = models.DecimalField(_("最高投标限价（元）"), null=True, blank=True, **MONEY)
    deposit_amount = models.DecimalField(_("保证金金额（元）"), default=Decimal("0"), **MONEY)
    deposit_forms = models.JSONField(_("保证金形式"), default=list)
    # Land listings of 经营性用地 may take deposits in HKD or USD besides RMB (the price stays RMB).
    deposit_currencies = models.JSONField(_("保证金币种"), default=list, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "标段/包")
        verbose_name_plural = _("标段/包")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="lot_number_per_project"),
            models.CheckConstraint(condition=Q(estimate__gt=0), name="lot_estimate_positive"),
            models.CheckConstraint(
                condition=Q(deposit_amount__gte=0), name="lot_deposit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.number} 第{self.number}标段 {self.name}"

    @property
    def deposit_form_labels(self) -> list[str]:
        """The accepted deposit forms by their labels (a form no longer listed by its value)."""
        labels = dict(self.DepositForm.choices)
        return [str(labels.get(form, form)) for form in self.deposit_forms]


class Invitee(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitees")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "organization"], name="one_invitation_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.number} → {self.organization}"


def document_path(instance: ProjectDocument, filename: str) -> str:
    return f"projects/{instance.project_id}/{instance.sha256[:16]}-{filename}"


class ProjectDocument(models.Model):
    """A tender document or attachment. The SHA-256 is computed on upload and never changes: a new
    version is a new document, published through an amendment."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    title = models.CharField(_("文件名称"), max_length=200)
    file = models.FileField(_("文件"), upload_to=document_path)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Documents become public (to registered suppliers) with the announcement version that lists them.
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "项目文件")
        verbose_name_plural = _("项目文件")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.title


class Announcement(models.Model):
    """One notice series (e.g. the tender announcement); its published content lives in versions."""

    class Kind(models.TextChoices):
        TENDER = "tender", _("招标公告")
        PROCUREMENT = "procurement", _("采购公告")
        AMENDMENT = "amendment", _("变更公告")
        CLARIFICATION = "clarification", _("澄清公告")
        CANDIDATES = "candidates", _("中标候选人公示")
        RESULT = "result", _("结果公告")
        TERMINATION = "termination", _("终止公告")
        FAILED = "failed", _("流标公告")
        LAND_LISTING = "land_listing", _("土地挂牌出让公告")
        DEAL = "deal", _("成交公示")
        # GP contracts within 2 working days of signing (GP 条例 Art.50), and their later versions:
        # supplements, performance (履约) and termination (contracts.services).
        CONTRACT = "contract", _("合同公告")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="announcements")
    kind = models.CharField(_("公告类型"), max_length=16, choices=Kind.choices)
    # Denormalized from the latest version for the public list (filters and sort on 100,000 rows).
    title = models.CharField(_("标题"), max_length=250)
    region = models.CharField(_("行政区划"), max_length=12)
    project_kind = models.CharField(_("交易类型"), max_length=16, choices=Project.Kind.choices)
    first_published_at = models.DateTimeField(_("首次发布时间"))
    last_published_at = models.DateTimeField(_("最近发布时间"))
    version_count = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = pgettext_lazy("singular", "公告")
        verbose_name_plural = _("公告")
        ordering = ["-last_published_at", "-id"]
        indexes = [
            models.Index(fields=["-last_published_at", "-id"], name="announcement_recent_idx"),
            models.Index(fields=["kind", "-last_published_at"], name="announcement_kind_idx"),
            models.Index(fields=["region", "-last_published_at"], name="announcement_region_idx"),
            models.Index(
                fields=["project_kind", "-last_published_at"], name="announcement_pkind_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AnnouncementVersionQuerySet(models.QuerySet["AnnouncementVersion"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise RuntimeError("published announcement versions are immutable")

    def delete(self) -> NoReturn:
        raise RuntimeError("published announcement versions are immutable")


class AnnouncementVersion(models.Model):
    """What was published, exactly. Immutable; `sha256` is over the canonical JSON of `content`."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("标题"), max_length=250)
    body = models.TextField(_("正文"))
    # Everything the notice states: deadlines, lots and prices, document hashes, reason for the version.
    content = models.JSONField(_("公告内容"))
    sha256 = models.CharField(_("内容哈希"), max_length=64, unique=True)
    reason = models.CharField(_("发布原因"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("发布时间"))
    # Empty when the platform published it itself, as the rules required (a listing's 流拍 at its
    # close, decided by the clock); the audit event names that process.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = AnnouncementVersionQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("singular", "公告版本")
        verbose_name_plural = _("公告版本")
        ordering = ["announcement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["announcement", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("published announcement versions are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("published announcement versions are immutable")


class Registration(models.Model):
    """报名: a supplier's registration for a lot, gated by the integrity check."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="registrations")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="registrations")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="registrations"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("报名时间"))
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "报名")
        verbose_name_plural = _("报名")
        constraints = [
            models.UniqueConstraint(fields=["lot", "organization"], name="one_registration_per_lot")
        ]
        permissions = [("view_registration_list", _("可查看报名名单"))]

    def __str__(self) -> str:
        return f"{self.organization} → {self.lot}"


class Question(models.Model):
    """答疑: a supplier's question. The asker stays anonymous to everyone but center staff and
    supervisors; the answer is published to all."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="questions")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("问题"))
    asked_at = models.DateTimeField(_("提问时间"))
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "提问")
        verbose_name_plural = _("提问")
        ordering = ["asked_at"]

    def __str__(self) -> str:
        return self.text[:40]


class Objection(models.Model):
    """异议 to the tender documents (条例 Art.22). While one is unanswered the tender is suspended."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="objections")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("异议内容"))
    raised_at = models.DateTimeField(_("提出时间"))
    reply_due_at = models.DateTimeField(_("答复期限"))
    reply = models.TextField(_("答复"), blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "异议")
        verbose_name_plural = _("异议")
        ordering = ["raised_at"]

    def __str__(self) -> str:
        return self.text[:40]


class Suspension(models.Model):
    """暂停: the regulator orders a procurement stopped while it handles a complaint (政府采购法
    Art.57: at most 30 days; 条例 Art.62: 责令暂停招标投标活动). While one stands, nothing in the
    project moves (`trading.services.ensure_not_suspended`); lifting the last one resumes it and moves
    every running period by the time it stood (`trading.services.lift_suspension`)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="suspensions")
    # What ordered it, e.g. "complaint:12": the case the suspension belongs to.
    source = models.CharField(max_length=40)
    reason = models.TextField(_("暂停理由"))
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("暂停开始"))
    # The latest moment it may last; the clock lifts it then (GP: ≤ 30 days).
    ends_by = models.DateTimeField(_("暂停期限"))
    lifted_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "暂停")
        verbose_name_plural = _("暂停")
        ordering = ["started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_by__gt=models.F("started_at")), name="suspension_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.source}"
