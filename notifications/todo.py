"""待办: what each person must do, and by when (docs/notifications.md).

The to-do items come from state owned by apps above this one (trading, deposits, experts, bidding), so this
module only keeps a registry: each app's `todo.py` registers a source from its AppConfig.ready, and a
source reads its own rows and answers `Assigned(item, users)`.

A source is called with a `TodoQuery`: for one signed-in user (the home page, `/api/v1/todo/`) or for
everyone (`user` None: the clock's reminders, which also pass `due_before` so a source can skip rows whose
deadline is far off). Its helpers (`people`, `platform`, `organization_id`) answer the same question both
ways, so the page and the reminders agree on who must act.

    def source(query: TodoQuery) -> Iterable[Assigned]:
        for objection in Objection.objects.filter(replied_at__isnull=True, ...):
            users = query.people(objection.project.agent)
            if users:
                yield Assigned(TodoItem(key=f"objection.reply:{objection.pk}", ...), users)

    register_source(source)

Ordering (`items_for`): overdue first (most overdue first), then the soonest due, then undated items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from accounts.models import Organization, Role, User
from notifications import recipients

M = TypeVar("M", bound=Model)

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# The reminder lead times by kind of deadline (docs/notifications.md).
LEADS_DECRYPTION: tuple[dt.timedelta, ...] = (30 * MINUTE, 10 * MINUTE)
LEADS_SUBMISSION: tuple[dt.timedelta, ...] = (DAY, 2 * HOUR)
LEADS_LIVE: tuple[dt.timedelta, ...] = (30 * MINUTE, 5 * MINUTE)
LEADS_DEFAULT: tuple[dt.timedelta, ...] = (DAY,)
LEADS_NONE: tuple[dt.timedelta, ...] = ()

REMINDER_KIND = "deadline.reminder"


@dataclass(frozen=True)
class TodoItem:
    """One thing one person (or each of several) must do. `key` is stable for as long as the thing is
    pending (it names the reminder's cause)."""

    key: str
    action: str | Promise
    subject: str
    url: str = ""
    due_at: dt.datetime | None = None
    # A legal deadline: a right lapses or a deposit is at stake when it passes.
    legal: bool = False
    # The notice kind of its reminders, and how long before `due_at` each is sent.
    reminder_kind: str = REMINDER_KIND
    leads: tuple[dt.timedelta, ...] = LEADS_DEFAULT
    # Extra parameters for the reminder's text (e.g. {"lot": …, "start": …}).
    params: tuple[tuple[str, str], ...] = ()

    def overdue(self, now: dt.datetime) -> bool:
        return self.due_at is not None and self.due_at <= now

    def urgency(self, now: dt.datetime) -> tuple[int, float, str]:
        if self.due_at is None:
            return (2, 0.0, self.key)
        return (0 if self.overdue(now) else 1, self.due_at.timestamp(), self.key)


@dataclass(frozen=True)
class Assigned:
    item: TodoItem
    users: Sequence[User]


@dataclass(frozen=True)
class TodoQuery:
    """For whom a source answers: one user, or everyone (`user` None)."""

    user: User | None = None
    now: dt.datetime = field(default_factory=timezone.now)
    # The clock asks only for items due before this moment (now + the longest lead).
    due_before: dt.datetime | None = None

    @property
    def organization_id(self) -> int | None:
        """The one organization whose rows matter (a user's own), or None for everyone's."""
        return self.user.organization_id if self.user is not None else None

    def role_is(self, *roles: str) -> bool:
        """Whether rows for these platform roles can concern this query at all."""
        return self.user is None or self.user.role in roles

    def people(self, organization: Organization | None, *org_roles: str) -> list[User]:
        """Who in `organization` acts (members holding one of `org_roles`, and its administrators)."""
        if organization is None:
            return []
        if self.user is None:
            return list(recipients.members(organization, *org_roles))
        user = self.user
        if user.organization_id != organization.pk:
            return []
        return [user] if recipients.members(organization, *org_roles).filter(pk=user.pk) else []

    def platform(self, role: Role | str) -> list[User]:
        """Everyone holding a platform role (center staff, supervisors)."""
        if self.user is None:
            return list(recipients.with_role(role))
        return [self.user] if self.user.role == role and self.user.is_active else []

    def person(self, user: User | None) -> list[User]:
        """One named person (an expert)."""
        if user is None or not user.is_active:
            return []
        if self.user is not None and self.user.pk != user.pk:
            return []
        return [user]

    def dated(self, rows: QuerySet[M], field_name: str) -> QuerySet[M]:
        """Rows whose deadline `field_name` is before `due_before` (all rows for the page)."""
        if self.due_before is None:
            return rows
        return rows.filter(**{f"{field_name}__lt": self.due_before})


Source = Callable[[TodoQuery], Iterable[Assigned]]

_SOURCES: dict[str, Source] = {}


def register_source(fn: Source) -> Source:
    """Register a source (idempotent per function: AppConfig.ready may run twice in tests)."""
    _SOURCES[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def sources() -> list[Source]:
    return [_SOURCES[name] for name in sorted(_SOURCES)]


def items_for(user: User, now: dt.datetime | None = None) -> list[TodoItem]:
    """The user's own to-do list, most urgent first."""
    if not user.is_authenticated or not user.is_active:
        return []
    query = TodoQuery(user=user, now=now or timezone.now())
    found: dict[str, TodoItem] = {}
    for source in sources():
        for assigned in source(query):
            if any(person.pk == user.pk for person in assigned.users):
                found.setdefault(assigned.item.key, assigned.item)
    return sorted(found.values(), key=lambda item: item.urgency(query.now))


@dataclass(frozen=True)
class Reminder:
    item: TodoItem
    lead: dt.timedelta
    users: Sequence[User]

    @property
    def cause(self) -> str:
        # The deadline is part of the cause: a moved deadline is reminded of again.
        due = int(self.item.due_at.timestamp()) if self.item.due_at else 0
        return f"reminder:{self.item.key}@{due}:{int(self.lead.total_seconds() // 60)}m"[:200]


def longest_lead() -> dt.timedelta:
    return max((*LEADS_DECRYPTION, *LEADS_SUBMISSION, *LEADS_LIVE, *LEADS_DEFAULT))


def pending_reminders(now: dt.datetime | None = None) -> list[Reminder]:
    """The reminders due at `now`: for each item with a deadline still ahead, the shortest lead whose
    moment has come. A moment missed while the clock was down is still sent (once) while the deadline is
    ahead; an earlier lead whose moment was missed is not sent as well, and nothing after the deadline."""
    now = now or timezone.now()
    query = TodoQuery(user=None, now=now, due_before=now + longest_lead() + MINUTE)
    due: dict[str, Reminder] = {}
    for source in sources():
        for assigned in source(query):
            item = assigned.item
            if item.due_at is None or item.due_at <= now or not item.leads or not assigned.users:
                continue
            reached = [lead for lead in item.leads if item.due_at - lead <= now]
            if not reached:
                continue
            reminder = Reminder(item, min(reached), list(assigned.users))
            if item.key in due:
                merged = {u.pk: u for u in (*due[item.key].users, *reminder.users)}
                reminder = Reminder(item, reminder.lead, list(merged.values()))
            due[item.key] = reminder
    return sorted(due.values(), key=lambda r: (r.item.due_at or now, r.item.key))
