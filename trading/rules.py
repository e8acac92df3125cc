"""The legal time and money rules of tenders, in one place, configurable per procedure.

Every figure is a default taken from the law; a center whose local rules differ overrides it per
project kind with the TRADING_RULES setting, e.g.

    TRADING_RULES = {"construction": {"min_document_window": {"days": 5, "working": True}}}

Services read rules only through `rules_for(project)`; nothing else in the code base may hard-code
these periods. "Days" are calendar days, "w.d." working days on the statutory calendar
(`clock.calendar`). [M] marks a figure not read in the statute itself: keep it configurable.

| period | construction | GP | land | law | applied by |
|---|---|---|---|---|---|
| documents first available → bid deadline | ≥ 20 days | ≥ 20 days | — | 招标投标法 Art.24; 政府采购法 Art.35 | `min_documents_to_deadline`, `trading.services.check_timeline` |
| documents obtainable | ≥ 5 days | ≥ 5 w.d. [M] | ≥ 5 days | 条例 Art.16; 87号令 Art.16 | `min_document_window`, `check_timeline` |
| clarification/amendment before the deadline | ≥ 15 days, else the deadline moves | ≥ 15 days | ≥ 15 days | 招标投标法 Art.23; GP 条例 Art.31 | `amendment_notice`, `trading.services.earliest_deadline_after_change` |
| objection (异议) / 质疑 to the documents | until D − 10 days | 7 w.d. after the documents' period ends (capped at the deadline) | until D − 10 days | 条例 Art.22; 政府采购法 Art.52 | `objection_cutoff` / `objection_after_documents`, `objections_close_at`, `trading.services.raise_objection` |
| reply to it | 3 days | 7 w.d. | 3 days | 条例 Art.22; 政府采购法 Art.53 | `objection_reply`, `raise_objection` |
| 中标候选人公示 | ≥ 3 days | ≥ 3 days (the platform's; GP law has no candidate publicity) | — | 条例 Art.54 | `candidate_publicity`, `bidding.evaluation.publish_candidates`, `bidding.auction.services.publish_result` |
| reply to an objection to the candidates | 3 days | 7 w.d. | — | 条例 Art.54; 政府采购法 Art.53 | `publicity_objection_reply`, `bidding.evaluation.object_to_candidates` |
| result published, award notice | with the award | with the award (≤ 2 w.d. allowed) | at the deal (≤ 10 w.d. allowed) | GP 条例 Art.43; 39号令 | `bidding.evaluation.issue_award`, `bidding.land.services._deal_or_not` publish at once |
| contract after the award notice | ≤ 30 days | ≤ 30 days | — | 招标投标法 Art.46; 政府采购法 Art.46 | `contract_after_award`, `bidding.evaluation.issue_award` |
| listing notice → listing start | — | — | ≥ 20 days | 39号令 | `listing_notice`, `bidding.land.services._check_timeline` |
| listing period | — | — | ≥ 10 w.d. | 39号令 (≥ 10 days), 规范 (10 w.d.) [M] | `min_listing`, `_check_timeline` |
| deposit refunds | 5 days (withdrawal, contract, termination, 流标) | 5 w.d. | 5 w.d. | 条例 Art.35, 57; GP 条例 Art.33; 87号令 Art.29, 38 [M]; 39号令 | `deposits.rules` (its own table) |
| a bidder that fails to decrypt (视为撤销) | deposit kept | deposit kept | — | 条例 Art.35; 电子招标投标办法 Art.31 | `forfeit_on_decryption_failure`, `bidding.services.finish_opening` |
| GP expert draw before evaluation | — | ≤ 2 w.d. [M] | — | 财库〔2016〕198号 | `EXPERT_GP_DRAW_WORKING_DAYS`, `experts.rules.earliest_gp_draw` |
| bid decryption window, objections to the opening record, evaluation time and its extension | minutes / hours, from the settings | same | — | 电子招标投标办法 Art.31; 条例 Art.48 | `BID_DECRYPTION_WINDOW_MINUTES`, `OPENING_OBJECTION_MINUTES`, `EVALUATION_EXTENSION_HOURS` |
| GP prequalification notice ≥ 5 w.d. (GP 条例 Art.21), complaints (条例 Art.60; 政府采购法 Art.55) | not modelled: the platform has no prequalification or complaint procedure | | | | |

Deadlines and holidays (民法典 Art.203: a period whose last day is a rest day ends on the next working
day): a deadline the platform computes from a period of calendar days (`deadline_after`) moves to the
same time on the next working day; one counted in working days lands on one already. A deadline an
agent enters (documents, questions, deposits, bids, a listing's close) may not fall on a holiday
(`check_not_on_holiday`). A cut-off counted back from a deadline (objections until D − 10) stays
where it is: moving it either way would shorten a period the law guarantees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    # 条例 Art.16: documents obtainable for at least 5 days (87号令 Art.16: 5 working days for GP).
    min_document_window: Period = Period(5)
    # 招标投标法 Art.23 / 条例 Art.21 / GP 条例 Art.31: a clarification or amendment must precede the
    # deadline by 15 days, else the deadline moves.
    amendment_notice: Period = Period(15)
    # 条例 Art.22: objections to tender documents until 10 days before the deadline, reply within 3.
    objection_cutoff: Period = Period(10)
    # 政府采购法 Art.52: a 质疑 within 7 working days of knowing — for the documents, of their period's
    # end. When set, it replaces the cut-off before the deadline.
    objection_after_documents: Period | None = None
    objection_reply: Period = Period(3)
    # 条例 Art.54: candidates are publicised ≥ 3 days; an objection is answered within 3 days
    # (政府采购法 Art.53: 7 working days).
    candidate_publicity: Period = Period(3)
    publicity_objection_reply: Period = Period(3)
    # 招标投标法 Art.46 / 政府采购法 Art.46: the contract within 30 days of the award notice.
    contract_after_award: Period = Period(30)
    # 39号令: the listing notice ≥ 20 days before the listing; the listing ≥ 10 working days.
    listing_notice: Period = Period(20)
    min_listing: Period = Period(10, working=True)
    # 条例 Art.35 and 电子招标投标办法 Art.31: a bidder that does not decrypt its bid revokes it, and a
    # revoking bidder's deposit may be kept. False refunds it instead (as the tender documents say).
    forfeit_on_decryption_failure: bool = True
    # 招标投标法 Art.17: an invitation tender invites at least 3.
    min_invitees: int = 3
    # Bid validity counts from the deadline (条例 Art.25); a sensible default for the form.
    default_bid_validity_days: int = 90
    # 民法典 Art.203: a computed deadline that lands on a rest day moves to the next working day at the
    # same time.
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
    "gp": ProcedureRules(
        deposit_caps=GP_CAPS,
        min_document_window=Period(5, working=True),
        objection_after_documents=Period(7, working=True),
        objection_reply=Period(7, working=True),
        publicity_objection_reply=Period(7, working=True),
    ),
    # Land and rights transfers follow their own listing rules (issue 8); the announcement periods
    # here still apply to their notices.
    "land": ProcedureRules(),
    "rights": ProcedureRules(),
}


def _override(rules: ProcedureRules, overrides: dict[str, Any]) -> ProcedureRules:
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        current = getattr(rules, name)
        if isinstance(current, Period) or name == "objection_after_documents":
            changes[name] = (
                None
                if value is None
                else Period(**value)
                if isinstance(value, dict)
                else Period(int(value))
            )
        elif name == "deposit_caps":
            changes[name] = {
                category: DepositCap(
                    Decimal(str(cap["percent_of_estimate"])),
                    Decimal(str(cap["ceiling"])) if cap.get("ceiling") is not None else None,
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


def deadline_after(start: dt.datetime, period: Period, rules: ProcedureRules) -> dt.datetime:
    """The end of a period for acting that starts at `start`. A period of calendar days whose last day
    is a rest day ends on the next working day, at the same time (民法典 Art.203)."""
    end = add_period(start, period)
    if period.working or not rules.deadline_on_working_day:
        return end
    from clock.calendar import next_working_moment

    return next_working_moment(end)


def objections_close_at(project: Any, rules: ProcedureRules) -> dt.datetime:
    """The last moment an objection (异议, 质疑) to the tender documents is accepted."""
    if rules.objection_after_documents is not None:
        after = add_period(project.documents_until, rules.objection_after_documents)
        return min(after, project.bid_deadline)
    return subtract_period(project.bid_deadline, rules.objection_cutoff)


def check_not_on_holiday(moments: dict[str, dt.datetime | None]) -> None:
    """Refuse a deadline set on a holiday (ScheduleError HOLIDAY_DEADLINE): `moments` maps a label to
    each deadline an agent entered."""
    from clock.calendar import holiday_name
    from trading.exceptions import ScheduleError

    for label, moment in moments.items():
        if moment is None:
            continue
        holiday = holiday_name(moment)
        if holiday:
            raise ScheduleError(
                _("%(what)s不能定在节假日（%(date)s，%(holiday)s）。"),
                code="HOLIDAY_DEADLINE",
                what=label,
                date=timezone.localtime(moment).strftime("%Y-%m-%d"),
                holiday=holiday,
            )
