"""Concurrent writers never fork the chain: on PostgreSQL (row lock on the head) and SQLite
(IMMEDIATE transactions); and verifying while they write never reports a race as tampering."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from accounts.actors import Actor
from audit.models import AuditEvent, Checkpoint
from audit.services import ChainReport, record, record_checkpoint, verify_chain
from tests.conftest import run_concurrently

WRITERS = 8
EVENTS_EACH = 15


def write_many(writer: int) -> int:
    actor = Actor(user=None, role="system", organization=None, process=f"writer-{writer}")
    for i in range(EVENTS_EACH):
        with transaction.atomic():
            record(actor, "test.concurrent", ("test.writer", str(writer)), {"i": i})
    return writer


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_gap_free_chain():
    results = run_concurrently(write_many, [(w,) for w in range(WRITERS)])
    assert results == list(range(WRITERS)), results

    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EVENTS_EACH + 1))
    report = verify_chain()
    assert report.ok is True, report.summary()
    # Every writer's events are all there, in that writer's order.
    for writer in range(WRITERS):
        mine = AuditEvent.objects.filter(object_id=str(writer)).order_by("seq")
        assert [e.payload["i"] for e in mine] == list(range(EVENTS_EACH))


VERIFICATIONS = 100


@pytest.mark.django_db(transaction=True)
def test_verifying_while_bids_are_written_never_reports_a_race_as_tampering():
    """The head moves with every event: a verification that read the head and the events at different
    moments called a busy chain BROKEN. Writers append without pause while the chain is verified
    over and over (checkpointed as the clock does, by the command, and inside a caller's
    transaction); every verification must pass, and cover more of the chain as it grows."""
    stop = threading.Event()

    def keep_writing(writer: int) -> int:
        actor = Actor(user=None, role="system", organization=None, process=f"writer-{writer}")
        written = 0
        while not stop.is_set():
            with transaction.atomic():
                record(actor, "test.concurrent", ("test.writer", str(writer)), {"i": written})
            written += 1
            time.sleep(0.002)  # SQLite's lock is not fair: writers in a tight loop starve everyone
        return written

    def keep_verifying() -> list[ChainReport]:
        reports = []
        try:
            while AuditEvent.objects.count() < 5:
                time.sleep(0.01)  # let the writers start
            for i in range(VERIFICATIONS):
                if i % 3 == 0:  # the clock's periodic check
                    checkpoint = record_checkpoint()
                    reports.append(verify_chain() if checkpoint.ok else checkpoint.detail)
                elif i % 3 == 1:  # verify_audit
                    reports.append(verify_chain())
                else:  # inside someone's transaction (PostgreSQL: READ COMMITTED, no snapshot)
                    with transaction.atomic():
                        reports.append(verify_chain())
        finally:
            stop.set()
        return reports

    def role(name: str) -> object:
        return keep_verifying() if name == "verify" else keep_writing(int(name))

    results = run_concurrently(role, [("verify",), ("0",), ("1",), ("2",)], timeout=300)
    reports, *written = results
    assert not isinstance(reports, BaseException), reports
    assert all(isinstance(n, int) and n > 0 for n in written), written
    assert [r for r in reports if not (isinstance(r, ChainReport) and r.ok)] == []
    assert reports[-1].head_seq > reports[0].head_seq  # the chain really grew meanwhile
    assert Checkpoint.objects.filter(ok=False).count() == 0
    assert verify_chain().ok
