"""The one money parser: exactly the documented strings, nothing Python's Decimal would also read."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.errors import MAX_AMOUNT
from lib.money import AMOUNT_PATTERN, AmountError, format_amount, parse_amount

_CONTRACT = re.compile(AMOUNT_PATTERN)


@given(
    integer=st.integers(min_value=0, max_value=MAX_AMOUNT - 1),
    cents=st.one_of(st.none(), st.integers(0, 9), st.integers(0, 99)),
)
def test_it_reads_every_documented_amount_exactly(integer, cents):
    text = str(integer) if cents is None else f"{integer}.{cents}"
    expected = Decimal(text).quantize(Decimal("0.01"))
    assert parse_amount(text, allow_zero=True) == expected
    assert format_amount(expected) == f"{expected:.2f}"


@given(st.text(max_size=30))
def test_it_accepts_a_string_only_when_the_published_pattern_does(text):
    """The OpenAPI pattern and the parser agree on every string (full-width and Arabic-Indic digits,
    underscores, exponents, signs and spaces included)."""
    documented = _CONTRACT.fullmatch(text) is not None
    try:
        parse_amount(text, allow_zero=True)
        accepted = True
    except AmountError:
        accepted = False
    assert accepted == documented


@pytest.mark.parametrize(
    "text",
    [
        "１２３",  # full-width digits
        "١٢٣",  # Arabic-Indic digits
        "1_000",
        "1e3",
        "1E3",
        "1e309",
        " 12",
        "12 ",
        "12\n",
        "+12",
        "-12",
        "1,000",
        "12.345",
        "12.",
        ".5",
        "NaN",
        "Infinity",
        "0x10",
        "1" * 1_000_000,
    ],
)
def test_it_refuses_what_decimal_would_have_read(text):
    with pytest.raises(AmountError) as refused:
        parse_amount(text)
    assert refused.value.code in {"AMOUNT_INVALID", "AMOUNT_OUT_OF_RANGE"}


@pytest.mark.parametrize("value", [12, 12.5, Decimal("12"), True, ["12"], {"amount": "12"}])
def test_it_refuses_anything_but_a_string(value):
    with pytest.raises(AmountError) as refused:
        parse_amount(value)
    assert refused.value.code == "AMOUNT_NOT_STRING"


def test_it_says_out_of_range_for_zero_and_for_too_many_digits():
    for text in ("0", "0.00", "10000000000000", "99999999999999999.99"):
        with pytest.raises(AmountError) as refused:
            parse_amount(text)
        assert refused.value.code == "AMOUNT_OUT_OF_RANGE"
    assert parse_amount("0", allow_zero=True) == Decimal("0.00")
    with pytest.raises(AmountError):
        parse_amount("1000.00", maximum=1000)


def test_it_names_the_field_in_both_languages():
    from django.utils import translation

    with pytest.raises(AmountError) as refused:
        parse_amount("１２", field="reserve")
    assert "reserve" in refused.value.message
    with translation.override("en"):
        assert "reserve" in refused.value.message
        assert not re.search(r"[\u4e00-\u9fff]", refused.value.message.replace("reserve", ""))


def test_the_form_field_reads_the_same_contract_and_marks_its_input():
    from django import forms

    from lib.money import AmountFormField

    class PriceForm(forms.Form):
        price = AmountFormField(label="报价")
        deposit = AmountFormField(label="保证金", required=False, allow_zero=True)

    valid = PriceForm({"price": "35800000.5", "deposit": "0"})
    assert valid.is_valid(), valid.errors
    assert valid.cleaned_data == {"price": Decimal("35800000.50"), "deposit": Decimal("0.00")}
    for text, code in (
        ("３５８", "AMOUNT_INVALID"),
        (" 358", "AMOUNT_INVALID"),
        ("0", "AMOUNT_OUT_OF_RANGE"),
    ):
        refused = PriceForm({"price": text})
        assert not refused.is_valid()
        assert refused.errors.as_data()["price"][0].code == code
    # A page's script may remove typed separators, so the input itself is not cut to the contract's
    # length; the server refuses an overlong text by itself.
    html = str(PriceForm()["price"])
    assert 'data-amount="1"' in html and 'inputmode="decimal"' in html and "maxlength" not in html
    assert not PriceForm({"price": "1" * 100}).is_valid()
    # A stored amount is shown in the wire form.
    assert 'value="12.50"' in str(PriceForm(initial={"price": Decimal("12.5")})["price"])


def test_the_page_script_checks_the_published_pattern():
    """static/js/amount-input.js says in advance what the server will accept; it carries the same
    pattern as the OpenAPI schema."""
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "static/js/amount-input.js").read_text()
    written = re.search(r"var PATTERN = /(.+)/;", script).group(1)
    assert written == AMOUNT_PATTERN
