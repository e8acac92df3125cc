"""The legal time and money rules of tenders, in one place, configurable per procedure.

Every figure is a default taken from the law (sources in ../shared/reference/china-trading-rules.md §1,
§2, §9); a center whose local rules differ overrides it with the TRADING_RULES setting, e.g.

    TRADING_RULES = {"gp": {"min_document_window": {"days": 5, "working": True}}}

Services read rules only through `rules_for(project)`; nothing else in the code base may hard-code
these periods.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Period:
    """A legal period: N calendar days, or N working days on the statutory calendar."""

    days: int
    working: bool = False

    def label(self) -> str:
        return f"{self.days} {'个工作日' if self.working else '日'}"


# Every form a deposit can take other than the transfer to the sub-account ("cash"): Lot.DepositForm.
NON_CASH_FORMS = ("bank_guarantee", "insurance_guarantee", "cheque", "draft", "promissory_note")


@dataclass(frozen=True)
class DepositCap:
    percent_of_estimate: Decimal
    ceiling: Decimal | None
    # The "cash" form: a bank transfer into the bidder's sub-account.
    cash_allowed: bool = True
    # Government procurement: the supplier chooses the form (GP 条例 Art.33; 财库〔2019〕38号 — a
    # purchaser or agent may not refuse a non-cash form), so a lot must offer every accepted form.
    supplier_chooses_form: bool = False

    def required_forms(self) -> tuple[str, ...]:
        """The forms every lot must offer (empty: the agent chooses)."""
        if not self.supplier_chooses_form:
            return ()
        return (("cash",) if self.cash_allowed else ()) + NON_CASH_FORMS


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
# 89号令 (房建市政施工 ≤ 500,000); GP 条例 Art.33 (≤ 2 % of budget, non-cash: cheque, draft, promissory
# note, guarantee — the supplier's choice, 财库〔2019〕38号).
#
# A GP transfer (转账/电汇) from the supplier's 基本账户 into its sub-account is accepted as non-cash by
# default: 现金管理暂行条例 Art.3 sets 转账结算 through the bank against 现金, and the PBoC 支付结算办法
# counts 汇兑 among the bank's non-cash settlement methods, so no banknote changes hands. The payer
# check then insists on the 基本账户 (`deposits.services.payer_matches`). A center whose practice
# differs sets `cash_allowed: False` for the GP categories in TRADING_RULES; the instruments and
# guarantees stay required either way.
CONSTRUCTION_CAPS = {
    "works": DepositCap(_TWO_PERCENT, Decimal("800000")),
    "goods": DepositCap(_TWO_PERCENT, Decimal("800000")),
    "housing_municipal": DepositCap(_TWO_PERCENT, Decimal("500000")),
    "survey_design": DepositCap(_TWO_PERCENT, Decimal("100000")),
    "services": DepositCap(_TWO_PERCENT, None),
}
GP_CAPS = {
    category: DepositCap(_TWO_PERCENT, None, supplier_chooses_form=True)
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


def _deposit_cap(cap: dict[str, Any], default: DepositCap | None) -> DepositCap:
    return DepositCap(
        Decimal(str(cap["percent_of_estimate"])),
        Decimal(str(cap["ceiling"])) if cap.get("ceiling") is not None else None,
        cap.get("cash_allowed", True),
        # Not a setting: whether the supplier chooses the form is the law of the procedure.
        default.supplier_chooses_form if default is not None else False,
    )


def _override(rules: ProcedureRules, overrides: dict[str, Any]) -> ProcedureRules:
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        current = getattr(rules, name)
        if isinstance(current, Period):
            changes[name] = Period(**value) if isinstance(value, dict) else Period(int(value))
        elif name == "deposit_caps":
            changes[name] = {
                category: _deposit_cap(cap, rules.deposit_caps.get(category))
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
