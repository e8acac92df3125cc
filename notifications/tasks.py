"""The clock's reminder step `notifications.remind`: every minute, each pending to-do item whose reminder
moment has come is told to its people (todo.pending_reminders). The notice's cause names the item, its
deadline and the lead time, so a retried or restarted clock never reminds twice (Notice is unique per
recipient and cause)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from clock.registry import recurring, step
from clock.services import schedule
from notifications import todo
from notifications.services import moment_text, notify

REMIND_STEP = "notifications.remind"
REMIND_EVERY = dt.timedelta(minutes=1)


def send_reminders(now: dt.datetime | None = None) -> int:
    """Send the reminders due at `now`; returns how many notices were created (0 on a repeat)."""
    now = now or timezone.now()
    created = 0
    for reminder in todo.pending_reminders(now):
        item = reminder.item
        assert item.due_at is not None  # pending_reminders answers dated items only
        params = {
            "action": str(item.action),
            "subject": item.subject,
            "deadline": moment_text(item.due_at),
            "start": moment_text(item.due_at),
            "lot": item.subject,
            **dict(item.params),
        }
        with transaction.atomic():
            created += len(
                notify(
                    item.reminder_kind,
                    reminder.users,
                    cause=reminder.cause,
                    params=params,
                    url=item.url,
                    due_at=item.due_at,
                )
            )
    return created


def schedule_next_reminders(after: dt.datetime | None = None) -> None:
    schedule(REMIND_STEP, "all", (after or timezone.now()) + REMIND_EVERY)


@step(REMIND_STEP)
def remind(object_id: str) -> None:
    send_reminders()
    schedule_next_reminders()


def schedule_first_reminders() -> None:
    # A minute after a clock starts with none pending; a restarting clock finds the pending run.
    schedule_next_reminders()


recurring(REMIND_STEP, schedule_first_reminders)
