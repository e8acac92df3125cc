"""The legal time and money rules of tenders, in one place, configurable per procedure.

Every figure is a default taken from the law; a center whose local rules differ overrides it per
project kind with the TRADING_RULES setting, and per GP method with the key "gp.<method>", e.g.

    TRADING_RULES = {"construction": {"min_document_window": {"days": 5, "working": True}},
                     "gp.inquiry": {"min_document_window": {"days": 3, "working": True}}}

A deposit cap's `ceiling` there is an amount and is written as the API writes one ("800000.00",
`lib.money`); `percent_of_estimate` is a fraction. A bad override stops the start-up.

Services read rules only through `rules_for(project)`; nothing else in the code base may hard-code
these periods. "Days" are calendar days, "w.d." working days on the statutory calendar
(`clock.calendar`). [M] marks a figure not read in the statute itself: keep it configurable.

C = construction (and rights), GP = government procurement, L = land; d = calendar days, wd = working
days, h / min = hours / minutes.

| rule (field) | C | GP | L | law |
|---|---|---|---|---|
| `min_documents_to_deadline`: documents → bid deadline | ≥ 20 d | ≥ 20 d | — | 招标投标法 24; 政府采购法 35 |
| `min_document_window`: documents obtainable | ≥ 5 d | ≥ 5 wd [M] | ≥ 5 d | 条例 16; 87号令 16 |
| `METHOD_RULES` documents → responses | — | 磋商 ≥ 10 d; 谈判 询价 ≥ 3 wd | — | 214号 10; 74号令 29, 45 |
| `METHOD_RULES` window; change notice | — | 磋商 5 wd, 5 d; 谈判 询价 1 d [M], 3 wd | — | 214号 10; 74号 10 |
| `amendment_notice`: clarification before the deadline | 15 d | 15 d | 15 d | 招标投标法 23; GP 条例 31 |
| `objection_cutoff`: 异议 to the documents until D − N | 10 d | — | 10 d | 条例 22 |
| `objection_after_documents`: 质疑 after the documents' end | — | 7 wd | — | 政府采购法 52 |
| `objection_reply`: reply to it | 3 d | 7 wd | 3 d | 条例 22; 政府采购法 53 |
| `candidate_publicity`: 中标候选人公示 | ≥ 3 d | ≥ 3 d (*) | — | 条例 54 |
| `result_publication`: signed report → result | ≤ 3 d | ≤ 5 + 2 wd | — | 条例 54; 87号令 68; GP 条例 43 |
| `publicity_objection_reply`: reply to an objection | 3 d | 7 wd | — | 条例 54; 政府采购法 53 |
| `contract_after_award`: contract after the award notice | 30 d | 30 d | — | 招标投标法 46; 政府采购法 46 |
| result / award notice published | at award | at award (≤ 2 wd) | at deal (≤ 10 wd) | GP 条例 43; 39号令 |
| `listing_notice`: notice → listing start | — | — | ≥ 20 d | 39号令 |
| `min_listing`: listing open | — | — | ≥ 10 wd [M] | 39号令; 挂牌出让规范 |
| deposit refunds (`deposits.rules`) | 5 d | 5 wd | 5 wd | 条例 35, 57; GP 条例 33; 39号令 |
| `forfeit_on_decryption_failure` | kept | kept | — | 条例 35; 电子招标投标办法 31 |
| GP expert draw before evaluation | — | ≤ 2 wd [M] | — | 财库〔2016〕198号 |
| decryption window; objections to the record | min | min | — | 电子招标投标办法 31 |
| evaluation time; its extension (> 1/3 ask) | h | h | — | 条例 48 |

(*) GP law has no candidate publicity; the platform keeps the engineering one before the award.
Not modelled (no such procedure on the platform): prequalification (GP ≥ 5 wd, GP 条例 21;
条例 17, 21–22). Complaints to the regulator (条例 60–62; 政府采购法 55–57) keep their periods in
`complaints/rules.py`; a suspension they order stops the project like an open objection does.

Where each is applied: `check_timeline` (document window, documents → deadline, deadlines not on
holidays), `earliest_deadline_after_change` (amendment and clarification notice),
`objections_close_at` and `raise_objection` / `reply_objection` (objections, the suspension) in
`trading.services`; `bidding.evaluation` (`publish_candidates`, `object_to_candidates`,
`reply_candidate_objection`, `issue_award`) and `bidding.auction.services.publish_result`;
`bidding.land.services._check_timeline`; `bidding.services.finish_opening` (decryption failure);
`deposits.rules.due_at`; `experts.rules.earliest_gp_draw` (`EXPERT_GP_DRAW_WORKING_DAYS`); the
settings `BID_DECRYPTION_WINDOW_MINUTES`, `OPENING_OBJECTION_MINUTES`, `EVALUATION_EXTENSION_HOURS`.

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
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clock.calendar import add_working_days, holiday_name, next_working_moment
from lib.errors import present
from lib.money import AmountError, parse_amount
from trading.exceptions import ScheduleError

if TYPE_CHECKING:
    from trading.models import Project


@dataclass(frozen=True)
class Period:
    """A legal period: N calendar days, or N working days on the statutory calendar."""

    days: int
    working: bool = False

    def label(self) -> str:
        if self.working:
            return str(_("%(days)s 个工作日") % {"days": self.days})
        return str(_("%(days)s 日") % {"days": self.days})


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
    # From the signed evaluation report to the published result: 条例 Art.54 (candidates within 3
    # days of receiving the report); GP: the purchaser confirms within 5 working days (87号令 Art.68;
    # 74号令 Art.36; 214号 Art.28) and the result is published within 2 more (GP 条例 Art.43).
    result_publication: Period = Period(3)
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
    # Deadlines keep off rest days: a computed one that lands on a rest day moves to the next working
    # day at the same time (民法典 Art.203), and one an agent enters may not fall on a holiday. (Only
    # the demos, which squeeze a tender into minutes, turn this off.)
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
    "gp": ProcedureRules(
        deposit_caps=GP_CAPS,
        min_document_window=Period(5, working=True),
        objection_after_documents=Period(7, working=True),
        objection_reply=Period(7, working=True),
        publicity_objection_reply=Period(7, working=True),
        result_publication=Period(7, working=True),
    ),
    # Land and rights transfers follow their own listing rules (issue 8); the announcement periods
    # here still apply to their notices.
    "land": ProcedureRules(),
    "rights": ProcedureRules(),
}


def _deposit_cap(cap: dict[str, Any], category: str, default: DepositCap | None) -> DepositCap:
    return DepositCap(
        Decimal(str(cap["percent_of_estimate"])),
        _setting_amount(cap.get("ceiling"), f"{category}.ceiling"),
        cap.get("cash_allowed", True),
        # Not a setting: whether the supplier chooses the form is the law of the procedure.
        default.supplier_chooses_form if default is not None else False,
    )


def _period(value: Any) -> Period | None:
    """A period as the setting gives it: {"days": 5, "working": True}, a number of days, or None."""
    if value is None:
        return None
    return Period(**value) if isinstance(value, dict) else Period(int(value))


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
    for method in METHOD_RULES:
        rules_for_method(method)


def _override(rules: ProcedureRules, overrides: dict[str, Any]) -> ProcedureRules:
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        current = getattr(rules, name)
        if isinstance(current, Period) or name == "objection_after_documents":
            changes[name] = _period(value)
        elif name == "deposit_caps":
            changes[name] = {
                category: _deposit_cap(cap, category, rules.deposit_caps.get(category))
                for category, cap in value.items()
            }
        else:
            changes[name] = value
    return replace(rules, **changes)


def rules_for_kind(kind: str) -> ProcedureRules:
    base = DEFAULTS[kind]
    overrides = settings.TRADING_RULES.get(kind)
    return _override(base, overrides) if overrides else base


# Government procurement's non-tender methods change the periods of the GP rules (the TRADING_RULES
# overrides of the "gp" kind apply first, then these: the law of the method wins).
METHOD_RULES: dict[str, dict[str, Any]] = {
    # 财库〔2014〕214号 Art.10: documents → first responses ≥ 10 days; documents obtainable ≥ 5 working
    # days; a clarification or change ≥ 5 days before the first responses' deadline, else it moves.
    "consultation": {
        "min_documents_to_deadline": Period(10),
        "min_document_window": Period(5, working=True),
        "amendment_notice": Period(5),
    },
    # 财政部令第74号 Art.29 (谈判) and Art.45 (询价): documents → responses ≥ 3 working days; a change
    # ≥ 3 working days before the deadline (Art.10), else it moves. The law sets no separate window
    # for obtaining the documents (87号令's 5 working days are a tender's): the platform asks for one
    # day at least [M], and the 3 working days to the deadline protect the suppliers' preparation.
    "negotiation": {
        "min_documents_to_deadline": Period(3, working=True),
        "min_document_window": Period(1),
        "amendment_notice": Period(3, working=True),
    },
    "inquiry": {
        "min_documents_to_deadline": Period(3, working=True),
        "min_document_window": Period(1),
        "amendment_notice": Period(3, working=True),
    },
    # 单一来源: the public notice of the intended supplier runs at least 5 working days (GP 条例
    # Art.38; 74号令 Art.38) — the project's "documents" window is that notice —, objections only
    # inside it (74号令 Art.39), and the negotiation (协商, the deadline) after it ends.
    "single_source": {
        "min_document_window": Period(5, working=True),
        "min_documents_to_deadline": Period(5, working=True),
        "objection_after_documents": Period(0),
    },
    # 框架协议 (财政部令第110号): a closed agreement's public solicitation follows the open tender's
    # rules (its documents → responses ≥ 20 days) unless the order itself says otherwise; the
    # agreement and its second-stage purchases keep their own rules in `frameworks.rules`.
    "framework": {},
}
# The methods that only government procurement knows (政府采购法 Art.26 and 财政部's additions).
GP_ONLY_METHODS = frozenset(METHOD_RULES)
# Sealed responses opened by the platform at the deadline (the opening engine of bidding/). A single
# source has none: its price is agreed in the negotiation (bidding/single_source.py).
SEALED_METHODS = frozenset({"open", "invitation", *GP_ONLY_METHODS} - {"single_source"})
# Where the law of the method names it, the statute a documents → deadline period comes from.
DOCUMENTS_TO_DEADLINE_LAW = {
    "consultation": "财库〔2014〕214号第十条",
    "negotiation": "财政部令第74号第二十九条",
    "inquiry": "财政部令第74号第四十五条",
    "single_source": "政府采购法实施条例第三十八条",
    "framework": "财政部令第110号（征集程序按公开招标执行）",
}


def rules_for_method(method: str) -> ProcedureRules:
    """A GP method's rules: the "gp" kind's (with its TRADING_RULES overrides), the method's law on
    top, and last the center's override for the method itself (`TRADING_RULES["gp.<method>"]`)."""
    rules = replace(rules_for_kind("gp"), **METHOD_RULES[method])
    overrides = settings.TRADING_RULES.get(f"gp.{method}")
    return _override(rules, overrides) if overrides else rules


