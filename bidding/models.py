"""Sealed bids (投标文件), the electronic opening (开标) and its record."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from bidding.commitment import bid_commitment
from trading.models import MONEY, Lot, Project


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
    submitted_ip = models.GenericIPAddressField(_("递交IP"), null=True, blank=True)
    decryption_attempts = models.PositiveSmallIntegerField(default=0)
    # The bid commitment the bidder signs (`bidding.commitment`): the price, a nonce sealed with it
    # and the files' hashes, hashed. Checked at decryption: None until then (or for bids older than
    # commitments), True when the decrypted bid reproduces it, False when it does not.
    commitment = models.CharField(_("投标承诺值"), max_length=64, blank=True)
    commitment_opened = models.BooleanField(_("承诺值核验结果"), null=True, blank=True)
    # The bidder's electronic signature of the current version (bid.submit or bid.modify); null
    # for a submission the development fallback let through unsigned.
    signed_act = models.ForeignKey(
        "signing.SignedAct", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

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

    def commitment_opens(self, price: Decimal, nonce: str, file_sha256s: list[str]) -> bool:
        """Whether the decrypted price, the sealed nonce and the files' plaintext hashes reproduce
        the commitment the bidder signed."""
        return (
            bool(self.commitment) and bid_commitment(price, nonce, file_sha256s) == self.commitment
        )


def bid_file_path(instance: BidFile, filename: str) -> str:
    # The stored name says nothing about the content: the real name is inside the ciphertext.
    return f"bids/{instance.bid.lot_id}/{instance.sha256}.sealed"


class BidFile(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=bid_file_path)
    sha256 = models.CharField(_("密文哈希"), max_length=64)
    size = models.PositiveBigIntegerField()
    # Keyed fingerprint of the plaintext (`bidding.crypto.document_fingerprint`): finds identical
    # documents from different bidders without revealing any.
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)

    def __str__(self) -> str:
        return self.sha256


class Opening(models.Model):
    """The opening of one lot: run by the clock at the deadline (and, should the clock be late, by the
    first bidder's decryption after it: `bidding.access.catch_up`). Reads never run it."""

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


class NegotiationRound(models.Model):
    """竞争性谈判/磋商: one round of the panel's negotiation with the suppliers still in. What it
    changes in the requirements or the contract terms goes to every one of them (财政部令第74号
    Art.32; 财库〔2014〕214号 Art.22); suppliers it finds non-compliant are out (`excluded`)."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="negotiation_rounds")
    number = models.PositiveIntegerField(_("轮次"))
    changes = models.TextField(_("实质性变动内容"), blank=True)
    # Organization ids the panel found non-compliant in this round.
    excluded = models.JSONField(_("本轮淘汰"), default=list, blank=True)
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "谈判/磋商轮次")
        verbose_name_plural = _("谈判/磋商轮次")
        ordering = ["lot", "number"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "number"], name="one_round_number_per_lot")
        ]

    def __str__(self) -> str:
        return f"{self.lot} round {self.number}"


class FinalQuoteCall(models.Model):
    """最后报价: after the negotiation, each supplier still in quotes once, sealed to the project key
    until `closes_at` (74号令 Art.33; 214号 Art.23). A supplier that does not quote is out."""

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="final_quote_call")
    called_at = models.DateTimeField(_("发出时间"))
    closes_at = models.DateTimeField(_("最后报价截止"))
    # Organization ids invited to quote: the suppliers still in when it was called.
    suppliers = models.JSONField(_("参加最后报价的供应商"), default=list)
    opened_at = models.DateTimeField(_("开启时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "最后报价")
        verbose_name_plural = _("最后报价")

    def __str__(self) -> str:
        return f"final quotes {self.lot}"


class FinalQuote(models.Model):
    call = models.ForeignKey(FinalQuoteCall, on_delete=models.PROTECT, related_name="quotes")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    # Ciphertext until the call closes: the price is inside.
    sealed = models.BinaryField()
    sealed_sha256 = models.CharField(_("密文哈希"), max_length=64)
    price = models.DecimalField(_("最后报价（元）"), null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = pgettext_lazy("singular", "供应商最后报价")
        verbose_name_plural = _("供应商最后报价")
        constraints = [
            models.UniqueConstraint(
                fields=["call", "organization"], name="one_final_quote_per_supplier"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="final_quote_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} → {self.call}"


class SingleSourceRecord(models.Model):
    """单一来源: the record of the negotiation with the one supplier (协商情况记录, 74号令 Art.42)."""

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="single_source_record")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("成交价格（元）"), **MONEY)
    minutes = models.TextField(_("协商情况"))
    participants = models.CharField(_("参加人员"), max_length=1000)
    recorded_at = models.DateTimeField(_("记录时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "单一来源协商记录")
        verbose_name_plural = _("单一来源协商记录")
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="single_source_price_positive")
        ]

    def __str__(self) -> str:
        return f"single source {self.lot}"


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


# --- Live auctions (电子反拍; the land listing's 限时竞价 runs on the same engine) -------------------


class Auction(models.Model):
    """A live, server-clocked auction on one lot. The rules are fixed when it is created; `ends_at`,
    the best price and the event sequence move only inside `bidding.auction.services`, under this
    row's lock."""

    class Format(models.TextChoices):
        OPEN = "open", _("连续竞价（延时）")
        ROUNDS = "rounds", _("多轮次轮流报价")

    class Direction(models.TextChoices):
        # Reverse auctions (procurement) go down; land and property sales go up.
        DESCENDING = "descending", _("反向（减价）")
        ASCENDING = "ascending", _("正向（加价）")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待开始")
        LIVE = "live", _("竞价中")
        CLOSED = "closed", _("已结束")
        FAILED = "failed", _("竞价失败")

    class Phase(models.TextChoices):
        # Which step of a trade this auction is; the land listing chains several on one lot.
        MAIN = "main", _("网上竞价")
        LISTING = "listing", _("挂牌期报价")
        LIVE = "live", _("限时竞价")
        HOUSING = "housing", _("竞配建面积")

    class Unit(models.TextChoices):
        YUAN = "yuan", _("元")
        SQUARE_METRE = "m2", _("平方米")

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="auctions")
    phase = models.CharField(_("阶段"), max_length=10, choices=Phase.choices, default=Phase.MAIN)
    unit = models.CharField(_("单位"), max_length=4, choices=Unit.choices, default=Unit.YUAN)
    format = models.CharField(_("竞价方式"), max_length=8, choices=Format.choices)
    direction = models.CharField(
        _("方向"), max_length=10, choices=Direction.choices, default=Direction.DESCENDING
    )
    start_price = models.DecimalField(_("起始价（元）"), **MONEY)
    step = models.DecimalField(_("竞价幅度（元）"), **MONEY)
    max_change = models.DecimalField(
        _("单次最大降价（元）"), null=True, blank=True, help_text=_("防误操作；留空不限"), **MONEY
    )
    starts_at = models.DateTimeField(_("开始时间"))
    duration_seconds = models.PositiveIntegerField(_("竞价时长（秒）"))
    # Anti-sniping: a bid in the last `extension_window_seconds` moves the end to now + extension_seconds.
    extension_window_seconds = models.PositiveIntegerField(_("延时触发窗口（秒）"), default=120)
    extension_seconds = models.PositiveIntegerField(_("延时时长（秒）"), default=120)
    max_extensions = models.PositiveIntegerField(_("最多延时次数"), null=True, blank=True)
    min_participants = models.PositiveSmallIntegerField(_("最少竞价人数"), default=3)
    # Land listing: bidders join with their first bid (registered, deposit qualified, not barred then)
    # instead of being admitted at the start, and the first bid may equal the start price.
    admit_on_bid = models.BooleanField(default=False)
    first_bid_may_equal_start = models.BooleanField(default=False)
    # 最高限价: a bid above it is refused; a bid reaching it stops price bidding at once.
    max_price = models.DecimalField(_("最高限价"), null=True, blank=True, **MONEY)
    capped_at = models.DateTimeField(_("达到最高限价时间"), null=True, blank=True)
    public_view = models.BooleanField(_("允许公众旁观"), default=True)
    # Rounds format (ProZorro): `rounds` × (pause + one turn per bidder, worst first, leader last).
    rounds = models.PositiveSmallIntegerField(_("轮数"), default=3)
    turn_seconds = models.PositiveIntegerField(_("每次报价时长（秒）"), default=120)
    pause_seconds = models.PositiveIntegerField(_("轮间休息（秒）"), default=120)
    # Round number → participant ids in turn order, fixed when the round begins (worst first, leader last).
    round_orders = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    ends_at = models.DateTimeField(_("结束时间"))
    extensions_used = models.PositiveIntegerField(_("已延时次数"), default=0)
    seq = models.PositiveBigIntegerField(_("事件序号"), default=0)
    best_price = models.DecimalField(_("当前最优价"), null=True, blank=True, **MONEY)
    best_participant = models.ForeignKey(
        "AuctionParticipant", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    best_at = models.DateTimeField(null=True, blank=True)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(_("实际开始"), null=True, blank=True)
    closed_at = models.DateTimeField(_("实际结束"), null=True, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    results = models.JSONField(_("竞价结果"), null=True, blank=True)
    # The audit event that closed the auction: its hash covers every bid before it (printed on the PDF).
    closing_audit_seq = models.PositiveBigIntegerField(null=True, blank=True)
    closing_audit_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("网上竞价")
        verbose_name_plural = _("网上竞价")
        constraints = [
            models.UniqueConstraint(fields=["lot", "phase"], name="auction_one_per_phase"),
        ]

    def __str__(self) -> str:
        return f"{self.lot} · {self.get_format_display()}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.CLOSED, self.Status.FAILED)


class AuctionParticipant(models.Model):
    """A bidder admitted to the room. The alias (竞价人A, B…) is drawn at the start and is all other
    bidders and the public see until the close."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="participants")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    alias = models.CharField(_("竞价代号"), max_length=16, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    # The rounds format's opening price: sealed to the project key when sent (like a tender bid), opened
    # under the auction's lock at the start; `initial_price` stays empty until then.
    sealed_initial = models.BinaryField(null=True, blank=True)
    initial_price = models.DecimalField(null=True, blank=True, **MONEY)
    initial_at = models.DateTimeField(null=True, blank=True)
    price = models.DecimalField(_("本方最优价"), null=True, blank=True, **MONEY)
    price_at = models.DateTimeField(null=True, blank=True)
    # False for a seat that carries a standing price but may not bid (a listing leader who did not
    # continue to live bidding).
    may_bid = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["auction", "organization"], name="auction_one_seat"),
            models.UniqueConstraint(
                fields=["auction", "alias"], condition=~Q(alias=""), name="auction_unique_alias"
            ),
        ]

    def __str__(self) -> str:
        return self.alias or str(self.organization)


class AuctionBid(models.Model):
    """Every bid that reached the engine, accepted or not, with the answer it got. The idempotency key
    makes a retried bid get the same answer instead of a second decision."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="bids")
    participant = models.ForeignKey(
        AuctionParticipant, on_delete=models.PROTECT, related_name="bids"
    )
    key = models.CharField(max_length=64)
    price = models.DecimalField(null=True, blank=True, **MONEY)
    price_text = models.CharField(max_length=40)
    decided_at = models.DateTimeField()
    accepted = models.BooleanField()
    code = models.CharField(max_length=32, blank=True)
    # Accepted bids carry their place in the room's event sequence; sealed initial bids do not.
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["auction", "participant", "key"], name="auction_bid_idempotency"
            ),
        ]
        indexes = [
            models.Index(fields=["auction", "accepted", "decided_at"]),
            # A batch looks its keys up by (auction, key): without this it walks the auction's bids.
            models.Index(fields=["auction", "key"], name="auction_bid_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.auction_id}:{self.key} {'accepted' if self.accepted else self.code}"


class AuctionAddress(models.Model):
    """Which organizations bid in an auction from which IP address: one row per pair, so the shared
    address signal (`audit.detectors.shared_ip`) reads a handful of rows, not every bid."""

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="addresses")
    ip = models.GenericIPAddressField()
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["auction", "ip", "organization"], name="auction_address_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.auction_id}:{self.ip}:{self.organization_id}"


class AuctionEvent(models.Model):
    """The room's ordered stream: what every socket receives, numbered without gaps per auction, so a
    client detects a gap, a reconnect resumes from a sequence number and a replay is exact."""

    class Kind(models.TextChoices):
        STARTED = "started", _("开始")
        BID = "bid", _("出价")
        EXTENDED = "extended", _("延时")
        ROUND = "round", _("新一轮")
        CLOSED = "closed", _("结束")

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["auction", "seq"], name="auction_event_seq"),
        ]
        ordering = ["auction", "seq"]

    def __str__(self) -> str:
        return f"{self.auction_id}#{self.seq} {self.kind}"


