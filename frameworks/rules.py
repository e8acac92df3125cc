"""The law of framework agreements (政府采购框架协议采购方式管理暂行办法, 财政部令第110号), in one place.

- The solicitation's periods are a GP open tender's (≥ 20 days to the responses):
  `trading.rules.METHOD_RULES["framework"]`.
- Responses needed: at least 2 compliant (`trading.rules.min_responses`, `admitted_count`).
- Elimination (淘汰): at least 20 % of the compliant responses, and at least one (`admitted_count`).
- Admitted prices: at most the 最高限制单价 (`services.conclude_agreement`).
- Term: goods at most 1 year, services 2 [M] (`longest_term`).
- Second stage: 直接选定 and 顺序轮候 at the agreed price (or below it), 二次竞价 with sealed quotes
  capped at each member's agreed price, the lowest winning (`services`).
- A second round stays open at least 1 working day [M] (`second_round_earliest_close`).

[M]: not read in the order's text here; a center may override with the setting `FRAMEWORK_RULES`
({"term_days": {"goods": 365, "services": 730}, "second_round_min_working_days": 1}).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.conf import settings

from clock.calendar import add_working_days

MIN_COMPLIANT = 2
ELIMINATION_RATE = Decimal("0.20")
# Goods agreements run a year at most, services two (the category of the solicitation's project).
TERM_DAYS = {"goods": 365, "services": 730, "survey_design": 730}
SECOND_ROUND_MIN_WORKING_DAYS = 1
# A second round longer than this is a slip of the pen: the purchaser is waiting for the goods.
SECOND_ROUND_LONGEST = dt.timedelta(days=30)


def _overrides() -> dict:
    return getattr(settings, "FRAMEWORK_RULES", {}) or {}


def admitted_count(compliant: int, limit: int | None = None) -> int:
    """How many of `compliant` ranked responses are admitted: at least 20 % and at least one are
    eliminated (0 when fewer than two responses comply: the solicitation fails), and no more than
    the documents' `limit` (入围供应商数量上限) when they set one."""
    if compliant < MIN_COMPLIANT:
        return 0
    eliminated = max(1, math.ceil(compliant * ELIMINATION_RATE))
    admitted = compliant - eliminated
    return min(admitted, limit) if limit else admitted


def longest_term(category: str) -> dt.timedelta:
    days = {**TERM_DAYS, **_overrides().get("term_days", {})}
    return dt.timedelta(days=days.get(category, TERM_DAYS["goods"]))


def second_round_earliest_close(opened_at: dt.datetime) -> dt.datetime:
    """The earliest close of a second round opened at `opened_at` (working days, statutory calendar)."""
    days = int(_overrides().get("second_round_min_working_days", SECOND_ROUND_MIN_WORKING_DAYS))
    return add_working_days(opened_at, days)
