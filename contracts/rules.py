"""The law of the contract and its performance, in one place (docs/law.md, "Contract and performance").

| rule | figure | law | where |
|---|---|---|---|
| contract within 30 days of the award notice | 30 d | 招标投标法 46; 政府采购法 46 | (1) |
| price and substantive terms follow the tender and the award | award | 招标投标法 46; 条例 57 | (2) |
| GP supplement (same goods/services): price ≤ original + 10 % in total | 10 % | 政府采购法 49 | (3) |
| GP contract (and supplement) published within 2 working days of signing | 2 wd | GP 条例 50 | (4) |
| performance bond ≤ 10 % of the contract price | 10 % | 条例 58; GP 条例 48 | (5) |
| the purchaser organizes acceptance (履约验收) | — | GP 条例 45 | (6) |
| non-performance: bond kept; serious → barred (不良行为, by center staff) | — | 招标投标法 60 (7) | (8) |

(1) `bidding.evaluation.issue_award` (`Publicity.contract_due_at`), the to-dos in `contracts.todo`.
(2) `services.draft_contract`, `services.amend_contract` (CONTRACT_PRICE_MISMATCH); also 政府采购法 46.
(3) `supplement_cap`, `services.amend_contract` (SUPPLEMENT_OVER_CAP, SUPPLEMENT_GP_ONLY).
(4) `publication_due`; `services.sign_contract` publishes at once, in the signing transaction.
(5) `bond_cap`, `services.draft_contract`, `amend_contract` (PERFORMANCE_BOND_OVER_CAP).
(6) `services.record_acceptance`.
(7) GP: 政府采购法 Art.77 [unconfirmed for non-performance].
(8) `services.escalate_issue` → `accounts.services.bar_organization`.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from clock.calendar import add_working_days

# 政府采购法 Art.49: 所有补充合同的采购金额不得超过原合同采购金额的百分之十.
SUPPLEMENT_SHARE = Decimal("0.10")
# 条例 Art.58; GP 条例 Art.48: 履约保证金不得超过中标合同金额的10%.
BOND_SHARE = Decimal("0.10")
# GP 条例 Art.50: 自政府采购合同签订之日起2个工作日内公告.
PUBLICATION_WORKING_DAYS = 2
CENT = Decimal("0.01")


def supplement_cap(original: Decimal) -> Decimal:
    """The most a GP contract's price may reach through supplements: original + 10 %, in fen, never
    rounded up (the law says "不得超过")."""
    return (original + original * SUPPLEMENT_SHARE).quantize(CENT, rounding=ROUND_DOWN)


def bond_cap(price: Decimal) -> Decimal:
    """The largest performance bond a contract of `price` may ask."""
    return (price * BOND_SHARE).quantize(CENT, rounding=ROUND_DOWN)


def publication_due(signed_at: dt.datetime) -> dt.datetime:
    """When a GP contract signed at `signed_at` must be published: 2 working days later, the day of
    signing not counted (clock.calendar)."""
    return add_working_days(signed_at, PUBLICATION_WORKING_DAYS)
