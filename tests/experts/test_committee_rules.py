from __future__ import annotations

import datetime as dt

import pytest

from experts.rules import CommitteeRuleError
from lib.errors import DomainError
from tests.experts.helpers import EVALUATION, commit, pool, tender_with_bidders
from tests.trading.factories import beijing

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(agent, staff, supplier):
    pool(staff, count=12)
    return tender_with_bidders(agent, staff, [supplier])


@pytest.mark.parametrize(
    ("size", "owner_reps", "code"),
    [
        (4, 0, "COMMITTEE_SIZE"),
        (6, 0, "COMMITTEE_SIZE"),
        (3, 0, "COMMITTEE_SIZE"),
        (5, 2, "TOO_FEW_EXPERTS"),
    ],
)
def test_committee_size_and_expert_share(staff, project, size, owner_reps, code):
    with pytest.raises(CommitteeRuleError) as refused:
        commit(staff, project, size=size, owner_reps=owner_reps)
    assert refused.value.code == code


def test_five_with_one_owner_representative_is_lawful(staff, project):
    draw = commit(staff, project, size=5, owner_reps=1)
    assert draw.status == "committed"


def test_quotas_must_add_up(staff, project):
    with pytest.raises(CommitteeRuleError) as refused:
        commit(staff, project, size=5, quotas=[{"specialty": "A08", "count": 3}])
    assert refused.value.code == "QUOTAS_MISMATCH"


def test_at_least_two_alternates(staff, project):
    with pytest.raises(CommitteeRuleError) as refused:
        commit(staff, project, alternates=1)
    assert refused.value.code == "TOO_FEW_ALTERNATES"


def test_gp_needs_seven_at_ten_million(agent, staff, supplier):
    pool(staff, count=12)
    large = tender_with_bidders(agent, staff, [supplier], kind="gp", estimate="10000000.00")
    with pytest.raises(CommitteeRuleError) as refused:
        commit(staff, large, size=5)
    assert refused.value.code == "COMMITTEE_SIZE"
    assert commit(staff, large, size=7).committee_size == 7


def test_negotiation_panels_may_be_three(staff, project):
    assert commit(staff, project, size=3, panel="negotiation").committee_size == 3


def test_gp_draws_start_no_earlier_than_two_working_days_before(agent, staff, supplier):
    pool(staff, count=12)
    gp = tender_with_bidders(agent, staff, [supplier], kind="gp", estimate="1000000.00")
    monday = beijing("2026-03-30 09:30")  # evaluation; two working days before is Thursday 26 March
    with pytest.raises(DomainError) as refused:
        commit(staff, gp, evaluation_at=monday, at=beijing("2026-03-26 09:29"))
    assert refused.value.code == "DRAW_TOO_EARLY"
    commit(staff, gp, evaluation_at=monday, at=beijing("2026-03-26 09:30"))


def test_the_pool_must_be_big_enough(staff, project):
    with pytest.raises(DomainError) as refused:
        commit(staff, project, size=5, quotas=[{"specialty": "C01", "count": 5}])
    assert refused.value.code in ("POOL_TOO_SMALL", "INVALID_SPECIALTY")


def test_evaluation_must_be_in_the_future(staff, project):
    with pytest.raises(DomainError) as refused:
        commit(staff, project, at=EVALUATION + dt.timedelta(minutes=1))
    assert refused.value.code == "EVALUATION_IN_PAST"
