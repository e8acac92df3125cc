"""Concurrent writers never fork the chain: on PostgreSQL (row lock on the head) and SQLite
(IMMEDIATE transactions)."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.actors import Actor
from audit.models import AuditEvent
from audit.services import record, verify_chain
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
