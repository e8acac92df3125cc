"""Sealed bids (投标文件), the electronic opening (开标) and its record."""

from __future__ import annotations

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
