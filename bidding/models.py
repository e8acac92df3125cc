"""Sealed bids (投标文件), the electronic opening (开标) and its record."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from trading.models import Lot, Project

MONEY = {"max_digits": 18, "decimal_places": 2}


class ProjectKey(models.Model):
    """The key pair bids of one project are sealed to. The private half is stored only wrapped under
    BID_MASTER_KEY, which lives in the environment."""

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="bid_key")
    public_key = models.BinaryField()
    wrapped_private_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"key {self.project.number}"


class Bid(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已递交")
        WITHDRAWN = "withdrawn", _("已撤回")
        AWAITING_DECRYPTION = "awaiting_decryption", _("待投标人解密")
        DECRYPTED = "decrypted", _("已解密")
        # 条例/电子招标投标办法: a failure the bidder caused counts as revocation (deposit forfeitable);
        # one the platform caused counts as withdrawal (deposit refunded).
        FAILED_BIDDER = "failed_bidder", _("投标人原因解密失败（视为撤销）")
        FAILED_PLATFORM = "failed_platform", _("平台原因解密失败（视为撤回）")

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="bids")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="bids")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.SUBMITTED
    )
    version = models.PositiveIntegerField(_("递交次数"), default=1)
    submitted_at = models.DateTimeField(_("递交时间"))
    # Ciphertext only until the opening: the price is inside `sealed_price`.
    salt = models.BinaryField()
    sealed_price = models.BinaryField()
    sealed_sha256 = models.CharField(_("密文哈希"), max_length=64)
    receipt_sha256 = models.CharField(_("回执哈希"), max_length=64)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    # Filled in only at or after the opening, when the bidder has decrypted online.
    price = models.DecimalField(_("投标报价（元）"), null=True, blank=True, **MONEY)
    decrypted_at = models.DateTimeField(_("解密时间"), null=True, blank=True)
    # The key derived from the bidder's code, sealed to the project key, so evaluation can read the files.
    sealed_file_key = models.BinaryField(null=True, blank=True)
    failure = models.CharField(_("失败原因"), max_length=200, blank=True)
    decryption_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = pgettext_lazy("singular", "投标文件")
        verbose_name_plural = _("投标文件")
        ordering = ["lot", "submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "organization"], name="one_bid_per_bidder_lot"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="bid_price_positive"
            ),
        ]
        permissions = [("submit_bid", _("可递交投标文件"))]

    def __str__(self) -> str:
        return f"{self.organization} → {self.lot}"


def bid_file_path(instance: BidFile, filename: str) -> str:
    # The stored name says nothing about the content: the real name is inside the ciphertext.
    return f"bids/{instance.bid.lot_id}/{instance.sha256}.sealed"


class BidFile(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=bid_file_path)
    sha256 = models.CharField(_("密文哈希"), max_length=64)
    size = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return self.sha256


class Opening(models.Model):
    """The opening of one lot: run by the clock at the deadline (and lazily by any reader after it)."""

    class Stage(models.TextChoices):
        DECRYPTING = "decrypting", _("投标人解密中")
        OPENED = "opened", _("开标完成")
        FAILED = "failed", _("流标")

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="opening")
    stage = models.CharField(_("阶段"), max_length=12, choices=Stage.choices)
    started_at = models.DateTimeField(_("开标时间"))
    decryption_until = models.DateTimeField(_("解密截止"))
    finished_at = models.DateTimeField(_("开标结束"), null=True, blank=True)
    failure_reason = models.CharField(_("流标原因"), max_length=200, blank=True)
    # The published record (bidders, prices, decryption outcomes) and its SHA-256.
    record = models.JSONField(_("开标记录"), null=True, blank=True)
    record_sha256 = models.CharField(max_length=64, blank=True)
    objections_until = models.DateTimeField(_("异议截止"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "开标")
        verbose_name_plural = _("开标")

    def __str__(self) -> str:
        return f"opening {self.lot}"


class OpeningResponse(models.Model):
    """A bidder's confirmation of the opening record, or its objection and the agent's answer."""

    opening = models.ForeignKey(Opening, on_delete=models.PROTECT, related_name="responses")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    confirmed = models.BooleanField(_("确认"))
    objection = models.TextField(_("异议"), blank=True)
    responded_at = models.DateTimeField()
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["opening", "organization"], name="one_response_per_bidder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.opening} {self.organization}"


class Evaluation(models.Model):
    """评标 of one lot by the committee drawn for it."""

    class Scheme(models.TextChoices):
        LOWEST_PRICE = "lowest_price", _("经评审的最低投标价法")
        COMPREHENSIVE = "comprehensive", _("综合评估法")

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("评审中")
        REPORTED = "reported", _("评标报告待签署")
        CONFIRMED = "confirmed", _("评标报告已签署")

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="evaluation")
    draw = models.ForeignKey("experts.DrawRequest", on_delete=models.PROTECT, related_name="+")
    scheme = models.CharField(_("评标办法"), max_length=16, choices=Scheme.choices)
    # Comprehensive scheme: total = price score × price_weight + technical points × (1 − price_weight).
    price_weight = models.DecimalField(
        _("价格权重"), max_digits=4, decimal_places=3, default=Decimal("1")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.IN_PROGRESS
    )
    started_at = models.DateTimeField(_("开始时间"))
    due_at = models.DateTimeField(_("评审截止"))
    extended = models.BooleanField(_("已延长"), default=False)
    report = models.JSONField(_("评标报告"), null=True, blank=True)
    report_sha256 = models.CharField(max_length=64, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "评标")
        verbose_name_plural = _("评标")
        permissions = [("run_evaluation", _("可组织评标"))]

    def __str__(self) -> str:
        return f"evaluation {self.lot}"


class EvaluationMember(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="members")
    expert = models.ForeignKey("experts.Expert", on_delete=models.PROTECT, related_name="+")
    wants_more_time = models.BooleanField(_("申请延长"), default=False)
    confirmed_at = models.DateTimeField(_("签署时间"), null=True, blank=True)
    dissent = models.TextField(_("不同意见"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "expert"], name="one_seat_per_expert")
        ]

    def __str__(self) -> str:
        return f"{self.evaluation} {self.expert}"


class Score(models.Model):
    """One member's judgement of one bid: compliant or not (with the reason), and technical points."""

    member = models.ForeignKey(EvaluationMember, on_delete=models.PROTECT, related_name="scores")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="scores")
    compliant = models.BooleanField(_("实质性响应"))
    rejection_reason = models.CharField(_("否决理由"), max_length=200, blank=True)
    technical_points = models.DecimalField(
        _("技术得分"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    scored_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "bid"], name="one_score_per_member_bid"),
            models.CheckConstraint(
                condition=Q(technical_points__isnull=True)
                | (Q(technical_points__gte=0) & Q(technical_points__lte=100)),
                name="technical_points_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.bid}"


class Publicity(models.Model):
    """中标候选人公示 and what follows it: objections, the award notice, the contract."""

    class Status(models.TextChoices):
        PUBLIC = "public", _("公示中")
        AWARDED = "awarded", _("已发中标通知书")
        CONTRACTED = "contracted", _("已签订合同")

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="publicity")
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PUBLIC
    )
    candidates = models.JSONField(_("中标候选人"))
    published_at = models.DateTimeField(_("公示开始"))
    ends_at = models.DateTimeField(_("公示结束"))
    winner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    award_notice_at = models.DateTimeField(_("中标通知书发出时间"), null=True, blank=True)
    contract_due_at = models.DateTimeField(_("合同签订期限"), null=True, blank=True)
    contract_signed_at = models.DateTimeField(_("合同签订时间"), null=True, blank=True)
    # Candidates who were awarded and refused to sign, in order.
    refused = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"publicity {self.lot}"


class PublicityObjection(models.Model):
    publicity = models.ForeignKey(Publicity, on_delete=models.PROTECT, related_name="objections")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("异议内容"))
    raised_at = models.DateTimeField()
    reply_due_at = models.DateTimeField()
    reply = models.TextField(_("答复"), blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.text[:40]
