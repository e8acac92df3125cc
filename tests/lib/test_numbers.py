"""The one parser for numbers that are not money: counts, durations, ids in bodies, weights, scores."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.numbers import (
    INTEGER_PATTERN,
    MAX_INTEGER,
    NumberError,
    decimal_pattern,
    parse_decimal,
    parse_integer,
    query_integer,
)

HOSTILE = [
    "１２",  # full-width digits: int() reads them
    "١٢",  # Arabic-Indic digits
    "1_000",  # int() reads underscores
    " 12",
    "12 ",
    "12\n",
    "+12",
    "-12",
    "12.0",  # DRF's IntegerField strips ".0"
    "1e3",
    "0x10",
    "9" * 19,  # beyond a bigint
    "9" * 5000,  # int() would refuse only past 4,300 digits, after the work
    "",
    True,
    12.0,
    None,
    [12],
]


@given(st.integers(min_value=0, max_value=MAX_INTEGER))
def test_it_reads_every_integer_as_a_json_number_or_ascii_text(number):
    assert parse_integer(number) == number
    if len(str(number)) <= 18:
        assert parse_integer(str(number)) == number


@given(st.text(max_size=25))
def test_text_is_accepted_exactly_when_the_published_pattern_matches(text):
    documented = re.fullmatch(INTEGER_PATTERN, text) is not None
    try:
        parse_integer(text)
        accepted = True
    except NumberError:
        accepted = False
    assert accepted == documented


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_integers_are_refused_with_a_code(value):
    with pytest.raises(NumberError) as refused:
        parse_integer(value, field="rounds")
    assert refused.value.code in {"NUMBER_INVALID", "NUMBER_REQUIRED", "NUMBER_OUT_OF_RANGE"}
    assert "rounds" in refused.value.message


def test_ranges_are_inclusive_and_named():
    assert parse_integer("72", minimum=1, maximum=72) == 72
    with pytest.raises(NumberError) as refused:
        parse_integer(73, field="hours", minimum=1, maximum=72)
    assert refused.value.code == "NUMBER_OUT_OF_RANGE" and "72" in refused.value.message


@given(st.text(max_size=12))
def test_decimals_follow_their_pattern(text):
    documented = re.fullmatch(decimal_pattern(3, 1), text) is not None
    try:
        value = parse_decimal(text, places=3, minimum=Decimal(0), maximum=Decimal(1))
        accepted = True
    except NumberError:
        accepted = False
    assert accepted == (documented and Decimal(text) <= 1)
    if accepted:
        assert value == Decimal(text)


@pytest.mark.parametrize("value", ["０.5", "0.5 ", "5e-1", "0.1234", ".5", "1.", 0.5, "NaN", "-0"])
def test_hostile_decimals_are_refused(value):
    with pytest.raises(NumberError):
        parse_decimal(value, places=3, minimum=Decimal(0), maximum=Decimal(1))


def test_a_query_parameter_keeps_its_code():
    assert query_integer({"lot": ""}, "lot") is None
    assert query_integer({"lot": "7"}, "lot") == 7
    with pytest.raises(NumberError) as refused:
        query_integer({"lot": "７"}, "lot")
    assert refused.value.code == "INVALID_PARAMETER"
