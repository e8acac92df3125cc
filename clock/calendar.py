"""Working days on China's statutory calendar (法定节假日 and 调休 make-up workdays).

Three layers, strongest first:

1. **The law's holidays** (国务院《全国年节及纪念日放假办法》, 2024 revision, in force 2025-01-01) are rest
   days in every year, whatever else says so: 元旦 (1 Jan), 春节 (4 days, 除夕 to 正月初三), 清明节 (the
   清明 solar term), 劳动节 (1–2 May), 端午节 (lunar 5/5), 中秋节 (lunar 8/15), 国庆节 (1–3 Oct).
   `statutory_holidays` computes them for any year from 2025 to 2100 with `lunar_python` (lunar dates and
   solar terms, computed astronomically). Nothing can turn one of them into a working day.
2. **The year's arrangement** (the State Council's notice: bridge days off, 调休 make-up Saturdays and
   Sundays): the staff-kept `StatutoryDay` table, then the `chinese-calendar` package for the years it
   was released with.
3. **Weekends** otherwise.

A year with no arrangement (neither the package nor a staff row) still has the law's holidays but no
bridges or make-up days; `missing_years` reports it so staff enter the notice before deadlines depend
on it. Days are Beijing calendar days; a datetime is judged on its Asia/Shanghai date.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from lunar_python import Lunar, Solar

from accounts.actors import Actor
from accounts.permissions import require_perm
from audit.services import record
from clock.models import StatutoryDay
from lib.errors import DomainError

# The 2024 revision of 《全国年节及纪念日放假办法》 applies from this year on; earlier years come from the
# package, which holds the notices made under the earlier revisions.
STATUTORY_RULES_FROM = 2025
# The lunar library's astronomical tables are trusted this far; later years fall back to weekends (and
# are reported as missing).
STATUTORY_RULES_UNTIL = 2100

NEW_YEAR = _("元旦")
SPRING_FESTIVAL = _("春节")
QINGMING = _("清明节")
LABOUR_DAY = _("劳动节")
DRAGON_BOAT = _("端午节")
MID_AUTUMN = _("中秋节")
NATIONAL_DAY = _("国庆节")


def _lunar(year: int, month: int, day: int) -> dt.date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> dt.date:
    """The day of the 清明 solar term (4 or 5 April in this era, sometimes the 6th far out)."""
    for day in range(3, 8):
        if Solar.fromYmd(year, 4, day).getLunar().getJieQi() == "清明":
            return dt.date(year, 4, day)
    raise ValueError(f"no 清明 found in April {year}")


@lru_cache(maxsize=128)
def _holiday_dates(year: int) -> dict[dt.date, tuple[Promise, ...]]:
    if not STATUTORY_RULES_FROM <= year <= STATUTORY_RULES_UNTIL:
        return {}
    days: dict[dt.date, list[Promise]] = {}

    def add(day: dt.date, name: Promise) -> None:
        days.setdefault(day, []).append(name)

    add(dt.date(year, 1, 1), NEW_YEAR)
    # 除夕 is the day before 正月初一 (the 29th or 30th of the 12th month): always in the same
    # Gregorian year, since 初一 falls between 21 January and 20 February.
    new_year = _lunar(year, 1, 1)
    for offset in range(-1, 3):
        add(new_year + dt.timedelta(days=offset), SPRING_FESTIVAL)
    add(_qingming(year), QINGMING)
    add(dt.date(year, 5, 1), LABOUR_DAY)
    add(dt.date(year, 5, 2), LABOUR_DAY)
    add(_lunar(year, 5, 5), DRAGON_BOAT)
    add(_lunar(year, 8, 15), MID_AUTUMN)
    for day in (1, 2, 3):
        add(dt.date(year, 10, day), NATIONAL_DAY)
    return {day: tuple(names) for day, names in sorted(days.items())}


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """{date: name} of the law's holidays in `year` (empty outside the computed span).

    中秋 can fall inside 国庆 (2028-10-03): one rest day, both names.
    """
    return {day: "、".join(str(n) for n in names) for day, names in _holiday_dates(year).items()}


def statutory_holiday(day: dt.date) -> str | None:
    """The name of the law's holiday on `day`, if it is one."""
    names = _holiday_dates(day.year).get(day)
    return "、".join(str(n) for n in names) if names else None


def _table() -> dict[dt.date, bool]:
    """{date: is_workday} from the staff table (read per call: staff edits apply at once)."""
    return {
        day: kind == StatutoryDay.Kind.WORKDAY
        for day, kind in StatutoryDay.objects.values_list("date", "kind")
    }


def _package_workday(day: dt.date) -> bool:
    """chinese-calendar's answer for `day` (the package ships no types: its answer is a bool)."""
    return bool(chinese_calendar.is_workday(day))


