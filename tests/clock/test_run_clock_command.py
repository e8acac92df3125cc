"""`manage.py run_clock --once`: what an operator (or a cron-style supervisor) runs to process due steps."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from audit.models import Checkpoint
from clock.management.commands import run_clock
from clock.models import ScheduledTask
from clock.registry import step
from clock.services import schedule
from clock.tasks import VERIFY_STEP

# The command calls close_old_connections() like any long-running process. Inside a test's wrapping
# transaction that closes the test's own connection, so these tests run with real commits instead.
pytestmark = pytest.mark.django_db(transaction=True)

RUNS: list[str] = []


@step("test.command.record")
def record_run(object_id: str) -> None:
    RUNS.append(object_id)


@step("test.command.deploy")
def stopped_mid_step(object_id: str) -> None:
    # What a deploy does to a running clock: SIGTERM while a step is in progress.
    os.kill(os.getpid(), signal.SIGTERM)
    RUNS.append(object_id)


@pytest.fixture(autouse=True)
def _fresh_runs() -> None:
    RUNS.clear()


def run_clock_once() -> str:
    out = io.StringIO()
    call_command("run_clock", "--once", stdout=out)
    return out.getvalue()


def pending_verifications() -> list[ScheduledTask]:
    return list(ScheduledTask.objects.filter(step=VERIFY_STEP, done_at__isnull=True))


def test_it_runs_the_due_steps_and_exits(clock: time_machine.Traveller):
    schedule("test.command.record", "due", timezone.now() - dt.timedelta(minutes=1))
    schedule("test.command.record", "later", timezone.now() + dt.timedelta(minutes=1))

    output = run_clock_once()

    assert RUNS == ["due"]
    assert "1 step(s) done" in output
    # The startup line lists what this process can run, so an operator sees a missing app.
    assert "test.command.record" in output
    assert VERIFY_STEP in output
    assert ScheduledTask.objects.get(key="test.command.record:later").done_at is None


def test_it_schedules_the_audit_verification_when_none_is_pending(clock: time_machine.Traveller):
    assert pending_verifications() == []

    run_clock_once()

    (task,) = pending_verifications()
    interval = dt.timedelta(seconds=settings.AUDIT_VERIFY_INTERVAL_SECONDS)
    assert task.due_at == timezone.now() + interval
    # Booked, not run yet: the first verification comes one interval after start-up.
    assert Checkpoint.objects.count() == 0


def test_it_does_not_postpone_a_pending_verification(clock: time_machine.Traveller):
    run_clock_once()
    (booked,) = pending_verifications()

    # Restarting the clock often (a crash loop, a deploy) must not push the verification away forever.
    clock.shift(dt.timedelta(seconds=settings.AUDIT_VERIFY_INTERVAL_SECONDS - 1))
    run_clock_once()
    (still,) = pending_verifications()
    assert still.due_at == booked.due_at

    clock.shift(dt.timedelta(seconds=1))
    run_clock_once()
    assert Checkpoint.objects.filter(ok=True).count() == 1
    (next_run,) = pending_verifications()
    assert next_run.due_at > booked.due_at


def test_it_leaves_the_callers_signal_handlers_alone(clock: time_machine.Traveller):
    # `--once` is also called from other programs (and tests): afterwards Ctrl-C and SIGTERM must
    # still do what that program set up, not flip a flag in a loop that has already ended.
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    run_clock_once()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_it_finishes_the_current_step_on_sigterm_then_stops(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
):
    polls: list[float] = []

    def no_wait(seconds: float) -> None:
        polls.append(seconds)
        # Guard: if SIGTERM were ignored the loop would never end; fail instead of hanging.
        if len(polls) > 3:
            raise AssertionError("the clock kept polling after SIGTERM")

    # The loop's poll interval is real waiting, not a deadline: skip it rather than travel time.
    monkeypatch.setattr(run_clock, "time", SimpleNamespace(sleep=no_wait))
    schedule("test.command.deploy", "step-1", timezone.now())
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    call_command("run_clock", stdout=io.StringIO())

    # The step was not cut off halfway: it completed and was recorded as done, and then the loop ended.
    assert RUNS == ["step-1"]
    assert ScheduledTask.objects.get(key="test.command.deploy:step-1").done_at is not None
    assert len(polls) == 1
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def run_clock_for_passes(monkeypatch: pytest.MonkeyPatch, passes: int, between=None) -> None:
    """The real loop (`run_clock` without --once) for `passes` passes, then SIGTERM. `between(n)` runs
    in the poll after pass n: where a test breaks the database under the running clock."""
    polls: list[float] = []

    def poll(seconds: float) -> None:
        polls.append(seconds)
        if between:
            between(len(polls))
        if len(polls) >= passes:
            os.kill(os.getpid(), signal.SIGTERM)
        if len(polls) > passes + 2:
            raise AssertionError("the clock kept polling after SIGTERM")

    monkeypatch.setattr(run_clock, "time", SimpleNamespace(sleep=poll))
    call_command("run_clock", stdout=io.StringIO())


def test_it_outlives_a_database_error_between_steps(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
):
    # A write lock held past the timeout (SQLite) or a failover fails the listing of due tasks itself,
    # outside any step. The pass is lost, not the process: the next pass runs the step.
    from django.db import OperationalError

    from clock import services

    real_due_ids = services._due_ids
    failures = iter([OperationalError("database is locked")])

    def flaky_due_ids(now, limit):
        error = next(failures, None)
        if error:
            raise error
        return real_due_ids(now, limit)

    monkeypatch.setattr(services, "_due_ids", flaky_due_ids)
    schedule("test.command.record", "after-the-error", timezone.now())

    run_clock_for_passes(monkeypatch, passes=2)

    assert RUNS == ["after-the-error"]
    assert ScheduledTask.objects.get(key="test.command.record:after-the-error").done_at


@step("test.command.connection_killed")
def connection_killed_mid_step(object_id: str) -> None:
    # What a PostgreSQL restart or an administrator's pg_terminate_backend does to a running step.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (set DATABASE_URL)",
)
def test_it_reconnects_after_postgresql_kills_its_connection_mid_step(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
):
    # The step fails on the dead session, and so does recording that failure: the error leaves the
    # step's handling. The next pass reconnects and runs what else is due; the killed step keeps its
    # lease and is retried when the lease runs out (steps are idempotent).
    schedule("test.command.connection_killed", "first", timezone.now())
    schedule("test.command.record", "after-the-kill", timezone.now() + dt.timedelta(microseconds=1))
    clock.shift(dt.timedelta(seconds=1))

    run_clock_for_passes(monkeypatch, passes=2)

    assert RUNS == ["after-the-kill"]
    assert ScheduledTask.objects.get(key="test.command.record:after-the-kill").done_at
    killed = ScheduledTask.objects.get(key="test.command.connection_killed:first")
    assert killed.done_at is None and killed.leased_until is not None
