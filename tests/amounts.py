"""Amounts every money entry point must refuse (lib.money's contract), with the code it answers.

`REFUSED_TEXT` can travel in any body (a form, a multipart field, a CSV cell); `REFUSED` adds the JSON
values that only a JSON body can carry. Each endpoint's test parametrizes over one of them.
"""

from __future__ import annotations

import pytest

# A megabyte of digits: refused by its length before any arithmetic, never a 500.
HUGE = "9" * 1_000_000

REFUSED_TEXT = [
    pytest.param("１２３４５", "AMOUNT_INVALID", id="full-width"),
    pytest.param("١٢٣٤٥", "AMOUNT_INVALID", id="arabic-indic"),
    pytest.param("12_345", "AMOUNT_INVALID", id="underscore"),
    pytest.param("1e3", "AMOUNT_INVALID", id="exponent"),
    pytest.param("1e309", "AMOUNT_INVALID", id="exponent-overflow"),
    pytest.param(" 12345", "AMOUNT_INVALID", id="leading-space"),
    pytest.param("12345 ", "AMOUNT_INVALID", id="trailing-space"),
    pytest.param("+12345", "AMOUNT_INVALID", id="plus-sign"),
    pytest.param("-12345", "AMOUNT_INVALID", id="minus-sign"),
    pytest.param("12,345", "AMOUNT_INVALID", id="thousands-separator"),
    pytest.param("12345.678", "AMOUNT_INVALID", id="three-decimals"),
    pytest.param("NaN", "AMOUNT_INVALID", id="nan"),
    pytest.param("0", "AMOUNT_OUT_OF_RANGE", id="zero"),
    pytest.param("10000000000000", "AMOUNT_OUT_OF_RANGE", id="too-large"),
    pytest.param(HUGE, "AMOUNT_INVALID", id="megabyte"),
]

REFUSED = [
    *REFUSED_TEXT,
    pytest.param(12345, "AMOUNT_NOT_STRING", id="json-integer"),
    pytest.param(12345.5, "AMOUNT_NOT_STRING", id="json-float"),
    pytest.param(True, "AMOUNT_NOT_STRING", id="json-true"),
    pytest.param(["12345"], "AMOUNT_NOT_STRING", id="json-list"),
]

# How each code's message begins on a page (the default language), where a form shows it.
PAGE_MESSAGE = {
    "AMOUNT_REQUIRED": "金额不能为空",
    "AMOUNT_INVALID": "金额格式错误",
    "AMOUNT_OUT_OF_RANGE": "金额超出允许范围",
}
