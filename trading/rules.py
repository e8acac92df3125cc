"""The legal time and money rules of tenders, in one place, configurable per procedure.

Every figure is a default taken from the law (sources in ../shared/reference/china-trading-rules.md §1,
§2, §9); a center whose local rules differ overrides it with the TRADING_RULES setting, e.g.

    TRADING_RULES = {"gp": {"min_document_window": {"days": 5, "working": True}}}

A deposit cap's `ceiling` there is an amount and is written as the API writes one ("800000.00",
`lib.money`); `percent_of_estimate` is a fraction. A bad override stops the start-up.

Services read rules only through `rules_for(project)`; nothing else in the code base may hard-code
these periods.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from lib.money import AmountError, parse_amount


@dataclass(frozen=True)
class Period:
    """A legal period: N calendar days, or N working days on the statutory calendar."""

    days: int
    working: bool = False

    def label(self) -> str:
        return f"{self.days} {'个工作日' if self.working else '日'}"


@dataclass(frozen=True)
class DepositCap:
    percent_of_estimate: Decimal
    ceiling: Decimal | None
    cash_allowed: bool = True


@dataclass(frozen=True)
class ProcedureRules:
    # 招标投标法 Art.24 / 政府采购法 Art.35: documents first available → bid deadline.
    min_documents_to_deadline: Period = Period(20)
    # 条例 Art.16: documents obtainable for at least 5 days (87号令: 5 working days for GP).
    min_document_window: Period = Period(5)
    # 招标投标法 Art.23 / 条例 Art.21: a clarification or amendment must precede the deadline by 15 days,
    # else the deadline moves.
    amendment_notice: Period = Period(15)
    # 条例 Art.22: objections to tender documents until 10 days before the deadline, reply within 3.
    objection_cutoff: Period = Period(10)
    objection_reply: Period = Period(3)
    # 招标投标法 Art.17: an invitation tender invites at least 3.
    min_invitees: int = 3
    # Bid validity counts from the deadline (条例 Art.25); a sensible default for the form.
    default_bid_validity_days: int = 90
    # A moved deadline that lands on a weekend or holiday goes to the next working day at the same time.
    deadline_on_working_day: bool = True
    deposit_caps: dict[str, DepositCap] = field(default_factory=dict)


_TWO_PERCENT = Decimal("0.02")

# 条例 Art.26 (≤ 2 %), 30号令 Art.37 (works ≤ 800,000), 27号令 (goods ≤ 800,000), 勘察设计 ≤ 100,000,
# 89号令 (房建市政施工 ≤ 500,000); GP 条例 Art.33 (≤ 2 % of budget, no cash).
CONSTRUCTION_CAPS = {
    "works": DepositCap(_TWO_PERCENT, Decimal("800000")),
    "goods": DepositCap(_TWO_PERCENT, Decimal("800000")),
    "housing_municipal": DepositCap(_TWO_PERCENT, Decimal("500000")),
    "survey_design": DepositCap(_TWO_PERCENT, Decimal("100000")),
    "services": DepositCap(_TWO_PERCENT, None),
}
GP_CAPS = {
    category: DepositCap(_TWO_PERCENT, None, cash_allowed=False)
    for category in ("works", "goods", "services", "housing_municipal", "survey_design")
}

DEFAULTS: dict[str, ProcedureRules] = {
    "construction": ProcedureRules(deposit_caps=CONSTRUCTION_CAPS),
    "gp": ProcedureRules(deposit_caps=GP_CAPS),
    # Land and rights transfers follow their own listing rules (issue 8); the announcement periods
    # here still apply to their notices.
    "land": ProcedureRules(),
    "rights": ProcedureRules(),
}


def _setting_amount(value: Any, name: str) -> Decimal | None:
    """A cap in yuan from TRADING_RULES, held to the API's contract (a string such as "800000.00"):
    a float or "８０００００" in a settings file is a configuration error, not a silently read cap."""
    if value is None:
        return None
    try:
        return parse_amount(value, field=f"TRADING_RULES deposit_caps {name}")
    except AmountError as exc:
        raise ImproperlyConfigured(exc.message) from exc


def check_settings() -> None:
    """Read every kind's TRADING_RULES once, so a bad override stops the start-up (`TradingConfig.ready`)
    instead of refusing some later request with an error that is not the requester's."""
    for kind in DEFAULTS:
        rules_for_kind(kind)


def _override(rules: ProcedureRules, overrides: dict[str, Any]) -> ProcedureRules:
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        current = getattr(rules, name)
        if isinstance(current, Period):
            changes[name] = Period(**value) if isinstance(value, dict) else Period(int(value))
        elif name == "deposit_caps":
            changes[name] = {
                category: DepositCap(
                    Decimal(str(cap["percent_of_estimate"])),
                    _setting_amount(cap.get("ceiling"), f"{category}.ceiling"),
                    cap.get("cash_allowed", True),
                )
                for category, cap in value.items()
            }
        else:
            changes[name] = value
    return replace(rules, **changes)


def rules_for_kind(kind: str) -> ProcedureRules:
    base = DEFAULTS[kind]
    overrides = getattr(settings, "TRADING_RULES", {}).get(kind)
    return _override(base, overrides) if overrides else base


def rules_for(project: Any) -> ProcedureRules:
    return rules_for_kind(project.kind)


# --- Applying periods -----------------------------------------------------------------------------


def add_period(start: dt.datetime, period: Period) -> dt.datetime:
    """`start` + period: calendar days, or working days on the statutory calendar (same clock time)."""
    if not period.working:
        return start + dt.timedelta(days=period.days)
    from clock.calendar import add_working_days

    return add_working_days(start, period.days)


def subtract_period(end: dt.datetime, period: Period) -> dt.datetime:
    if not period.working:
        return end - dt.timedelta(days=period.days)
    from clock.calendar import add_working_days

    return add_working_days(end, -period.days)
