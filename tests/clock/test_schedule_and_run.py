"""Scheduling a time-based step and running it when, and only when, it is due.

Every deadline on the platform (bid opening, auction close, deposit refund) is a scheduled task; these
tests pin down what a service relies on when it calls `clock.services.schedule`.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from audit.models import Checkpoint
from clock.models import ScheduledTask
from clock.registry import step
from clock.services import MAX_BACKOFF, cancel, run_due, schedule
from clock.tasks import VERIFY_STEP, schedule_next_verification

pytestmark = pytest.mark.django_db

WORKER = "test-worker"

# What the test steps saw, in order: one entry per run. Cleared before each test.
RUNS: list[str] = []
# How many more times "test.run.flaky" fails for an object id before it succeeds.
FAILURES_LEFT: dict[str, int] = {}


# Registered at import: the registry refuses a second, different function under the same name.
@step("test.run.record")
def record_run(object_id: str) -> None:
    RUNS.append(object_id)


@step("test.run.flaky")
def flaky(object_id: str) -> None:
    RUNS.append(object_id)
    if FAILURES_LEFT.get(object_id, 0) > 0:
        FAILURES_LEFT[object_id] -= 1
        raise RuntimeError(f"bank gateway unreachable for {object_id}")


@step("test.run.recurring")
def recurring(object_id: str) -> None:
    # Like a periodic report: do the work, then book the next run on the same task.
    RUNS.append(object_id)
    schedule("test.run.recurring", object_id, timezone.now() + dt.timedelta(hours=1))


@pytest.fixture(autouse=True)
def _fresh_step_state() -> None:
    RUNS.clear()
    FAILURES_LEFT.clear()


def task_for(step_name: str, object_id: str | int) -> ScheduledTask:
    return ScheduledTask.objects.get(key=f"{step_name}:{object_id}")


def test_it_runs_a_step_only_once_it_is_due(clock: time_machine.Traveller):
    due = timezone.now() + dt.timedelta(minutes=10)
    schedule("test.run.record", 42, due)

    # One second early: a bid-opening step that ran early would open sealed bids.
    clock.move_to(due - dt.timedelta(seconds=1))
    assert run_due(worker=WORKER) == 0
    assert RUNS == []

    clock.move_to(due)
    assert run_due(worker=WORKER) == 1
    assert RUNS == ["42"]  # the step gets the task's object id, as a string
    task = task_for("test.run.record", 42)
    assert task.done_at == due
    assert task.leased_until is None


def test_it_runs_a_finished_step_exactly_once(clock: time_machine.Traveller):
    schedule("test.run.record", 1, timezone.now() + dt.timedelta(minutes=1))
    clock.shift(dt.timedelta(minutes=2))
    assert run_due(worker=WORKER) == 1

    # Later clock passes (and other workers) must not close the same auction twice.
    clock.shift(dt.timedelta(hours=1))
    assert run_due(worker=WORKER) == 0
    assert run_due(worker="another-worker") == 0
    assert RUNS == ["1"]


def test_it_leaves_tasks_that_are_not_due_untouched(clock: time_machine.Traveller):
    schedule("test.run.record", "due", timezone.now() + dt.timedelta(minutes=1))
    later = schedule("test.run.record", "later", timezone.now() + dt.timedelta(days=3))
    clock.shift(dt.timedelta(minutes=5))

    assert run_due(worker=WORKER) == 1
    assert RUNS == ["due"]
    untouched = ScheduledTask.objects.get(pk=later.pk)
    assert untouched.due_at == later.due_at
    assert untouched.done_at is None
    assert untouched.attempts == 0
    assert (untouched.leased_by, untouched.leased_until) == ("", None)


def test_it_runs_due_tasks_oldest_deadline_first(clock: time_machine.Traveller):
    now = timezone.now()
    schedule("test.run.record", "second", now + dt.timedelta(minutes=2))
    schedule("test.run.record", "first", now + dt.timedelta(minutes=1))
    schedule("test.run.record", "third", now + dt.timedelta(minutes=3))
    clock.shift(dt.timedelta(minutes=10))

    assert run_due(worker=WORKER) == 3
    assert RUNS == ["first", "second", "third"]


def test_it_keeps_one_task_per_step_and_object(clock: time_machine.Traveller):
    first = schedule("test.run.record", 7, timezone.now() + dt.timedelta(minutes=10))
    # The same deadline set again (a service re-saving a lot) must not queue a second run.
    second = schedule("test.run.record", 7, timezone.now() + dt.timedelta(minutes=10))
    assert first.pk == second.pk
    assert first.key == "test.run.record:7"
    # An explicit key is a separate task for the same object (e.g. two reminders).
    schedule("test.run.record", 7, timezone.now() + dt.timedelta(minutes=10), key="reminder:7")
    assert ScheduledTask.objects.filter(object_id="7").count() == 2


def test_it_moves_the_deadline_when_the_same_key_is_scheduled_again(clock: time_machine.Traveller):
    schedule("test.run.record", 5, timezone.now() + dt.timedelta(minutes=10))
    # The agent extends the bid deadline by 20 minutes before it passes.
    moved_to = timezone.now() + dt.timedelta(minutes=30)
    schedule("test.run.record", 5, moved_to)

    clock.shift(dt.timedelta(minutes=15))
    assert run_due(worker=WORKER) == 0
    assert RUNS == []

    clock.move_to(moved_to)
    assert run_due(worker=WORKER) == 1
    assert RUNS == ["5"]


def test_it_rearms_a_finished_task_scheduled_again(clock: time_machine.Traveller):
    schedule("test.run.record", 9, timezone.now() + dt.timedelta(minutes=1))
    clock.shift(dt.timedelta(minutes=2))
    run_due(worker=WORKER)
    assert task_for("test.run.record", 9).done_at is not None

    # A re-opened tender gets a new deadline: the finished task must run again at that time.
    new_due = timezone.now() + dt.timedelta(days=1)
    schedule("test.run.record", 9, new_due)
    rearmed = task_for("test.run.record", 9)
    assert rearmed.done_at is None
    assert rearmed.due_at == new_due

    clock.move_to(new_due)
    assert run_due(worker=WORKER) == 1
    assert RUNS == ["9", "9"]


def test_it_never_runs_a_cancelled_task(clock: time_machine.Traveller):
    schedule("test.run.record", 3, timezone.now() + dt.timedelta(minutes=1))
    schedule("test.run.record", 4, timezone.now() + dt.timedelta(minutes=1))
    cancel("test.run.record", 3)  # the tender was withdrawn

    clock.shift(dt.timedelta(hours=1))
    assert run_due(worker=WORKER) == 1
    assert RUNS == ["4"]
    cancelled = task_for("test.run.record", 3)
    assert cancelled.done_at is not None
    assert cancelled.last_error == "cancelled"


def test_it_leaves_a_finished_task_as_it_was_on_cancel(clock: time_machine.Traveller):
    schedule("test.run.record", 6, timezone.now() + dt.timedelta(minutes=1))
    clock.shift(dt.timedelta(minutes=1))
    run_due(worker=WORKER)
    finished = task_for("test.run.record", 6)

    clock.shift(dt.timedelta(minutes=1))
    cancel("test.run.record", 6)
    # It ran: the record must not claim it was cancelled, nor change when it finished.
    after = task_for("test.run.record", 6)
    assert (after.done_at, after.last_error) == (finished.done_at, "")


def test_it_runs_a_cancelled_task_that_is_scheduled_again(clock: time_machine.Traveller):
    schedule("test.run.record", 8, timezone.now() + dt.timedelta(minutes=1))
    cancel("test.run.record", 8)
    schedule("test.run.record", 8, timezone.now() + dt.timedelta(minutes=5))

    clock.shift(dt.timedelta(minutes=5))
    assert run_due(worker=WORKER) == 1
    assert RUNS == ["8"]
    assert task_for("test.run.record", 8).last_error == ""


def test_it_records_a_failing_step_and_retries_it_after_a_back_off(clock: time_machine.Traveller):
    FAILURES_LEFT["11"] = 2
    schedule("test.run.flaky", 11, timezone.now())

    assert run_due(worker=WORKER) == 0
    failed = task_for("test.run.flaky", 11)
    assert failed.done_at is None
    assert failed.attempts == 1
    assert "bank gateway unreachable for 11" in failed.last_error
    assert failed.leased_until > timezone.now()
    first_retry_at = failed.leased_until

    # Not hammered again before the back-off ends, by this worker or any other.
    clock.move_to(first_retry_at - dt.timedelta(milliseconds=1))
    assert run_due(worker=WORKER) == 0
    assert run_due(worker="another-worker") == 0
    assert RUNS == ["11"]

    clock.move_to(first_retry_at + dt.timedelta(milliseconds=1))
    assert run_due(worker="another-worker") == 0
    again = task_for("test.run.flaky", 11)
    assert again.attempts == 2
    # The back-off grows with each failure.
    assert again.leased_until - timezone.now() > first_retry_at - failed.due_at

    clock.move_to(again.leased_until + dt.timedelta(milliseconds=1))
    assert run_due(worker=WORKER) == 1
    assert RUNS == ["11", "11", "11"]
    assert task_for("test.run.flaky", 11).done_at is not None


def test_it_caps_the_back_off(clock: time_machine.Traveller):
    # A gateway that is down for a day is still retried every few minutes, not once a week.
    FAILURES_LEFT["12"] = 1
    schedule("test.run.flaky", 12, timezone.now())
    ScheduledTask.objects.filter(key="test.run.flaky:12").update(attempts=30)

    run_due(worker=WORKER)
    task = task_for("test.run.flaky", 12)
    assert task.attempts == 31
    assert task.leased_until == timezone.now() + MAX_BACKOFF


def test_it_keeps_a_task_whose_step_is_not_registered_for_retry(clock: time_machine.Traveller):
    # E.g. a task written by a newer release, seen by an old clock process during a rolling deploy.
    schedule("test.run.no-such-step", 1, timezone.now())

    assert run_due(worker=WORKER) == 0
    task = task_for("test.run.no-such-step", 1)
    assert task.done_at is None
    assert task.attempts == 1
    assert "no-such-step" in task.last_error


def test_it_does_not_mark_done_a_step_that_rescheduled_its_own_task(clock: time_machine.Traveller):
    schedule("test.run.recurring", "report", timezone.now())

    assert run_due(worker=WORKER) == 1
    task = task_for("test.run.recurring", "report")
    # The new due time survives: the task is armed for the next run, not finished.
    assert task.done_at is None
    assert task.due_at == timezone.now() + dt.timedelta(hours=1)

    clock.shift(dt.timedelta(minutes=59))
    assert run_due(worker=WORKER) == 0
    clock.shift(dt.timedelta(minutes=1))
    assert run_due(worker=WORKER) == 1
    assert RUNS == ["report", "report"]


def test_it_runs_the_audit_verification_and_books_its_next_run(clock: time_machine.Traveller):
    interval = dt.timedelta(seconds=settings.AUDIT_VERIFY_INTERVAL_SECONDS)
    schedule_next_verification()
    clock.shift(interval)

    assert run_due(worker=WORKER) == 1
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.ok is True, checkpoint.detail
    assert checkpoint.verified_at == timezone.now()
    task = task_for(VERIFY_STEP, "chain")
    assert task.done_at is None
    assert task.due_at == checkpoint.verified_at + interval

    # Not before the interval is up, then again once it is.
    clock.shift(interval - dt.timedelta(seconds=1))
    assert run_due(worker=WORKER) == 0
    clock.shift(dt.timedelta(seconds=1))
    assert run_due(worker=WORKER) == 1
    assert Checkpoint.objects.count() == 2
