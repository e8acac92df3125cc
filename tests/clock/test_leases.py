"""Several clock processes share the work through leases, and no task runs twice.

Production runs more than one `run_clock` (for availability); a deadline step such as "close the
auction" must still run once, and a crashed process's tasks must still be picked up by another.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AuditEvent
from audit.services import record, verify_chain
from clock.models import ScheduledTask
from clock.registry import step
from clock.services import claim, run_due, run_task, schedule
from tests.conftest import run_concurrently

RUNS: list[str] = []
_RUNS_LOCK = threading.Lock()
# Set by the test that simulates slow steps: the travelling clock, so a step can move time on.
SLOW: dict[str, time_machine.Traveller] = {}
# For each run of "test.lease.slow": could another worker have claimed the task while it ran?
STOLEN_WHILE_RUNNING: dict[str, bool] = {}


@step("test.lease.record")
def record_run(object_id: str) -> None:
    with _RUNS_LOCK:  # the concurrency test runs this from several threads
        RUNS.append(object_id)


@step("test.lease.slow")
def slow_step(object_id: str) -> None:
    task_id = ScheduledTask.objects.get(key=f"test.lease.slow:{object_id}").pk
    STOLEN_WHILE_RUNNING[object_id] = claim(task_id, timezone.now(), "intruder")
    # Each step takes longer than a lease (a slow bank API, say).
    SLOW["clock"].shift(dt.timedelta(seconds=settings.CLOCK_LEASE_SECONDS + 5))


@step("test.lease.extend")
def extend_deadline(object_id: str) -> None:
    schedule("test.lease.record", object_id, timezone.now() + dt.timedelta(hours=1))


@step("test.lease.audited")
def audited_step(object_id: str) -> None:
    # A real step's shape: its change and its audit event in one transaction.
    with transaction.atomic():
        record(Actor.system("test"), "test.clock.ran", ("test.task", object_id))


@pytest.fixture(autouse=True)
def _fresh_step_state() -> None:
    RUNS.clear()
    SLOW.clear()
    STOLEN_WHILE_RUNNING.clear()


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CLOCK_LEASE_SECONDS)


@pytest.mark.django_db
def test_it_lets_only_one_worker_claim_a_task(clock: time_machine.Traveller):
    task = schedule("test.lease.record", 1, timezone.now())

    assert claim(task.pk, timezone.now(), "w1") is True
    assert claim(task.pk, timezone.now(), "w2") is False
    # Claiming again does not extend a lease either, even for the holder.
    assert claim(task.pk, timezone.now(), "w1") is False
    task.refresh_from_db()
    assert task.leased_by == "w1"
    assert task.leased_until == timezone.now() + lease()


@pytest.mark.django_db
def test_it_lets_another_worker_take_over_an_expired_lease(clock: time_machine.Traveller):
    task = schedule("test.lease.record", 1, timezone.now())
    claimed_at = timezone.now()
    assert claim(task.pk, claimed_at, "crashed") is True

    # While the lease runs, the task stays with its holder...
    clock.move_to(claimed_at + lease() - dt.timedelta(milliseconds=1))
    assert claim(task.pk, timezone.now(), "w2") is False
    assert run_due(worker="w2") == 0

    # ...and once it has run out, a crashed holder's task is picked up by another process.
    clock.move_to(claimed_at + lease() + dt.timedelta(milliseconds=1))
    assert run_due(worker="w2") == 1
    assert RUNS == ["1"]
    task.refresh_from_db()
    assert task.leased_by == "w2"
    assert task.done_at is not None


@pytest.mark.django_db
def test_it_lets_only_the_lease_holder_mark_a_task_done(clock: time_machine.Traveller):
    task = schedule("test.lease.record", 1, timezone.now())
    assert claim(task.pk, timezone.now(), "stalled") is True
    clock.shift(lease() + dt.timedelta(seconds=1))
    assert claim(task.pk, timezone.now(), "w2") is True

    # The stalled process wakes up and finishes its copy: the task is w2's, not finished by "stalled".
    run_task(ScheduledTask.objects.get(pk=task.pk), "stalled")
    task.refresh_from_db()
    assert task.done_at is None
    assert task.leased_by == "w2"

    run_task(task, "w2")
    task.refresh_from_db()
    assert task.done_at is not None


@pytest.mark.django_db
def test_it_runs_each_task_once_across_two_workers_in_turn(clock: time_machine.Traveller):
    for i in range(5):
        schedule("test.lease.record", i, timezone.now() + dt.timedelta(seconds=i))
    clock.shift(dt.timedelta(minutes=1))

    assert run_due(worker="w1") == 5
    assert run_due(worker="w2") == 0
    assert sorted(RUNS) == [str(i) for i in range(5)]
    assert ScheduledTask.objects.filter(done_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_it_makes_every_worker_wait_out_a_back_off(clock: time_machine.Traveller):
    schedule("test.lease.no-such-step", 1, timezone.now())
    assert run_due(worker="w1") == 0
    task = ScheduledTask.objects.get(key="test.lease.no-such-step:1")
    assert task.attempts == 1

    # Another process must not retry it at once: the back-off is a lease held across workers.
    assert run_due(worker="w2") == 0
    task.refresh_from_db()
    assert task.attempts == 1


@pytest.mark.django_db
def test_it_refuses_to_claim_a_task_that_is_not_due(clock: time_machine.Traveller):
    task = schedule("test.lease.record", 1, timezone.now() + dt.timedelta(minutes=5))
    assert claim(task.pk, timezone.now(), "w1") is False
    clock.shift(dt.timedelta(minutes=5))
    assert claim(task.pk, timezone.now(), "w1") is True


@pytest.mark.django_db
def test_it_does_not_run_early_a_deadline_moved_during_a_batch(clock: time_machine.Traveller):
    # The batch lists "extended" as due, then an earlier step (standing in for the agent extending
    # the bid deadline at that moment) moves it an hour later: it must wait for the new deadline.
    schedule("test.lease.extend", "extended", timezone.now() - dt.timedelta(seconds=2))
    schedule("test.lease.record", "extended", timezone.now() - dt.timedelta(seconds=1))

    assert run_due(worker="w1") == 1
    assert RUNS == []
    moved = ScheduledTask.objects.get(key="test.lease.record:extended")
    assert moved.done_at is None
    assert (moved.leased_by, moved.leased_until) == ("", None)

    clock.move_to(moved.due_at)
    assert run_due(worker="w1") == 1
    assert RUNS == ["extended"]


@pytest.mark.django_db
def test_it_keeps_each_tasks_lease_live_while_its_step_runs(clock: time_machine.Traveller):
    # A batch can take longer than one lease. Each task's lease must count from when it was claimed,
    # or a task late in the batch is claimable by another process while it runs, and runs twice.
    SLOW["clock"] = clock
    for name in ("a", "b", "c"):
        schedule("test.lease.slow", name, timezone.now())

    assert run_due(worker="w1") == 3
    assert STOLEN_WHILE_RUNNING == {"a": False, "b": False, "c": False}


def run_batch(worker: str) -> int:
    return run_due(worker=worker)


# Both backends: on PostgreSQL the claims race for real (row locks, READ COMMITTED re-checks of the
# conditional UPDATE); SQLite serializes writers, so this checks the same outcome with less overlap.
@pytest.mark.django_db(transaction=True)
def test_it_runs_every_task_exactly_once_with_concurrent_workers():
    tasks = 40
    due = timezone.now() - dt.timedelta(seconds=1)
    for i in range(tasks):
        schedule("test.lease.audited", i, due)

    finished = run_concurrently(run_batch, [(f"w{i}",) for i in range(4)])

    assert all(isinstance(count, int) for count in finished), finished
    assert sum(finished) == tasks
    runs = Counter(
        AuditEvent.objects.filter(action="test.clock.ran").values_list("object_id", flat=True)
    )
    assert runs == Counter({str(i): 1 for i in range(tasks)})
    assert ScheduledTask.objects.filter(done_at__isnull=True).count() == 0
    assert verify_chain().ok is True