def rules_for(project: Any) -> ProcedureRules:
    method = getattr(project, "method", "")
    if project.kind == "gp" and method in METHOD_RULES:
        return rules_for_method(method)
    return rules_for_kind(project.kind)


@dataclass(frozen=True)
class EvaluationRule:
    """How a method's responses are judged: the schemes allowed, and the price weight's range per
    category (a comprehensive scheme's price score share)."""

    schemes: frozenset[str]
    price_weight: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    law: str = ""


EVALUATION_RULES: dict[str, EvaluationRule] = {
    # 74号令 Art.35 and Art.48: the lowest (final) price among the compliant responses wins.
    "negotiation": EvaluationRule(frozenset({"lowest_price"}), law="财政部令第74号第三十五条"),
    "inquiry": EvaluationRule(frozenset({"lowest_price"}), law="财政部令第74号第四十八条"),
    # 214号 Art.24: comprehensive scoring; the price score is 30–60 % of the total for goods and
    # 10–30 % for services.
    "consultation": EvaluationRule(
        frozenset({"comprehensive"}),
        {
            "goods": (Decimal("0.30"), Decimal("0.60")),
            "services": (Decimal("0.10"), Decimal("0.30")),
            "survey_design": (Decimal("0.10"), Decimal("0.30")),
        },
        law="财库〔2014〕214号第二十四条",
    ),
    # 110号令: admission by 价格优先法 (the lowest compliant unit prices) or 质量优先法 (quality scores,
    # the price fixed or weighted as the documents say): `frameworks.services.conclude_agreement`.
    "framework": EvaluationRule(
        frozenset({"lowest_price", "comprehensive"}), law="财政部令第110号"
    ),
}


