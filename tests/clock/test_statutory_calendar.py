"""The statutory calendar: the law's holidays in any year, the staff's yearly arrangement on top."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from accounts.actors import Actor
from audit.models import AuditEvent
from clock import calendar
from clock.models import StatutoryDay
from lib.errors import DomainError
from tests.trading.factories import beijing

pytestmark = pytest.mark.django_db
D = dt.date


def set_day(staff, day: dt.date, kind: str, name: str = ""):
    return calendar.set_statutory_day(Actor.for_user(staff), day, kind=kind, name=name)


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_computed_holidays_agree_with_the_state_councils_notices(year):
    """Where the package holds the published notices, every day the law gives off is off in them."""
    computed = calendar.statutory_holidays(year)
    assert len(computed) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3 days (中秋 apart from 国庆)
    for day, name in computed.items():
        assert not chinese_calendar.is_workday(day), (day, name)


def test_2027_is_computed_from_the_law_and_the_lunar_calendar():
    holidays = calendar.statutory_holidays(2027)
    assert holidays[D(2027, 1, 1)] == "元旦"
    # 除夕 is 5 February 2027: the Spring Festival is 除夕 to 正月初三.
    assert [day for day, name in holidays.items() if name == "春节"] == [
        D(2027, 2, 5),
        D(2027, 2, 6),
        D(2027, 2, 7),
        D(2027, 2, 8),
    ]
    assert holidays[D(2027, 4, 5)] == "清明节"
    assert holidays[D(2027, 5, 1)] == holidays[D(2027, 5, 2)] == "劳动节"
    assert holidays[D(2027, 6, 9)] == "端午节"
    assert holidays[D(2027, 9, 15)] == "中秋节"
    assert [day for day, name in holidays.items() if name == "国庆节"] == [
        D(2027, 10, 1),
        D(2027, 10, 2),
        D(2027, 10, 3),
    ]


def test_mid_autumn_inside_the_national_day_is_one_rest_day_with_both_names():
    assert calendar.statutory_holidays(2028)[D(2028, 10, 3)] == "中秋节、国庆节"


def test_a_year_without_data_still_rests_on_the_laws_holidays():
    assert not calendar.package_covers(2027)
    assert calendar.missing_years([2026, 2027]) == [2027]
    # 2027-01-01 is a Friday, and 除夕 2027 a Friday too: neither is a working day.
    assert not calendar.is_workday(D(2027, 1, 1))
    assert not calendar.is_workday(beijing("2027-02-05 10:00"))
    assert not calendar.is_workday(D(2027, 2, 8))  # 正月初三, a Monday
    assert calendar.is_workday(D(2027, 2, 9))
    assert calendar.is_workday(D(2027, 1, 4))
    # A deadline moved onto New Year's Day goes to Monday 4 January, same time.
    assert calendar.next_working_moment(beijing("2027-01-01 10:00")) == beijing("2027-01-04 10:00")
    # One working day after Thursday 4 February 2027 is Tuesday the 9th.
    assert calendar.add_working_days(beijing("2027-02-04 16:00"), 1) == beijing("2027-02-09 16:00")
    assert calendar.holiday_name(D(2027, 2, 6)) == "春节"
    assert calendar.holiday_name(D(2027, 1, 2)) is None  # an ordinary Saturday


def test_years_beyond_the_lunar_tables_fall_back_to_weekends():
    assert calendar.statutory_holidays(2101) == {}
    assert calendar.statutory_holidays(2024) == {}  # the package holds the older revisions' years
    assert calendar.is_workday(D(2101, 1, 3))  # a Monday


def test_staff_add_the_years_bridges_and_make_up_days_on_top(staff):
    # A notice for 2027 might give Monday 4 January off and make Sunday 10 January a workday.
    set_day(staff, D(2027, 1, 4), StatutoryDay.Kind.HOLIDAY, "元旦")
    set_day(staff, D(2027, 1, 10), StatutoryDay.Kind.WORKDAY, "元旦调休")
    assert not calendar.is_workday(D(2027, 1, 4))
    assert calendar.is_workday(D(2027, 1, 10))
    assert calendar.holiday_name(D(2027, 1, 4)) == "元旦"
    assert calendar.next_working_moment(beijing("2027-01-01 10:00")) == beijing("2027-01-05 10:00")
    assert calendar.missing_years([2027]) == []
    assert AuditEvent.objects.filter(action="clock.statutory_day.set").count() == 2


def test_the_laws_holidays_can_never_be_made_workdays(staff):
    with pytest.raises(DomainError) as refused:
        set_day(staff, D(2027, 2, 6), StatutoryDay.Kind.WORKDAY)
    assert refused.value.code == "STATUTORY_HOLIDAY"
    assert not StatutoryDay.objects.exists()
    # Even a row already there (entered before this rule) does not make the day a working day.
    StatutoryDay.objects.create(date=D(2027, 10, 2), kind=StatutoryDay.Kind.WORKDAY)
    assert not calendar.is_workday(D(2027, 10, 2))


def test_a_make_up_workday_is_a_day_that_would_otherwise_be_off(staff):
    with pytest.raises(DomainError) as refused:
        set_day(staff, D(2027, 3, 3), StatutoryDay.Kind.WORKDAY)  # a Wednesday
    assert refused.value.code == "NOT_A_REST_DAY"
    # Correcting the package: a day it gives off (2026-10-07) may be made a workday.
    set_day(staff, D(2026, 10, 7), StatutoryDay.Kind.WORKDAY, "更正")
    assert calendar.is_workday(D(2026, 10, 7))
