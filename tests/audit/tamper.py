"""Edit the audit table the way someone with raw database access would: past the ORM and triggers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

SQLITE_TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;
"""


@contextmanager
def raw_access() -> Iterator[object]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What a superuser can do: stop user triggers for this session.
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_event_append_only")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
            else:
                cursor.execute(SQLITE_TRIGGER)