def evaluation_rule(project: Any) -> EvaluationRule | None:
    """The method's evaluation rule, or None where the tender's own documents decide."""
    if project.kind != "gp":
        return None
    return EVALUATION_RULES.get(project.method)


def min_responses(project: Any) -> int:
    """How many valid responses a lot needs to go on: 3 (招标投标法 Art.28; 政府采购法 Art.36, and
    Art.38 and Art.40 for negotiation and inquiry); a consultation of 政府购买服务 or of research may go
    on with 2 (财库〔2015〕124号)."""
    if project.method == "consultation" and getattr(project, "two_suppliers_allowed", False):
        return 2
    # 110号令: a framework's solicitation goes on with 2 compliant responses (one of them is then
    # eliminated, `frameworks.rules.admitted_count`).
    if project.method == "framework":
        return 2
    return 3


# --- Applying periods -----------------------------------------------------------------------------


def add_period(start: dt.datetime, period: Period) -> dt.datetime:
    """`start` + period: calendar days, or working days on the statutory calendar (same clock time)."""
    if not period.working:
        return start + dt.timedelta(days=period.days)

    return add_working_days(start, period.days)


def subtract_period(end: dt.datetime, period: Period) -> dt.datetime:
    if not period.working:
        return end - dt.timedelta(days=period.days)

    return add_working_days(end, -period.days)


def deadline_after(start: dt.datetime, period: Period, rules: ProcedureRules) -> dt.datetime:
    """The end of a period for acting that starts at `start`. A period of calendar days whose last day
    is a rest day ends on the next working day, at the same time (民法典 Art.203)."""
    end = add_period(start, period)
    if period.working or not rules.deadline_on_working_day:
        return end

    return next_working_moment(end)


def objections_close_at(project: Project, rules: ProcedureRules) -> dt.datetime:
    """The last moment an objection (异议, 质疑) to the tender documents is accepted (a published
    project's: its timeline is complete)."""
    deadline = present(project.bid_deadline, "a published project's bid deadline")
    if rules.objection_after_documents is not None:
        documents_until = present(project.documents_until, "a published project's documents_until")
        after = add_period(documents_until, rules.objection_after_documents)
        return min(after, deadline)
    return subtract_period(deadline, rules.objection_cutoff)


def check_not_on_holiday(moments: dict[str, dt.datetime | None], rules: ProcedureRules) -> None:
    """Refuse a deadline set on a holiday (ScheduleError HOLIDAY_DEADLINE): `moments` maps a label to
    each deadline an agent entered."""
    if not rules.deadline_on_working_day:
        return
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
