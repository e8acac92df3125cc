"""The one parser for a number that is not money: counts, durations, ids in a body, weights, scores.

The sibling of `lib.money`: Python's `int()` and `Decimal()` read far more than a person or a client
means to send — full-width or Arabic-Indic digits ("１２", "١٢"), underscores ("1_000"), surrounding
spaces, exponents ("1e3"), and DRF's IntegerField even accepts "12.0". Each of those would be one more
way for two entry points to disagree about the same input. So a number from outside is:

- an integer: a JSON integer (not a boolean, not a float) or a string of 1–18 ASCII digits;
- a decimal (`parse_decimal`): a string of ASCII digits with at most `places` decimals, as documented
  by `decimal_schema` in the OpenAPI schema.

No sign anywhere: nothing the platform counts is negative. Ranges are checked after the pattern, so
an overlong text costs a length check and nothing more.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lib.errors import DomainError

MAX_INTEGER = 2**63 - 1  # a bigint column: the largest id or count the database can hold
_INTEGER_DIGITS = 18  # every 18-digit number fits a bigint; longer text is refused unread
INTEGER_PATTERN = rf"^[0-9]{{1,{_INTEGER_DIGITS}}}$"
_INTEGER = re.compile(INTEGER_PATTERN, re.ASCII)


class NumberError(DomainError):
    code = "NUMBER_INVALID"


_MESSAGES = {
    "NUMBER_REQUIRED": _("%(field)s不能为空。"),
    "NUMBER_INVALID": _("%(field)s必须是半角数字%(shape)s，不含空格、符号或指数。"),
    "NUMBER_OUT_OF_RANGE": _("%(field)s超出允许范围：须在 %(low)s 与 %(high)s 之间。"),
}
_WHOLE = _("（整数）")
_DECIMAL = _("（最多 %(places)s 位小数）")


def _refuse(code: str, field: Any, **params: Any) -> NumberError:
    params.setdefault("shape", "")
    return NumberError(_MESSAGES[code], code=code, field=field or _("数值"), **params)


def parse_integer(
    value: Any,
    *,
    field: Any = None,
    minimum: int = 0,
    maximum: int = MAX_INTEGER,
) -> int:
    """The integer `value` stands for, or `NumberError`. Both bounds are inclusive."""
    if value is None or value == "":
        raise _refuse("NUMBER_REQUIRED", field)
    if isinstance(value, bool):
        raise _refuse("NUMBER_INVALID", field, shape=_WHOLE)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and len(value) <= _INTEGER_DIGITS and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        raise _refuse("NUMBER_INVALID", field, shape=_WHOLE)
    if not minimum <= number <= maximum:
        raise _refuse("NUMBER_OUT_OF_RANGE", field, low=minimum, high=maximum)
    return number


def decimal_pattern(places: int, integer_digits: int) -> str:
    return rf"^[0-9]{{1,{integer_digits}}}(\.[0-9]{{1,{places}}})?$"


def parse_decimal(
    value: Any,
    *,
    places: int,
    minimum: Decimal,
    maximum: Decimal,
    field: Any = None,
) -> Decimal:
    """The decimal `value` stands for, or `NumberError`: a string only (a JSON number has already been
    rounded by the client's float). Both bounds are inclusive."""
    if value is None or value == "":
        raise _refuse("NUMBER_REQUIRED", field)
    integer_digits = len(str(int(maximum)))
    shape = _DECIMAL % {"places": places}
    if not isinstance(value, str) or len(value) > integer_digits + places + 1:
        raise _refuse("NUMBER_INVALID", field, shape=shape)
    if not re.fullmatch(decimal_pattern(places, integer_digits), value, re.ASCII):
        raise _refuse("NUMBER_INVALID", field, shape=shape)
    number = Decimal(value)
    if not minimum <= number <= maximum:
        raise _refuse("NUMBER_OUT_OF_RANGE", field, low=minimum, high=maximum)
    return number


def query_integer(
    params: Any, name: str, *, minimum: int = 0, maximum: int = MAX_INTEGER
) -> int | None:
    """An optional integer query parameter (absent or empty → None), parsed like any other."""
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return parse_integer(value, field=name, minimum=minimum, maximum=maximum)
    except NumberError as exc:
        exc.code = "INVALID_PARAMETER"  # the code every query-parameter refusal carries
        raise


# --- The same contract for DRF serializers and Django forms -----------------------------------------


def _named(field: serializers.Field, exc: NumberError) -> NumberError:
    """The refusal names its field in `details`, as DRF's own validation errors do (a list's
    items are named by the list)."""
    name = field.field_name or getattr(field.parent, "field_name", "") or "value"
    exc.details = {name: [exc.message]}
    return exc


class IntegerField(serializers.IntegerField):
    """DRF's IntegerField with the strict reading (its own accepts "１２", " 12", "12.0")."""

    def __init__(self, *, min_value: int = 0, max_value: int = MAX_INTEGER, **kwargs: Any) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        # The bounds as integers (DRF's attributes are optional: this field always has both).
        self.minimum, self.maximum = min_value, max_value

    def to_internal_value(self, data: Any) -> int:
        try:
            return parse_integer(
                data, field=self.field_name, minimum=self.minimum, maximum=self.maximum
            )
        except NumberError as exc:
            raise _named(self, exc) from None


def decimal_schema(places: int, maximum: Decimal) -> dict[str, Any]:
    integer_digits = len(str(int(maximum)))
    return {
        "type": "string",
        "format": "decimal",
        "pattern": decimal_pattern(places, integer_digits),
        "maxLength": integer_digits + places + 1,
        "description": f"ASCII digits, at most {places} decimals, at most {maximum}; a string.",
    }


def decimal_field(
    *, places: int, minimum: Decimal, maximum: Decimal, **kwargs: Any
) -> serializers.Field:
    """A decimal for the API, documented by its exact pattern and read by `parse_decimal`."""

    @extend_schema_field(decimal_schema(places, maximum))
    class _DecimalText(serializers.Field):
        def to_internal_value(self, data: Any) -> Decimal:
            try:
                return parse_decimal(
                    data, places=places, minimum=minimum, maximum=maximum, field=self.field_name
                )
            except NumberError as exc:
                raise _named(self, exc) from None

        def to_representation(self, value: Any) -> str:
            return f"{Decimal(value):f}"

    return _DecimalText(**kwargs)


class IntegerFormField(forms.IntegerField):
    """A page's integer: the API's contract (the form's own field strips and reads "１２")."""

    def __init__(self, *, min_value: int = 0, max_value: int = MAX_INTEGER, **kwargs: Any) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        # The bounds as integers (Django's attributes may also be None or a callable).
        self.minimum, self.maximum = min_value, max_value

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            return parse_integer(
                value, field=self.label, minimum=self.minimum, maximum=self.maximum
            )
        except NumberError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc


class DecimalFormField(forms.CharField):
    """A page's decimal with the API's contract; `inputmode=decimal` brings the right keyboard."""

    def __init__(self, *, places: int, minimum: Decimal, maximum: Decimal, **kwargs: Any) -> None:
        self.places, self.minimum, self.maximum = places, minimum, maximum
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs

    # A Decimal or None: CharField's signature says str, which this field's cleaned value is not.
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parse_decimal(
                value,
                places=self.places,
                minimum=self.minimum,
                maximum=self.maximum,
                field=self.label,
            )
        except NumberError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc

    def prepare_value(self, value: Any) -> Any:
        return f"{value:f}" if isinstance(value, Decimal) else value


class PrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id in a body names an object by the strict integer reading: DRF's own looks up `pk=True`
    as 1 and "１" as 1."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            number = parse_integer(data, field=self.field_name, minimum=1, maximum=MAX_INTEGER)
        except NumberError as exc:
            raise _named(self, exc) from None
        return super().to_internal_value(number)


class ModelChoiceField(forms.ModelChoiceField):
    """A page's choice of an object by id, with the strict integer reading of the id."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            parse_integer(value, field=self.label, minimum=1, maximum=MAX_INTEGER)
        except NumberError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None
        return super().to_python(value)


if TYPE_CHECKING:

    class _ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
        # The hook Django's clean() and to_python() call with the ids; django-stubs leaves it out.
        def _check_values(self, value: Any) -> QuerySet[Any]: ...

else:
    _ModelMultipleChoiceField = forms.ModelMultipleChoiceField


class ModelMultipleChoiceField(_ModelMultipleChoiceField):
    """Several objects by id, each id read strictly."""

    def _check_values(self, value: Any) -> QuerySet[Any]:
        for pk in value:
            try:
                parse_integer(pk, field=self.label, minimum=1, maximum=MAX_INTEGER)
            except NumberError:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                ) from None
        return super()._check_values(value)
