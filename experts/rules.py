"""Committee composition, draw timing and avoidance rules (docs/law.md, "Committee, evaluation and
award"), with the configurable parts read from settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from clock.calendar import add_working_days
from lib.errors import DomainError

GP_LARGE_BUDGET = Decimal("10000000")


class CommitteeRuleError(DomainError):
    code = "COMMITTEE_RULE"


def check_committee(
    *,
    panel: str,
    size: int,
    owner_representatives: int,
    expert_count: int,
    alternates: int,
    gp: bool,
    budget: Decimal,
) -> None:
    """招标投标法 Art.37 (odd ≥ 5, experts ≥ 2/3); 87号令 Art.47 (GP ≥ 7 at ≥ 10M); 政府采购法 Art.38/40
    (negotiation and inquiry panels odd ≥ 3)."""
    minimum = 3 if panel in ("negotiation", "inquiry") else 5
    if gp and panel == "committee" and budget >= GP_LARGE_BUDGET:
        minimum = 7
    if size < minimum or size % 2 == 0:
        raise CommitteeRuleError(
            _("成员人数须为不少于 %(minimum)s 的单数。"), code="COMMITTEE_SIZE", minimum=minimum
        )
    if owner_representatives + expert_count != size:
        raise CommitteeRuleError(
            _("专业配额之和加招标人代表须等于成员总数。"), code="QUOTAS_MISMATCH"
        )
    if expert_count * 3 < size * 2:
        raise CommitteeRuleError(
            _("技术、经济等方面的专家不得少于成员总数的三分之二。"), code="TOO_FEW_EXPERTS"
        )
    if alternates < 2:
        raise CommitteeRuleError(_("每个专业至少抽取 2 名候补专家。"), code="TOO_FEW_ALTERNATES")


def earliest_gp_draw(evaluation_at: dt.datetime) -> dt.datetime:
    """GP: the draw may not start earlier than N working days before evaluation (财库〔2016〕198号)."""
    return add_working_days(evaluation_at, -settings.EXPERT_GP_DRAW_WORKING_DAYS)


# Reasons an expert is left out of a draw. Codes are stable; labels are for supervisors.
EXCLUSION_REASONS = {
    "NOT_ACTIVE": _("暂停或禁入"),
    "BIDDER_TIE": _("近三年曾在投标人任职、任董监事或持股/控制"),
    "BIDDER_RELATIVE": _("与投标人主要人员有近亲属等利害关系"),
    "OWNER_OR_AGENT_STAFF": _("招标人或代理机构工作人员"),
    "REGULATOR_STAFF": _("行政监督部门工作人员"),
    "REGION": _("不在限定地区或在排除地区"),
    "FREQUENT_SAME_OWNER": _("短期内为同一招标人评标次数过多"),
    "ALREADY_DRAWN": _("本委员会此前已抽中（替补抽取时排除）"),
}
# GP 条例 Art.9: employment, a board seat or control at a bidder within the last three years.
BIDDER_TIE_YEARS = 3
