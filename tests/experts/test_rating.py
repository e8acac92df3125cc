"""一标一评: ratings after each project, score deviation flags, and their effect on the pool."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.actors import Actor
from experts import services
from experts.models import Expert
from lib.errors import Conflict, DomainError, NotPermitted
from tests.experts.helpers import pool, tender_with_bidders

pytestmark = pytest.mark.django_db


def test_scores_far_from_the_committee_median_are_flagged():
    scores = {
        1: Decimal("82"),
        2: Decimal("85"),
        3: Decimal("84"),
        4: Decimal("60"),
        5: Decimal("86"),
    }
    assert services.deviating_scores(scores) == {4}
    assert (
        services.deviating_scores({1: Decimal("80"), 2: Decimal("20")}) == set()
    )  # too few to judge


def test_a_concealed_conflict_bars_the_expert(agent, staff, supplier):
    (expert,) = pool(staff, count=1)
    project = tender_with_bidders(agent, staff, [supplier])
    services.rate(
        Actor.for_user(staff),
        expert,
        project,
        attended=True,
        recusal_complied=False,
        grade=1,
        note="与投标人存在持股关系未申报",
    )
    expert.refresh_from_db()
    assert (expert.status, expert.status_until) == (Expert.Status.BLACKLISTED, None)


def test_a_second_absence_within_a_year_suspends(agent, staff, supplier):
    (expert,) = pool(staff, count=1)
    first = tender_with_bidders(agent, staff, [supplier])
    second = tender_with_bidders(agent, staff, [])
    services.rate(
        Actor.for_user(staff), expert, first, attended=False, recusal_complied=True, grade=2
    )
    assert Expert.objects.get(pk=expert.pk).status == Expert.Status.ACTIVE
    services.rate(
        Actor.for_user(staff), expert, second, attended=False, recusal_complied=True, grade=2
    )
    expert.refresh_from_db()
    assert expert.status == Expert.Status.SUSPENDED
    assert expert.status_until is not None


def test_one_rating_per_project_and_valid_grades(agent, staff, supplier):
    (expert,) = pool(staff, count=1)
    project = tender_with_bidders(agent, staff, [supplier])
    with pytest.raises(DomainError):
        services.rate(
            Actor.for_user(staff), expert, project, attended=True, recusal_complied=True, grade=6
        )
    services.rate(
        Actor.for_user(staff), expert, project, attended=True, recusal_complied=True, grade=5
    )
    with pytest.raises(Conflict):
        services.rate(
            Actor.for_user(staff), expert, project, attended=True, recusal_complied=True, grade=4
        )


def test_only_staff_rate(agent, staff, supplier, supervisor):
    (expert,) = pool(staff, count=1)
    project = tender_with_bidders(agent, staff, [supplier])
    for user in (agent, supplier, supervisor):
        with pytest.raises(NotPermitted):
            services.rate(
                Actor.for_user(user), expert, project, attended=True, recusal_complied=True, grade=5
            )
