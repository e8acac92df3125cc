"""Untrusted text: unsafe characters refused, and what append-only records keep of it bounded."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.text import EXCERPT_CHARS, TextError, bounded, check_text, first_unsafe, unsafe_char


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy", "bell\x07", "\x1b[31m"])
def test_it_refuses_nul_lone_surrogates_and_control_characters(text):
    assert unsafe_char(text) is not None
    with pytest.raises(TextError) as refused:
        check_text(text, field="q")
    assert refused.value.code == "TEXT_INVALID_CHAR"


@pytest.mark.parametrize("text", ["珠海市公共资源交易中心", "line\nbreak\ttab\r", "emoji 🎉", ""])
def test_it_keeps_ordinary_text(text):
    assert check_text(text) == text


def test_it_finds_the_first_unsafe_character_anywhere_in_json_keys_included():
    assert first_unsafe({"a": [1, "ok", {"b": "x\x00"}]}) == ("a[2].b", "\x00")
    path, char = first_unsafe({"k\ud800": 1})
    assert char == "\ud800" and "\ud800" not in path
    assert first_unsafe({"a": ["fine", 1.5, None]}) is None


def test_it_refuses_text_longer_than_the_limit():
    with pytest.raises(TextError) as refused:
        check_text("x" * 11, max_length=10)
    assert refused.value.code == "TEXT_TOO_LONG"


@given(st.text(max_size=2_000))
def test_what_a_record_keeps_is_bounded_storable_and_identifies_the_input(text):
    kept = bounded(text)
    if isinstance(kept, str):
        assert kept == text and len(kept) <= EXCERPT_CHARS
    else:
        assert len(kept["excerpt"]) <= EXCERPT_CHARS
        assert unsafe_char(kept["excerpt"]) is None
        assert kept["length"] == len(text)
        assert kept["sha256"] == hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def test_a_megabyte_price_is_kept_as_an_excerpt():
    kept = bounded("9" * 1_000_000)
    assert kept["length"] == 1_000_000 and len(kept["excerpt"]) == EXCERPT_CHARS
    assert bounded(10**40) == {"type": "int", "bits": (10**40).bit_length()}
    assert bounded([1, 2]) == {"type": "list"}
