"""Scheduling time-based steps and running the due ones.

Several `run_clock` processes may run at once. A task is claimed with a conditional UPDATE (only one
process sees its row count go to 1); on PostgreSQL the candidates are first picked with
SELECT … FOR UPDATE SKIP LOCKED so processes do not queue behind each other's claims.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import traceback

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from clock.models import ScheduledTask
from clock.registry import get_step

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(minutes=10)


def schedule(
    step: str, object_id: str | int, due_at: dt.datetime, *, key: str = ""
) -> ScheduledTask:
    """Schedule (or move) a step. The key defaults to "step:object_id", so one deadline is one task.

    Call inside the transaction that sets the deadline; moving a deadline re-arms a finished task.
    """
    task_key = key or f"{step}:{object_id}"
    task, _ = ScheduledTask.objects.update_or_create(
        key=task_key,
        defaults={
            "step": step,
            "object_id": str(object_id),
            "due_at": due_at,
            "done_at": None,
            "attempts": 0,
            "last_error": "",
            "leased_until": None,
            "leased_by": "",
        },
    )
    return task


def cancel(step: str, object_id: str | int, *, key: str = "") -> None:
    ScheduledTask.objects.filter(key=key or f"{step}:{object_id}", done_at__isnull=True).update(
        done_at=timezone.now(), last_error="cancelled"
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _due_ids(now: dt.datetime, limit: int) -> list[int]:
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    due = ScheduledTask.objects.filter(free, done_at__isnull=True, due_at__lte=now).order_by(
        "due_at"
    )
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            return list(
                due.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit]
            )
    return list(due.values_list("id", flat=True)[:limit])


def claim(task_id: int, now: dt.datetime, worker: str) -> bool:
    """Take the lease on one task. False when another process got there first, or it is not due.

    Due-ness is checked again here: between listing the due tasks and claiming one, its deadline may
    have been moved later (by a service, or by a recurring step rescheduling itself in another
    process), and running it then would run it early.
    """
    lease = dt.timedelta(seconds=settings.CLOCK_LEASE_SECONDS)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    claimed = ScheduledTask.objects.filter(
        free, pk=task_id, done_at__isnull=True, due_at__lte=now
    ).update(leased_until=now + lease, leased_by=worker)
    return claimed == 1


def run_task(task: ScheduledTask, worker: str) -> bool:
    """Run one claimed task; True if it finished."""
    try:
        get_step(task.step)(task.object_id)
    except Exception:
        attempts = task.attempts + 1
        backoff = min(dt.timedelta(seconds=2**attempts), MAX_BACKOFF)
        log.exception("clock step %s(%s) failed", task.step, task.object_id)
        ScheduledTask.objects.filter(pk=task.pk, leased_by=worker).update(
            attempts=attempts,
            last_error=traceback.format_exc(limit=5),
            leased_until=timezone.now() + backoff,
        )
        return False
    # Only the lease holder marks it done; and a step that rescheduled its own task (a recurring step,
    # or a deadline moved meanwhile) has a new due time that must not be lost.
    ScheduledTask.objects.filter(pk=task.pk, leased_by=worker, due_at=task.due_at).update(
        done_at=timezone.now(), leased_until=None
    )
    return True


def run_due(now: dt.datetime | None = None, *, limit: int = 100, worker: str | None = None) -> int:
    """Run every task due at `now`. Returns how many finished."""
    now = now or timezone.now()
    worker = worker or worker_name()
    finished = 0
    for task_id in _due_ids(now, limit):
        # The lease counts from the claim, not from the start of the batch: earlier steps may have
        # taken longer than a lease, and a lease that is already over when its step starts lets
        # another process claim and run the same task alongside this one.
        if not claim(task_id, max(now, timezone.now()), worker):
            continue  # another clock process got there first
        task = ScheduledTask.objects.get(pk=task_id)
        finished += run_task(task, worker)
    return finished


def run_pass(worker: str) -> int:
    """One pass of a long-running clock loop (`run_clock`), which must outlive its database.

    A connection killed by the server, a failover, or a write lock held past the timeout raises a
    DatabaseError from the listing or the claim itself, outside any step. Letting it escape would
    stop every time-driven transition (closes, openings, refunds) until someone restarts the
    process; instead the pass is abandoned, the broken connection dropped, and the next pass
    reconnects. A task claimed before the error keeps its lease and is retried when it runs out.
    """
    try:
        close_old_connections()
        return run_due(worker=worker)
    except DatabaseError:
        log.exception("clock: the database failed during a pass; reconnecting on the next one")
        with contextlib.suppress(DatabaseError):
            connection.close()
        return 0
