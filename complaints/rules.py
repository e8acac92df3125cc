"""The periods of a complaint case, by regime. Nothing else in complaints/ holds a number of days.

| period | 政府采购 (gp) | 招标投标 (tender) |
|---|---|---|
| `file_within`: filing | 15 wd after the 质疑's reply period (政府采购法 Art.55) | 10 d (条例 Art.60) |
| `acceptance`: review whether to accept | 5 wd (财政部令第94号 Art.21) | 3 wd (条例 Art.61) |
| `decision`: the decision | 30 wd from receipt (政府采购法 Art.56) | 30 wd from acceptance (条例 Art.61) |
| `explanation`: the respondent's written explanation | 5 wd (94号 Art.23) | 5 wd (practice) |
| `max_suspension`: suspending it | ≤ 30 d (政府采购法 Art.57) | none in 条例 Art.62; 30 d here |

Which complaints need an objection first:

- GP: every complaint follows a 质疑 (政府采购法 Art.55), and counts from the end of its reply period
  — answered or not — or from the reply when it came earlier and the supplier is dissatisfied.
- Engineering: complaints about the documents, the opening and the evaluation result follow an
  objection (条例 Art.60, 22, 44, 54), and the time the objection waited for its answer is not counted:
  the 10 days run from the answer (or from the end of its reply period). A complaint about the
  process otherwise (e.g. collusion) needs none and runs from the day the complainant knew.

Time spent waiting for supplemented material, inspection or expert review is not counted in the
decision period (94号 Art.28; 条例 Art.61): the decision deadline moves by those working days.
"""

from __future__ import annotations

from dataclasses import dataclass

from trading.rules import Period


@dataclass(frozen=True)
class ComplaintRules:
    file_within: Period
    acceptance: Period
    decision: Period
    # Whether the decision period counts from receipt (GP) or from acceptance (engineering).
    decision_from_receipt: bool
    explanation: Period
    max_suspension: Period
    # Subjects whose complaint must follow an objection.
    objection_first: frozenset[str]


ALL_SUBJECTS = frozenset({"documents", "opening", "result", "process"})

RULES: dict[str, ComplaintRules] = {
    "gp": ComplaintRules(
        file_within=Period(15, working=True),
        acceptance=Period(5, working=True),
        decision=Period(30, working=True),
        decision_from_receipt=True,
        explanation=Period(5, working=True),
        max_suspension=Period(30),
        objection_first=ALL_SUBJECTS,
    ),
    "tender": ComplaintRules(
        file_within=Period(10),
        acceptance=Period(3, working=True),
        decision=Period(30, working=True),
        decision_from_receipt=False,
        explanation=Period(5, working=True),
        max_suspension=Period(30),
        objection_first=frozenset({"documents", "opening", "result"}),
    ),
}


def regime_of(project_kind: str) -> str:
    """Government procurement runs under 政府采购法; every other tender under 招标投标法 and its 条例."""
    return "gp" if project_kind == "gp" else "tender"


def rules_for_regime(regime: str) -> ComplaintRules:
    return RULES[regime]
