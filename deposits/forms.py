"""Forms of the deposit pages. They only parse input into the arguments of one service; every rule (who
may, which forms a lot accepts, amounts, validity periods, statuses) is checked by deposits.services or
deposits.reconciliation, whose DomainError the page shows next to the kept input."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from deposits.eguarantee import MAX_DOCUMENT_BYTES as MAX_EGUARANTEE_BYTES
from deposits.models import Currency, Forfeiture, Guarantee, Instrument, Refund
from deposits.serializers import parse_rate
from lib import numbers
from lib.errors import DomainError
from lib.money import AmountFormField
from trading.forms import BeijingDateTimeField
from trading.models import Lot

# A bank statement is a small CSV (one line per transaction of a day).
MAX_STATEMENT_BYTES = 5 * 1024 * 1024
# Refund reasons staff may choose by hand; money held without a deposit is refunded by its bank message.
MANUAL_REFUND_REASONS = [
    choice
    for choice in Refund.Reason.choices
    if choice[0]
    not in (
        Refund.Reason.PAYER_MISMATCH,
        Refund.Reason.UNKNOWN_ACCOUNT,
        Refund.Reason.INSTRUMENT_MISMATCH,
    )
]


def bank_choices() -> list[tuple[str, str]]:
    """The banks the platform has a signing secret for, the custody bank first."""
    banks = sorted(settings.DEPOSIT_BANK_SECRETS, key=lambda b: b != settings.DEPOSIT_CUSTODY_BANK)
    return [(bank, bank) for bank in banks]


class DateInput(forms.DateInput):
    input_type = "date"


# --- Bidders --------------------------------------------------------------------------------------


class OpenAccountForm(forms.Form):
    currency = forms.ChoiceField(label=_("币种"), choices=Currency.choices, initial=Currency.CNY)


class GuaranteeForm(forms.Form):
    kind = forms.ChoiceField(label=_("保函类型"), choices=Guarantee.Kind.choices)
    issuer = forms.CharField(label=_("出具机构"), max_length=200)
    number = forms.CharField(label=_("保函编号"), max_length=64)
    amount = AmountFormField(label=_("担保金额（元）"))
    valid_from = forms.DateField(label=_("生效日"), widget=DateInput)
    valid_until = forms.DateField(label=_("失效日"), widget=DateInput)
    file = forms.FileField(label=_("电子保函文件"))

    def __init__(self, *args: Any, lot: Lot | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if lot is not None:
            # Offer the guarantee kinds the lot lists; the service refuses any other.
            kinds = [c for c in Guarantee.Kind.choices if c[0] in (lot.deposit_forms or [])]
            cast(forms.ChoiceField, self.fields["kind"]).choices = kinds or Guarantee.Kind.choices
            self.fields["amount"].initial = lot.deposit_amount

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件过大。"))
        return upload


class ElectronicGuaranteeForm(forms.Form):
    """The issuer's signed document (电子保函, JSON), filed as it is; the service reads and checks it."""

    document = forms.FileField(
        label=_("电子保函文件（出具机构签名的 JSON）"),
        help_text=_("由银行或担保机构出具、带数字签名的电子保函文件，提交后自动验签。"),
    )

    def clean_document(self) -> bytes:
        upload = self.cleaned_data["document"]
        # Read one byte past the bound: the service names a larger file GUARANTEE_TOO_LARGE.
        return bytes(upload.read(MAX_EGUARANTEE_BYTES + 1))


# --- Center staff ---------------------------------------------------------------------------------


class VerifyGuaranteeForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("核验结论"),
        choices=[("accept", _("核验通过")), ("reject", _("核验不通过"))],
        widget=forms.RadioSelect,
    )
    method = forms.CharField(
        label=_("核验方式"), max_length=100, help_text=_("例如：电子保函平台验真、致电出具机构核实")
    )
    note = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class InstrumentForm(forms.Form):
    """A cheque, draft or promissory note received over the counter, named by what is on the paper
    and on the supplier's registration (project number, lot, 统一社会信用代码)."""

    project_number = forms.CharField(label=_("项目编号"), max_length=40)
    lot_number = numbers.IntegerFormField(label=_("标段/包号"), min_value=1, max_value=32767)
    uscc = forms.CharField(label=_("出票人统一社会信用代码"), max_length=18)
    kind = forms.ChoiceField(label=_("票据种类"), choices=Instrument.Kind.choices)
    bank = forms.CharField(label=_("付款行/出票行"), max_length=100)
    number = forms.CharField(label=_("票据号码"), max_length=64)
    # The text goes to the service, which reads it with lib.money.parse_amount (one contract).
    amount = forms.CharField(label=_("票面金额（元）"), max_length=40, strip=False)
    drawer_account = forms.CharField(label=_("出票人账号"), max_length=40)
    issued_on = forms.DateField(label=_("出票日"), widget=DateInput)
    payable_until = forms.DateField(
        label=_("到期日/提示付款期限"),
        required=False,
        widget=DateInput,
        help_text=_("汇票、本票必填；支票自出票日起十日内提示付款，无需填写。"),
    )


class InstrumentActionForm(forms.Form):
    text = forms.CharField(label=_("说明"), max_length=500, required=False)


class ScheduleRefundForm(forms.Form):
    reason = forms.ChoiceField(label=_("退还原因"), choices=MANUAL_REFUND_REASONS)


class ForfeitForm(forms.Form):
    reason = forms.ChoiceField(label=_("没收原因"), choices=Forfeiture.Reason.choices)
    note = forms.CharField(
        label=_("事实依据"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class RefundBatchForm(forms.Form):
    until = forms.DateField(
        label=_("应退日期不晚于（可空，空则全部）"), required=False, widget=DateInput
    )


class RateFormField(forms.CharField):
    """An exchange rate on the staff page, read by `parse_rate` exactly as the API reads it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "inputmode": "decimal", "autocomplete": "off"}

    # A Decimal or None: CharField's signature says str, which this field's cleaned value is not.
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parse_rate(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class FxRateForm(forms.Form):
    currency = forms.ChoiceField(
        label=_("币种"), choices=[(c, label) for c, label in Currency.choices if c != Currency.CNY]
    )
    cny_per_unit = RateFormField(label=_("1 单位折合人民币"))
    source = forms.CharField(label=_("来源"), max_length=100, required=False)


class StatementForm(forms.Form):
    bank = forms.ChoiceField(label=_("银行"), choices=bank_choices)
    statement_date = forms.DateField(label=_("对账日"), widget=DateInput)
    file = forms.FileField(label=_("对账单（CSV，UTF-8）"))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_STATEMENT_BYTES:
            raise forms.ValidationError(_("对账单文件过大。"))
        try:
            # utf-8-sig: spreadsheet programs save CSV with a byte-order mark.
            text: str = upload.read().decode("utf-8-sig")
            return text
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("对账单须为 UTF-8 编码的 CSV 文件。")) from exc


# --- The bank simulator ---------------------------------------------------------------------------


class SimulatedPaymentForm(forms.Form):
    bank = forms.ChoiceField(label=_("银行"), choices=bank_choices)
    account_number = forms.CharField(
        label=_("收款子账号"),
        max_length=32,
        help_text=_("可从列表选择，也可输入任意账号（演示无法识别的来款）"),
        widget=forms.TextInput(attrs={"list": "sub-accounts", "autocomplete": "off"}),
    )
    amount = AmountFormField(label=_("金额"))
    currency = forms.ChoiceField(label=_("币种"), choices=Currency.choices, initial=Currency.CNY)
    payer_name = forms.CharField(
        label=_("付款人户名"), max_length=200, required=False, help_text=_("空则为该子账户的投标人")
    )
    payer_account = forms.CharField(
        label=_("付款人账号"),
        max_length=40,
        required=False,
        help_text=_("空则为该投标人的基本账户（演示账号）"),
    )
    payer_bank = forms.CharField(label=_("付款行"), max_length=100, required=False)
    value_time = BeijingDateTimeField(
        label=_("银行到账时间（北京时间，空则为现在）"), required=False
    )
    transaction_id = forms.CharField(
        label=_("银行流水号（空则自动生成）"), max_length=64, required=False
    )


class SimulatedConfirmationForm(forms.Form):
    status = forms.ChoiceField(choices=[("paid", _("已付")), ("failed", _("失败"))])