@lru_cache(maxsize=64)
def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _package_rest_day(day: dt.date) -> bool:
    """The package's arrangement says `day` is off (weekends included); False outside its years."""
    return package_covers(day.year) and not _package_workday(day)


def _is_workday(day: dt.date, table: dict[dt.date, bool]) -> bool:
    if day in _holiday_dates(day.year):
        return False
    if day in table:
        return table[day]
    if package_covers(day.year):
        return _package_workday(day)
    return day.weekday() < 5


def is_workday(day: dt.date | dt.datetime) -> bool:
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date()
    return _is_workday(day, _table())


def holiday_name(day: dt.date | dt.datetime) -> str | None:
    """The holiday `day` belongs to — the law's, or a rest day of the year's arrangement (bridge days,
    the weekend inside a holiday) — or None for a working day or an ordinary weekend."""
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date()
    name = statutory_holiday(day)
    if name:
        return name
    entry = StatutoryDay.objects.filter(date=day).first()
    if entry is not None:
        return (entry.name or str(_("节假日"))) if entry.kind == StatutoryDay.Kind.HOLIDAY else None
    if package_covers(day.year):
        on_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        if on_holiday and holiday is not None:
            return str(_PACKAGE_NAMES.get(holiday, _("节假日")))
    return None


# chinese-calendar names its holidays in English; the notices use these names.
_PACKAGE_NAMES: dict[str, Promise] = {
    "New Year's Day": NEW_YEAR,
    "Spring Festival": SPRING_FESTIVAL,
    "Tomb-sweeping Day": QINGMING,
    "Labour Day": LABOUR_DAY,
    "Dragon Boat Festival": DRAGON_BOAT,
    "Mid-autumn Festival": MID_AUTUMN,
    "National Day": NATIONAL_DAY,
}


def add_working_days(start: dt.datetime, count: int) -> dt.datetime:
    """The moment `count` working days after (or before, if negative) `start`, at the same local time.

    Counting starts from the day after `start` (the law's "自…之日起" excludes the first day).
    """
    table = _table()
    local = timezone.localtime(start)
    day = local.date()
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += dt.timedelta(days=step)
        if _is_workday(day, table):
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def next_working_moment(moment: dt.datetime) -> dt.datetime:
    """`moment` itself if it falls on a working day, else the same local time on the next one."""
    table = _table()
    local = timezone.localtime(moment)
    day = local.date()
    while not _is_workday(day, table):
        day += dt.timedelta(days=1)
    return local.replace(year=day.year, month=day.month, day=day.day)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: how many working days have passed from start to end."""
    table = _table()
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += _is_workday(day, table)
    return count


def missing_years(years: list[int]) -> list[int]:
    """Years with no arrangement (neither the package nor the staff table): the law's holidays are
    known for them, but not the bridges and make-up days the State Council will announce."""
    entered = {first_day.year for first_day in StatutoryDay.objects.dates("date", "year")}
    return [year for year in years if not package_covers(year) and year not in entered]


def set_statutory_day(
    actor: Actor, day: dt.date, *, kind: str, name: str = "", notice: str = ""
) -> StatutoryDay:
    """Enter or correct one day of a year's holiday notice (center staff; audited).

    A make-up workday is a day that would otherwise be off: a weekend, or a day the package wrongly
    gives off. The law's own holidays can never be made workdays.
    """
    from django.db import transaction

    require_perm(actor, "clock.change_statutoryday")
    if kind not in StatutoryDay.Kind.values:
        raise DomainError(_("未知的日期类型：%(kind)s"), code="INVALID_KIND", kind=kind)
    if kind == StatutoryDay.Kind.WORKDAY:
        law_holiday = statutory_holiday(day)
        if law_holiday:
            raise DomainError(
                _("%(date)s 是法定节假日（%(name)s），不能调为工作日。"),
                code="STATUTORY_HOLIDAY",
                date=day.isoformat(),
                name=law_holiday,
            )
        if day.weekday() < 5 and not _package_rest_day(day):
            raise DomainError(
                _("%(date)s 本来就是工作日：调休上班日只能是周末（或更正软件包中的放假日）。"),
                code="NOT_A_REST_DAY",
                date=day.isoformat(),
            )
    with transaction.atomic():
        entry, created = StatutoryDay.objects.update_or_create(
            date=day, defaults={"kind": kind, "name": name.strip(), "notice": notice.strip()}
        )
        record(
            actor,
            "clock.statutory_day.set",
            entry,
            {"date": day, "kind": kind, "name": entry.name, "notice": entry.notice, "new": created},
        )
    return entry


def remove_statutory_day(actor: Actor, day: dt.date) -> None:
    from django.db import transaction

    require_perm(actor, "clock.change_statutoryday")
    with transaction.atomic():
        deleted, _count = StatutoryDay.objects.filter(date=day).delete()
        if deleted:
            record(
                actor, "clock.statutory_day.removed", ("clock.statutoryday", day.isoformat()), {}
            )
