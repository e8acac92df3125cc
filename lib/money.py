"""The one parser for an amount of money that comes from outside (REST, forms, sockets, bank messages,
statement files, settings).

The wire contract is a string of ASCII digits with at most one "." and at most two decimals:
`AMOUNT_PATTERN`. Nothing else: no sign, no exponent, no whitespace, no thousands separators, no
full-width or other Unicode digits (Python's `Decimal` would silently read "１２３" or "١٢٣" as 123),
no underscores (`Decimal("1_000")` is 1000), no JSON number (a float has already lost digits, and an
integer is not what the schema documents). The length and the pattern are checked before any
arithmetic, so a megabyte of digits or "1e309" costs a regular-expression match and nothing more.

Pages may help a person (normalize full-width input in the browser and show what will be sent); the
server contract stays strict. Every entry point calls `parse_amount` (or the DRF / form fields below,
which call it), so the OpenAPI pattern, the form and the socket accept exactly the same strings.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lib.errors import MAX_AMOUNT, DomainError

# 13 integer digits at most: everything below MAX_AMOUNT (10**13) and nothing above it.
_INTEGER_DIGITS = len(str(MAX_AMOUNT)) - 1
AMOUNT_PATTERN = rf"^[0-9]{{1,{_INTEGER_DIGITS}}}(\.[0-9]{{1,2}})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN, re.ASCII)
# The longest text the pattern can match; longer input is refused before the pattern even runs.
AMOUNT_MAX_LENGTH = _INTEGER_DIGITS + 3
CENT = Decimal("0.01")
# Well formed but longer than any amount the platform takes: said as out of range, not as a typo.
_TOO_MANY_DIGITS = re.compile(r"[0-9]+(\.[0-9]{1,2})?", re.ASCII)


class AmountError(DomainError):
    """An amount that is not the documented string. `field` names the input when the caller knows it."""

    code = "AMOUNT_INVALID"


_MESSAGES = {
    "AMOUNT_REQUIRED": _("金额不能为空%(where)s。"),
    "AMOUNT_NOT_STRING": _(
        '金额须以字符串提交（例如 "1200000.00"），不接受 JSON 数字或其他类型%(where)s。'
    ),
    "AMOUNT_INVALID": _(
        "金额格式错误%(where)s：只能是半角数字，最多一个小数点和两位小数，"
        "不含空格、符号、千分位或指数。"
    ),
    "AMOUNT_OUT_OF_RANGE": _("金额超出允许范围%(where)s：须在 %(low)s 与 %(high)s 之间。"),
}


def _where(field: str | None) -> str:
    return str(_("（%(field)s）")) % {"field": field} if field else ""


def _refuse(code: str, field: str | None, **params: Any) -> AmountError:
    return AmountError(_MESSAGES[code], code=code, where=_where(field), **params)


def parse_amount(
    value: Any,
    *,
    field: str | None = None,
    allow_zero: bool = False,
    maximum: Decimal | int = MAX_AMOUNT,
) -> Decimal:
    """The amount `value` stands for, quantized to fen, or `AmountError`.

    `value` must be a `str` matching `AMOUNT_PATTERN`. Zero is refused unless `allow_zero` (a price or a
    payment is never zero; a fee or an optional deposit may be). `maximum` is exclusive.
    """
    if value is None or value == "":
        raise _refuse("AMOUNT_REQUIRED", field)
    if not isinstance(value, str):
        raise _refuse("AMOUNT_NOT_STRING", field)
    # fullmatch, not match: "$" alone would also accept a final newline.
    if len(value) > AMOUNT_MAX_LENGTH or not _AMOUNT.fullmatch(value):
        if len(value) <= 40 and _TOO_MANY_DIGITS.fullmatch(value):
            raise _refuse("AMOUNT_OUT_OF_RANGE", field, low="0.01", high=f"{MAX_AMOUNT:.2f}")
        raise _refuse("AMOUNT_INVALID", field)
    amount = Decimal(value).quantize(CENT)
    low = Decimal(0) if allow_zero else CENT
    if amount < low or amount >= Decimal(maximum):
        raise _refuse(
            "AMOUNT_OUT_OF_RANGE", field, low=f"{low:.2f}", high=f"{Decimal(maximum):.2f}"
        )
    return amount


def is_amount_text(value: Any) -> bool:
    """True when `value` is a string the contract accepts (any size below MAX_AMOUNT, zero included)."""
    try:
        parse_amount(value, allow_zero=True)
    except AmountError:
        return False
    return True


def format_amount(amount: Decimal) -> str:
    """The wire form of an amount: plain digits, two decimals ("1200000.00")."""
    return f"{amount.quantize(CENT):f}"


# --- The same contract for DRF serializers and Django forms -----------------------------------------

AMOUNT_SCHEMA = {
    "type": "string",
    "format": "decimal",
    "pattern": AMOUNT_PATTERN,
    "maxLength": AMOUNT_MAX_LENGTH,
    "example": "1200000.00",
    "description": "Amount in yuan: ASCII digits, at most two decimals; no sign, exponent, "
    "spaces or separators. 金额（元）：半角数字，最多两位小数。",
}


@extend_schema_field(AMOUNT_SCHEMA)
class AmountField(serializers.Field):
    """A money field for the API: reads with `parse_amount`, writes the two-decimal string."""

    def __init__(
        self, *, allow_zero: bool = False, maximum: Decimal | int = MAX_AMOUNT, **kwargs: Any
    ) -> None:
        self.allow_zero = allow_zero
        self.maximum = maximum
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        return parse_amount(
            data, field=self.field_name, allow_zero=self.allow_zero, maximum=self.maximum
        )

    def to_representation(self, value: Any) -> str:
        return format_amount(Decimal(value))


class AmountFormField(forms.CharField):
    """A money field for pages: the same contract as the API. The page's script normalizes full-width
    digits and separators in the browser and shows what will be sent; the server stays strict."""

    def __init__(
        self, *, allow_zero: bool = False, maximum: Decimal | int = MAX_AMOUNT, **kwargs: Any
    ) -> None:
        self.allow_zero = allow_zero
        self.maximum = maximum
        # No max_length: CharField would run its length validator on the parsed Decimal (a TypeError),
        # and `parse_amount` refuses an overlong text before anything else anyway. No maxlength in the
        # page either: a person may type separators the page's script removes before sending.
        # Stripping would accept " 12" here and refuse it in the API: one contract for both.
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        # No maxlength either: a person may type separators the page's script removes before sending.
        attrs.update({"inputmode": "decimal", "autocomplete": "off", "data-amount": "1"})
        return attrs

    # A Decimal or None: CharField's signature says str, which this field's cleaned value is not.
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parse_amount(
                value, field=str(self.label or ""), allow_zero=self.allow_zero, maximum=self.maximum
            )
        except AmountError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc

    def prepare_value(self, value: Any) -> Any:
        return format_amount(value) if isinstance(value, Decimal) else value
