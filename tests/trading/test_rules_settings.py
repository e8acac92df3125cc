"""TRADING_RULES amounts are held to the API's contract: a deposit cap's ceiling is a string of ASCII
digits, and a bad one stops the start-up instead of refusing somebody's later request."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from trading.rules import rules_for_kind


def caps(ceiling) -> dict:
    return {
        "construction": {
            "deposit_caps": {"works": {"percent_of_estimate": "0.02", "ceiling": ceiling}}
        }
    }


def test_a_ceiling_written_as_the_api_writes_money_applies(settings):
    settings.TRADING_RULES = caps("300000.00")
    assert rules_for_kind("construction").deposit_caps["works"].ceiling == Decimal("300000.00")
    settings.TRADING_RULES = caps(None)
    assert rules_for_kind("construction").deposit_caps["works"].ceiling is None


@pytest.mark.parametrize("ceiling", [800000, 800000.0, "８０００００", "8e5", "800,000", " 800000"])
def test_a_ceiling_that_is_not_the_documented_string_stops_the_start_up(settings, ceiling):
    settings.TRADING_RULES = caps(ceiling)
    with pytest.raises(ImproperlyConfigured, match=r"works\.ceiling"):
        apps.get_app_config("trading").ready()
