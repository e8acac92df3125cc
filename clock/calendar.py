"""Working days on China's statutory calendar (法定节假日 and 调休 make-up workdays).

Sources, in order: the staff-kept `StatutoryDay` table, then the `chinese-calendar` package for the
years it covers, then plain weekends — and a year answered by weekends alone is reported by
`missing_years` so staff enter the State Council's notice before any deadline depends on it.
Days are Beijing calendar days; a datetime is judged on its Asia/Shanghai date.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

import chinese_calendar
from django.utils import timezone

log = logging.getLogger(__name__)


def _table() -> dict[dt.date, bool]:
    """{date: is_workday} from the staff table (read per call: staff edits apply at once)."""
    from clock.models import StatutoryDay

    return {
        day: kind == StatutoryDay.Kind.WORKDAY
        for day, kind in StatutoryDay.objects.values_list("date", "kind")
    }


@lru_cache(maxsize=64)
def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _is_workday(day: dt.date, table: dict[dt.date, bool]) -> bool:
    if day in table:
        return table[day]
    if package_covers(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def is_workday(day: dt.date | dt.datetime) -> bool:
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date()
    return _is_workday(day, _table())


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
    """Years with no holiday data at all (neither the package nor the staff table)."""
    from clock.models import StatutoryDay

    entered = {first_day.year for first_day in StatutoryDay.objects.dates("date", "year")}
    return [year for year in years if not package_covers(year) and year not in entered]


def set_statutory_day(actor, day: dt.date, *, kind: str, name: str = "", notice: str = ""):
    """Enter or correct one day of a year's holiday notice (center staff; audited)."""
    from django.db import transaction
    from django.utils.translation import gettext_lazy as _

    from accounts.permissions import require_perm
    from audit.services import record
    from clock.models import StatutoryDay
    from lib.errors import DomainError

    require_perm(actor, "clock.change_statutoryday")
    if kind not in StatutoryDay.Kind.values:
        raise DomainError(_("未知的日期类型：%(kind)s"), code="INVALID_KIND", kind=kind)
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


def remove_statutory_day(actor, day: dt.date) -> None:
    from django.db import transaction

    from accounts.permissions import require_perm
    from audit.services import record
    from clock.models import StatutoryDay

    require_perm(actor, "clock.change_statutoryday")
    with transaction.atomic():
        deleted, _ = StatutoryDay.objects.filter(date=day).delete()
        if deleted:
            record(
                actor, "clock.statutory_day.removed", ("clock.statutoryday", day.isoformat()), {}
            )