# --- Land-use-right listing (挂牌出让) ---------------------------------------------------------------


class LandListing(models.Model):
    """One parcel's listing: the parcel, the price rules, the sealed reserve and where the trade stands.

    The bidding itself runs on `Auction` rows of this lot: the listing period (phase `listing`), the
    timed live bidding (`live`) and, at the maximum price in 竞配建 mode, the housing-area bidding
    (`housing`). `bidding.land.services` moves the stages; the rules are in its docstring."""

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("住宅用地")
        COMMERCIAL = "commercial", _("商服用地")
        INDUSTRIAL = "industrial", _("工业用地")
        MIXED = "mixed", _("商住混合用地")
        OTHER = "other", _("其他用地")

    class CapMode(models.TextChoices):
        LOTTERY = "lottery", _("摇号")
        HOUSING = "housing", _("竞配建（竞建保障性住房面积）")
        SEALED_OFFER = "sealed_offer", _("一次性报价（最接近平均价者得）")

    class Stage(models.TextChoices):
        SCHEDULED = "scheduled", _("待挂牌")
        LISTING = "listing", _("挂牌中")
        CONFIRMING = "confirming", _("确认是否参加限时竞价")
        LIVE = "live", _("限时竞价")
        CAP_ACCEPT = "cap_accept", _("最高限价：接受限价（摇号）")
        HOUSING = "housing", _("最高限价：竞配建")
        SEALED_OFFER = "sealed_offer", _("最高限价：一次性报价")
        DEAL = "deal", _("成交")
        NO_DEAL = "no_deal", _("流拍")
        REFUSED = "refused", _("竞得人放弃")

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="land_listing")
    parcel_number = models.CharField(_("宗地编号"), max_length=60)
    location = models.CharField(_("土地位置"), max_length=200)
    area = models.DecimalField(_("出让面积（平方米）"), max_digits=14, decimal_places=2)
    land_use = models.CharField(_("土地用途"), max_length=16, choices=Use.choices)
    term_years = models.PositiveSmallIntegerField(_("出让年限（年）"))
    planning = models.JSONField(_("规划指标"), default=dict, blank=True)
    start_price = models.DecimalField(_("起始价（元）"), **MONEY)
    increment = models.DecimalField(_("加价幅度（元）"), **MONEY)
    max_price = models.DecimalField(_("最高限价（元）"), null=True, blank=True, **MONEY)
    cap_mode = models.CharField(
        _("达到最高限价后"), max_length=16, choices=CapMode.choices, blank=True
    )
    housing_step = models.DecimalField(
        _("配建面积加价幅度（平方米）"), max_digits=14, decimal_places=2, default=Decimal("10")
    )
    offer_ceiling = models.DecimalField(_("一次性报价上限（元）"), null=True, blank=True, **MONEY)
    listing_starts_at = models.DateTimeField(_("挂牌开始"))
    listing_ends_at = models.DateTimeField(_("挂牌截止"))
    confirm_seconds = models.PositiveIntegerField(_("确认参加限时竞价时限（秒）"), default=300)
    live_seconds = models.PositiveIntegerField(_("限时竞价倒计时（秒）"), default=240)
    cap_window_seconds = models.PositiveIntegerField(_("限价后程序时限（秒）"), default=600)
    # The reserve (底价): keyed in once by the designated staff member before the lock time, sealed to
    # the project key at rest, opened only when the listing's outcome is decided.
    reserve_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("底价录入人"),
    )
    reserve_lock_minutes = models.PositiveIntegerField(_("底价锁定（截止前分钟）"), default=60)
    sealed_reserve = models.BinaryField(null=True, blank=True)
    reserve_sha256 = models.CharField(max_length=64, blank=True)
    reserve_set_at = models.DateTimeField(_("底价录入时间"), null=True, blank=True)
    reserve = models.DecimalField(_("底价（元）"), null=True, blank=True, **MONEY)

    stage = models.CharField(
        _("阶段"), max_length=14, choices=Stage.choices, default=Stage.SCHEDULED
    )
    stage_ends_at = models.DateTimeField(_("本阶段截止"), null=True, blank=True)
    # Who reached the maximum price first (the fallback winner of every cap mode).
    capper = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lottery = models.JSONField(_("摇号记录"), null=True, blank=True)
    winner = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("竞得人"),
    )
    final_price = models.DecimalField(_("成交价（元）"), null=True, blank=True, **MONEY)
    housing_area = models.DecimalField(
        _("配建面积（平方米）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    outcome_reason = models.CharField(_("结果说明"), max_length=200, blank=True)
    decided_at = models.DateTimeField(_("结果时间"), null=True, blank=True)
    confirmation_signed_at = models.DateTimeField(_("成交确认书签署时间"), null=True, blank=True)
    refused_at = models.DateTimeField(_("放弃时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("挂牌出让")
        verbose_name_plural = _("挂牌出让")

    def __str__(self) -> str:
        return f"{self.parcel_number} {self.location}"

    @property
    def decided(self) -> bool:
        return self.stage in (self.Stage.DEAL, self.Stage.NO_DEAL, self.Stage.REFUSED)


class LandResponse(models.Model):
    """A bidder's answer inside a window: whether it continues to live bidding, or accepts the maximum
    price to enter the lottery."""

    class Kind(models.TextChoices):
        CONTINUE = "continue", _("参加限时竞价")
        ACCEPT_CAP = "accept_cap", _("接受最高限价参加摇号")

    listing = models.ForeignKey(LandListing, on_delete=models.PROTECT, related_name="responses")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    answer = models.BooleanField()
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "organization", "kind"], name="land_one_answer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}:{self.organization_id} {self.kind}={self.answer}"


class LandSealedOffer(models.Model):
    """一次性报价 at the maximum price: sealed to the project key; `fingerprint` (an HMAC of the price
    under a server key) lets the database refuse a duplicate price without anyone reading one."""

    listing = models.ForeignKey(LandListing, on_delete=models.PROTECT, related_name="offers")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sealed = models.BinaryField()
    fingerprint = models.CharField(max_length=64)
    submitted_at = models.DateTimeField()
    price = models.DecimalField(null=True, blank=True, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["listing", "organization"], name="land_one_offer"),
            models.UniqueConstraint(fields=["listing", "fingerprint"], name="land_no_equal_offers"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}:{self.organization_id}"
