"""Deposit custody (投标保证金 / 竞买保证金): a double-entry ledger of the money the center holds.

Every movement of money is one `JournalEntry` whose `JournalLine`s sum to zero per currency (debits
positive, credits negative). No balance is stored: an account's balance is the sum of its lines. The
bank's messages (`BankNotification`, `RefundConfirmation`) are kept verbatim with their signatures and
are the only way money enters or leaves custody.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from lib.errors import present
from signing.models import Certificate
from trading.models import MONEY, Lot


class Currency(models.TextChoices):
    CNY = "CNY", _("人民币")
    HKD = "HKD", _("港元")
    USD = "USD", _("美元")


class Account(models.Model):
    """A ledger account in one currency.

    Sub-accounts (子账户) are liabilities to one bidder for one lot and carry the virtual account number
    the bidder pays into. The others are the center's own books.
    """

    class Kind(models.TextChoices):
        CUSTODY = "custody", _("托管银行存款")  # asset: money at the bank
        SUB_ACCOUNT = "sub_account", _("投标人子账户")  # liability to one bidder
        SUSPENSE = (
            "suspense",
            _("待退回款项"),
        )  # liability: money that cannot qualify, owed back to its payer
        REFUNDS_PAYABLE = "refunds_payable", _("应退保证金")  # liability: instructed, not yet paid
        FORFEITED = "forfeited", _("没收保证金")
        LAND_EARNEST = "land_earnest", _("土地出让定金")
        LAND_PRICE = "land_price", _("土地出让价款")
        INTEREST = "interest", _("退款利息")  # expense: interest paid with refunds

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    number = models.CharField(_("账号"), max_length=32, unique=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deposit_accounts",
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, null=True, blank=True, related_name="deposit_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "账户")
        verbose_name_plural = _("账户")
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "organization", "currency"],
                condition=Q(kind="sub_account"),
                name="one_sub_account_per_bidder_lot_currency",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=~Q(kind="sub_account"),
                name="one_book_account_per_kind_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()} {self.currency}"

    # A sub-account always has its bidder and its lot; the center's book accounts have neither.

    @property
    def bidder(self) -> Organization:
        return present(self.organization, f"the bidder of sub-account {self.number}")

    @property
    def bidder_lot(self) -> Lot:
        return present(self.lot, f"the lot of sub-account {self.number}")


class JournalEntryQuerySet(models.QuerySet["JournalEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise RuntimeError("journal entries are never changed; post a reversing entry")

    def delete(self) -> NoReturn:
        raise RuntimeError("journal entries are never deleted; post a reversing entry")


class JournalEntry(models.Model):
    class Kind(models.TextChoices):
        BANK_IN = "bank_in", _("银行入账")
        HELD = "held", _("挂账待退")
        REFUND_INSTRUCTED = "refund_instructed", _("退款指令")
        REFUND_PAID = "refund_paid", _("退款已付")
        REFUND_FAILED = "refund_failed", _("退款失败冲回")
        FORFEIT = "forfeit", _("没收")
        TO_EARNEST = "to_earnest", _("转为定金")
        TO_LAND_PRICE = "to_land_price", _("抵作出让价款")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    # What caused it, unique so one cause can never post twice (e.g. "bank:ICBC:TX123", "refund:42:paid").
    reference = models.CharField(_("业务参考号"), max_length=120, unique=True)
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    posted_at = models.DateTimeField(_("记账时间"))

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("singular", "会计分录")
        verbose_name_plural = _("会计分录")
        ordering = ["posted_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    # Integer fen (cents): debit positive, credit negative, never zero. Integers, because balances are
    # SUMs in the database and SQLite sums DECIMAL columns in floating point.
    amount_fen = models.BigIntegerField(_("金额（分）"))
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount_fen=0), name="journal_line_not_zero")
        ]
        indexes = [models.Index(fields=["account"], name="journal_line_account_idx")]

    def __str__(self) -> str:
        return f"{self.account.number} {self.amount} {self.currency}"

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_fen) / 100


class FxRate(models.Model):
    """A rate kept by staff: 1 unit of `currency` = `cny_per_unit` CNY from `effective_at` on."""

    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    cny_per_unit = models.DecimalField(_("折合人民币"), max_digits=12, decimal_places=6)
    effective_at = models.DateTimeField(_("生效时间"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("来源"), max_length=100, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "汇率")
        verbose_name_plural = _("汇率")
        ordering = ["currency", "-effective_at"]
        constraints = [
            models.CheckConstraint(condition=Q(cny_per_unit__gt=0), name="fx_rate_positive")
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.cny_per_unit}"


class BankNotification(models.Model):
    """A payment notification exactly as the bank sent it. One per bank transaction id, forever."""

    class Outcome(models.TextChoices):
        CREDITED = "credited", _("已入子账户")
        PAYER_MISMATCH = "payer_mismatch", _("付款人与投标人不符，挂账待退")
        UNKNOWN_ACCOUNT = "unknown_account", _("收款子账户不存在，挂账待退")
        INSTRUMENT_MISMATCH = "instrument_mismatch", _("与登记的票据不符，挂账待退")

    bank = models.CharField(_("银行"), max_length=20)
    transaction_id = models.CharField(_("银行流水号"), max_length=64)
    body = models.BinaryField(_("原文"))
    # SHA-256 of the message's canonical form (`deposits.bank.canonical_message`), not of the bytes as
    # sent: a resend with its keys in another order is the same message.
    body_sha256 = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    account_number = models.CharField(_("收款子账号"), max_length=32)
    amount = models.DecimalField(_("金额"), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    payer_name = models.CharField(_("付款人户名"), max_length=200)
    payer_account = models.CharField(_("付款人账号"), max_length=40)
    payer_bank = models.CharField(_("付款行"), max_length=100, blank=True)
    value_at = models.DateTimeField(_("银行到账时间"))
    received_at = models.DateTimeField(_("平台接收时间"))
    outcome = models.CharField(_("处理结果"), max_length=20, choices=Outcome.choices)
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, related_name="notification"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "到账通知")
        verbose_name_plural = _("到账通知")
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "transaction_id"], name="one_notification_per_bank_txn"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="notification_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.bank}:{self.transaction_id}"


class Guarantee(models.Model):
    """银行保函 / 保险保函: qualifies like cash once verified; never passes through the ledger."""

    class Kind(models.TextChoices):
        BANK = "bank_guarantee", _("银行保函")
        INSURANCE = "insurance_guarantee", _("保证保险保函")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待核验")
        VERIFIED = "verified", _("已核验")
        REJECTED = "rejected", _("核验未通过")
        RELEASED = "released", _("已退还")
        CALLED = "called", _("已索赔（没收）")

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="guarantees")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="guarantees"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    issuer = models.CharField(_("出具机构"), max_length=200)
    number = models.CharField(_("保函编号"), max_length=64)
    amount = models.DecimalField(_("担保金额"), **MONEY)
    valid_from = models.DateField(_("生效日"))
    valid_until = models.DateField(_("失效日"))
    file = models.FileField(_("电子保函"), upload_to="guarantees/")
    file_sha256 = models.CharField(_("文件 SHA-256"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    verification = models.CharField(_("核验方式"), max_length=100, blank=True)
    decided_note = models.TextField(_("说明"), blank=True)
    # 电子保函: the issuer's signed document (`deposits.eguarantee`) is the file, verified by its
    # signature at receipt; paper guarantees (scanned) are verified by staff.
    electronic = models.BooleanField(_("电子保函（验签）"), default=False)
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guarantees",
        verbose_name=_("出具机构证书"),
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "保函")
        verbose_name_plural = _("保函")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "number"], name="one_guarantee_number_per_issuer"
            )
        ]
        permissions = [("verify_guarantee", _("可核验保函"))]

    def __str__(self) -> str:
        return f"{self.issuer} {self.number}"


class Instrument(models.Model):
    """A 支票, 汇票 or 本票 handed to the center as a deposit (GP 条例 Art.33: non-cash forms).

    Staff register the paper they received (`services.register_instrument`); they present it to the
    custody bank for collection into the drawer's sub-account, and the bank's signed credit naming the
    instrument (`instrument_number` in the payment notification) makes it a deposit in the ledger,
    counted from when the center received it. An instrument that is dishonoured, or not needed any
    more before collection, is handed back (`return_instrument`); a collected one is refunded by
    transfer like any deposit."""

    class Kind(models.TextChoices):
        CHEQUE = "cheque", _("支票")
        DRAFT = "draft", _("汇票")
        PROMISSORY_NOTE = "promissory_note", _("本票")

    class Status(models.TextChoices):
        RECEIVED = "received", _("已收票，待托收")
        COLLECTED = "collected", _("已收妥入账")
        DISHONOURED = "dishonoured", _("已退票")
        RETURNED = "returned", _("原票已退还")

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="instruments")
    # The drawer (出票人/申请人): the supplier itself, whose deposit this is.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="instruments"
    )
    kind = models.CharField(_("票据种类"), max_length=16, choices=Kind.choices)
    bank = models.CharField(_("付款行/出票行"), max_length=100)
    number = models.CharField(_("票据号码"), max_length=64)
    amount = models.DecimalField(_("票面金额"), **MONEY)
    drawer_account = models.CharField(_("出票人账号"), max_length=40)
    issued_on = models.DateField(_("出票日"))
    # 支票: 10 days from issue (票据法 Art.91); 汇票/本票: the maturity or presentment date on the paper.
    payable_until = models.DateField(_("提示付款期限/到期日"))
    received_at = models.DateTimeField(_("收票时间"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    settled_at = models.DateTimeField(_("收妥/退票/退还时间"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "票据")
        verbose_name_plural = _("票据")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "number"], name="one_instrument_per_bank_number"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instrument_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.bank} {self.number}"


class Deposit(models.Model):
    """One amount a bidder put up for a lot: a cash payment (from a bank notification), a collected
    instrument (its bank notification names it) or a guarantee.

    Its `status` follows the money; the money itself is only ever in the ledger.
    """

    class Form(models.TextChoices):
        CASH = "cash", _("现金")
        GUARANTEE = "guarantee", _("保函")
        INSTRUMENT = "instrument", _("票据")

    class Status(models.TextChoices):
        HELD = "held", _("在托管")
        REFUND_SCHEDULED = "refund_scheduled", _("待退还")
        REFUNDING = "refunding", _("退款中")
        REFUNDED = "refunded", _("已退还")
        FORFEITED = "forfeited", _("已没收")
        EARNEST = "earnest", _("已转定金")
        LAND_PRICE = "land_price", _("已抵作价款")

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="deposits")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="deposits"
    )
    form = models.CharField(_("形式"), max_length=10, choices=Form.choices)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="deposits"
    )
    notification = models.OneToOneField(
        BankNotification, on_delete=models.PROTECT, null=True, blank=True, related_name="deposit"
    )
    guarantee = models.OneToOneField(
        Guarantee, on_delete=models.PROTECT, null=True, blank=True, related_name="deposit"
    )
    instrument = models.OneToOneField(
        Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="deposit"
    )
    amount = models.DecimalField(_("金额"), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    # Judged in RMB at the rate in force when the money arrived (rates kept by staff).
    fx_rate = models.DecimalField(
        _("到账时汇率"), max_digits=12, decimal_places=6, default=Decimal("1")
    )
    amount_cny = models.DecimalField(_("折合人民币"), **MONEY)
    arrived_at = models.DateTimeField(_("到账/提交时间"))
    # Where a refund goes: back to the account that paid (never to one the bidder names later).
    payer_name = models.CharField(_("付款人户名"), max_length=200, blank=True)
    payer_account = models.CharField(_("付款人账号"), max_length=40, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.HELD)

    class Meta:
        verbose_name = pgettext_lazy("singular", "保证金")
        verbose_name_plural = _("保证金")
        ordering = ["arrived_at", "id"]
        permissions = [
            ("schedule_refund", _("可安排退还保证金")),
            ("forfeit_deposit", _("可没收保证金")),
            ("convert_deposit", _("可将竞买保证金转为定金/价款")),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.amount} {self.currency}"

    @property
    def money_account(self) -> Account:
        """The sub-account holding a deposit paid in money (cash, a collected instrument); a guarantee
        is a promise and has none."""
        return present(self.account, f"the sub-account of deposit {self.pk}")


class RefundAccountConfirmation(models.Model):
    """The depositing organization's signed confirmation (act deposit.refund_account) of the account
    its deposit goes back to: the payer's name, bank and number as the platform held them when it
    confirmed, and `sha256`, the canonical hash of them the signer signed
    (`services.refund_account_details`). Once per deposit. It is evidence for the refund, not a
    condition of it: refunds go to the paying account either way."""

    deposit = models.OneToOneField(
        Deposit, on_delete=models.PROTECT, related_name="refund_account_confirmation"
    )
    payee_name = models.CharField(_("收款人户名"), max_length=200)
    payee_bank = models.CharField(_("开户行"), max_length=100, blank=True)
    payee_account = models.CharField(_("收款人账号"), max_length=40)
    sha256 = models.CharField(_("账户信息哈希"), max_length=64)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"))
    # None only when the development fallback let an unsigned confirmation through.
    signed_act = models.ForeignKey(
        "signing.SignedAct", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "退还账户确认")
        verbose_name_plural = _("退还账户确认")

    def __str__(self) -> str:
        return f"refund account of deposit {self.deposit_id}: {self.payee_account}"


class RefundBatch(models.Model):
    """A refund instruction file sent to the bank (CSV), kept as sent."""

    created_at = models.DateTimeField(_("生成时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    csv = models.TextField(_("指令文件"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = pgettext_lazy("singular", "退款批次")
        verbose_name_plural = _("退款批次")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch {self.pk} {self.created_at:%Y-%m-%d %H:%M}"


class Refund(models.Model):
    class Reason(models.TextChoices):
        WITHDRAWAL = "withdrawal", _("投标截止前撤回")
        CONTRACT_SIGNED = "contract_signed", _("合同签订后退还")
        NOT_AWARDED = "not_awarded", _("未中标退还")
        LAND_NOT_WON = "land_not_won", _("未竞得退还")
        TERMINATION = "termination", _("项目终止退还")
        PAYER_MISMATCH = "payer_mismatch", _("付款人不符退回")
        UNKNOWN_ACCOUNT = "unknown_account", _("无法识别的来款退回")
        INSTRUMENT_MISMATCH = "instrument_mismatch", _("与登记票据不符的来款退回")
        FAILED_LOT = "failed_lot", _("流标退还")
        DECRYPTION_FAILURE = "decryption_failure", _("未解密（视为撤销）按规定退还")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待发送")
        INSTRUCTED = "instructed", _("已发银行")
        PAID = "paid", _("已到账")
        FAILED = "failed", _("银行退回失败")
        CANCELLED = "cancelled", _("已撤销（保证金被没收）")

    deposit = models.ForeignKey(
        Deposit, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    # Money held in suspense has no deposit: it is owed to whoever paid it.
    notification = models.ForeignKey(
        BankNotification, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    principal = models.DecimalField(_("本金"), **MONEY)
    interest = models.DecimalField(_("利息"), default=Decimal("0"), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    payee_name = models.CharField(_("收款人户名"), max_length=200)
    payee_account = models.CharField(_("收款人账号"), max_length=40)
    due_at = models.DateTimeField(_("应退日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    scheduled_at = models.DateTimeField(_("安排时间"))
    batch = models.ForeignKey(
        RefundBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    bank_reference = models.CharField(_("银行流水号"), max_length=64, blank=True)
    paid_at = models.DateTimeField(_("到账时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "退款")
        verbose_name_plural = _("退款")
        ordering = ["due_at", "id"]
        constraints = [
            # A deposit is refunded at most once at a time: a failed refund frees it for a new one.
            models.UniqueConstraint(
                fields=["deposit"],
                condition=~Q(status__in=["failed", "cancelled"]),
                name="one_live_refund_per_deposit",
            ),
            models.UniqueConstraint(
                fields=["notification"],
                condition=~Q(status__in=["failed", "cancelled"]),
                name="one_live_refund_per_held_payment",
            ),
            models.CheckConstraint(condition=Q(principal__gt=0), name="refund_principal_positive"),
            models.CheckConstraint(
                condition=Q(interest__gte=0), name="refund_interest_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} {self.principal}+{self.interest} {self.currency}"

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


class Forfeiture(models.Model):
    class Reason(models.TextChoices):
        WITHDRAWAL_AFTER_DEADLINE = "withdrawal_after_deadline", _("投标截止后撤销投标")
        REFUSED_TO_SIGN = "refused_to_sign", _("中标人拒绝签订合同")
        LAND_DEAL_REFUSED = "land_deal_refused", _("竞得人拒签成交确认书或出让合同")
        DECRYPTION_FAILURE = "decryption_failure", _("投标人原因解密失败")

    deposit = models.OneToOneField(Deposit, on_delete=models.PROTECT, related_name="forfeiture")
    reason = models.CharField(_("原因"), max_length=30, choices=Reason.choices)
    note = models.TextField(_("说明"))
    decided_at = models.DateTimeField(_("决定时间"))
    # Empty when the platform applied the project's rule itself (a bidder that did not decrypt its
    # bid, at the end of the opening); the audit event names that process.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "没收记录")
        verbose_name_plural = _("没收记录")

    def __str__(self) -> str:
        return f"{self.deposit} {self.get_reason_display()}"


class BankStatement(models.Model):
    """A bank's daily statement of the custody account, imported as CSV and kept as received."""

    bank = models.CharField(_("银行"), max_length=20)
    statement_date = models.DateField(_("对账日"))
    csv = models.TextField(_("对账单"))
    sha256 = models.CharField(max_length=64, unique=True)
    imported_at = models.DateTimeField(_("导入时间"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "银行对账单")
        verbose_name_plural = _("银行对账单")
        ordering = ["-statement_date", "-id"]

    def __str__(self) -> str:
        return f"{self.bank} {self.statement_date}"


class StatementLine(models.Model):
    class Direction(models.TextChoices):
        CREDIT = "credit", _("来账")
        DEBIT = "debit", _("往账")

    class Match(models.TextChoices):
        MATCHED = "matched", _("已勾对")
        AMOUNT_DIFFERS = "amount_differs", _("金额不符")
        NOT_IN_LEDGER = "not_in_ledger", _("平台无记录")

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField(_("行号"))
    transaction_id = models.CharField(_("银行流水号"), max_length=64)
    direction = models.CharField(_("方向"), max_length=6, choices=Direction.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, choices=Currency.choices)
    counterparty_name = models.CharField(_("对方户名"), max_length=200, blank=True)
    counterparty_account = models.CharField(_("对方账号"), max_length=40, blank=True)
    value_at = models.DateTimeField(_("记账时间"))
    match = models.CharField(_("勾对结果"), max_length=16, choices=Match.choices)
    notification = models.ForeignKey(
        BankNotification,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_lines",
    )
    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_lines"
    )

    class Meta:
        ordering = ["statement", "line_number"]

    def __str__(self) -> str:
        return f"{self.statement} #{self.line_number}"
