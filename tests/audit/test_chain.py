from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AppendOnlyError, AuditEvent, ChainHead, Checkpoint
from audit.services import event_hash, record, record_checkpoint, verify_chain
from tests.audit.tamper import raw_access

pytestmark = pytest.mark.django_db

ACTOR = Actor(user=None, role="system", organization=None, ip="203.0.113.7", process="test")


def append(n: int) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(record(ACTOR, "test.thing.done", ("test.thing", str(i)), {"i": i}))
    return events


def test_it_links_each_event_to_the_previous_one():
    first, second, third = append(3)
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    head = ChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, third.hash)
    assert verify_chain().ok is True


def test_it_records_who_when_where_and_what():
    with transaction.atomic():
        event = record(ACTOR, "test.price.set", ("test.lot", "7"), {"price": Decimal("1234.50")})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_name == "system:test"
    assert stored.role == "system"
    assert stored.ip == "203.0.113.7"
    assert (stored.object_type, stored.object_id) == ("test.lot", "7")
    # Money is written as a string: exact, and never a float.
    assert stored.payload == {"price": "1234.50"}
    assert abs(stored.at - timezone.now()) < dt.timedelta(seconds=5)


def test_the_hash_is_sha256_of_the_documented_canonical_json():
    (event,) = append(1)
    import hashlib

    canonical = json.dumps(
        {
            "seq": 1,
            "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor_id": None,
            "actor": "system:test",
            "role": "system",
            "organization_id": None,
            "ip": "203.0.113.7",
            "action": "test.thing.done",
            "object_type": "test.thing",
            "object_id": "0",
            "payload": {"i": 0},
            "prev_hash": "0" * 64,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    assert event.hash == hashlib.sha256(canonical).hexdigest()


def test_it_refuses_floats_in_payloads():
    with pytest.raises(TypeError), transaction.atomic():
        record(ACTOR, "test.float", None, {"price": 1.5})
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_must_be_written_inside_the_services_transaction():
    with pytest.raises(RuntimeError):
        record(ACTOR, "test.outside", None, {})


def test_a_rolled_back_change_leaves_no_event():
    with pytest.raises(ValueError), transaction.atomic():
        record(ACTOR, "test.doomed", None, {})
        raise ValueError("the service failed after writing its event")
    assert AuditEvent.objects.count() == 0
    assert ChainHead.objects.get(pk=1).seq == 0


# --- Append-only ----------------------------------------------------------------------------------


def test_the_orm_refuses_to_update_or_delete_events():
    (event,) = append(1)
    event.action = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.thing.done"


def test_the_database_refuses_an_update_even_past_the_orm():
    (event,) = append(1)
    with (
        pytest.raises((IntegrityError, DatabaseError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET action = 'edited' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.thing.done"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps DELETE open for test flush"
)
def test_postgres_refuses_a_delete_even_past_the_orm():
    (event,) = append(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_is_read_only(client, staff):
    append(1)
    client.force_login(staff)
    listing = client.get("/admin/audit/auditevent/")
    assert listing.status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    event = AuditEvent.objects.first()
    delete = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- Tampering is detected ------------------------------------------------------------------------


def test_it_detects_an_edited_event():
    append(5)
    with raw_access() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET payload = %s WHERE seq = 3", [json.dumps({"i": 99})]
        )
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 3
    assert "edited" in report.problem


def test_it_detects_an_edited_time_or_actor():
    append(4)
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET ip = '198.51.100.1' WHERE seq = 2")
    assert verify_chain().first_bad_seq == 2


def test_it_detects_a_deleted_event_in_the_middle():
    append(5)
    with raw_access() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 2
    assert "missing" in report.problem


def test_it_detects_events_deleted_from_the_end():
    append(5)
    with raw_access() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 4")
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 4
    assert "head" in report.problem


def test_it_detects_an_inserted_event():
    events = append(4)
    # Shift events 3..4 up by one and slip a forged event in at seq 3, carrying a correct-looking
    # hash of its own; the event after it no longer links.
    forged_fields = {
        "seq": 3,
        "at": timezone.now(),
        "actor_id": None,
        "actor_name": "system:test",
        "role": "system",
        "organization_id": None,
        "ip": "",
        "action": "test.forged",
        "object_type": "",
        "object_id": "",
        "payload": {},
        "prev_hash": events[1].hash,
    }
    forged_hash = event_hash(**forged_fields)
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = seq + 100 WHERE seq >= 3")
        cursor.execute("UPDATE audit_auditevent SET seq = seq - 99 WHERE seq >= 103")
        cursor.execute(
            "INSERT INTO audit_auditevent (seq, at, actor_name, role, ip, action, object_type,"
            " object_id, payload, prev_hash, hash) VALUES (3, %s, 'system:test', 'system', '',"
            " 'test.forged', '', '', %s, %s, %s)",
            [forged_fields["at"], json.dumps({}), events[1].hash, forged_hash],
        )
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 4


def test_it_detects_reordered_events():
    append(5)
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = 1000 WHERE seq = 2")
        cursor.execute("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
        cursor.execute("UPDATE audit_auditevent SET seq = 3 WHERE seq = 1000")
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 2


def test_a_rewritten_tail_with_recomputed_hashes_is_caught_by_a_checkpoint():
    append(3)
    checkpoint = record_checkpoint()
    assert checkpoint.ok is True and checkpoint.seq == 3
    # Rewrite event 2 and recompute every hash after it, as a careful forger would.
    with raw_access() as cursor:
        rows = list(
            AuditEvent.objects.order_by("seq").values(
                "seq",
                "at",
                "actor_id",
                "actor_name",
                "role",
                "organization_id",
                "ip",
                "action",
                "object_type",
                "object_id",
                "payload",
            )
        )
        prev = "0" * 64
        for row in rows:
            if row["seq"] == 2:
                row["payload"] = {"i": 42}
            digest = event_hash(prev_hash=prev, **row)
            cursor.execute(
                "UPDATE audit_auditevent SET payload = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [json.dumps(row["payload"]), prev, digest, row["seq"]],
            )
            prev = digest
        cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [prev])
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 3
    assert "checkpoint" in report.problem


def test_checkpoints_record_failures_too():
    append(2)
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE seq = 1")
    checkpoint = record_checkpoint()
    assert checkpoint.ok is False
    assert "seq 1" in checkpoint.detail
    assert Checkpoint.objects.count() == 1


def rewind(events: list[AuditEvent], to_seq: int) -> None:
    """Remove the tail after `to_seq` and move the head back onto it: the chain alone looks whole."""
    with raw_access() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq > %s", [to_seq])
        cursor.execute(
            "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1",
            [to_seq, events[to_seq - 1].hash],
        )


def test_a_removed_tail_with_the_head_moved_back_is_caught_by_the_checkpoint_above_it():
    events = append(5)
    assert record_checkpoint().seq == 5
    rewind(events, 3)
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 4
    assert "checkpoint seq 5" in report.problem
    # The clock's next verification keeps failing: the failed checkpoint is no new reference.
    assert record_checkpoint().ok is False
    assert verify_chain().ok is False


def test_a_head_someone_kept_catches_a_rewind_even_with_the_checkpoints_gone():
    events = append(5)
    record_checkpoint()
    kept = (5, events[4].hash)
    rewind(events, 3)
    Checkpoint.objects.all().delete()  # what someone with write access to the database can do too
    assert verify_chain().ok is True  # nothing inside the database remembers the lost tail
    report = verify_chain([kept])
    assert report.ok is False
    assert report.first_bad_seq == 4
    assert "expected head is seq 5" in report.problem


def test_a_head_someone_kept_catches_a_history_rewritten_with_recomputed_hashes():
    events = append(4)
    kept = (2, events[1].hash)
    with raw_access() as cursor:
        prev = events[0].hash
        for event in events[1:]:
            payload = {"i": 42} if event.seq == 2 else event.payload
            digest = event_hash(
                seq=event.seq,
                at=event.at,
                actor_id=None,
                actor_name=event.actor_name,
                role=event.role,
                organization_id=None,
                ip=event.ip,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                payload=payload,
                prev_hash=prev,
            )
            cursor.execute(
                "UPDATE audit_auditevent SET payload = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [json.dumps(payload), prev, digest, event.seq],
            )
            prev = digest
        cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [prev])
    assert verify_chain().ok is True  # consistent in itself, and no checkpoint to disagree
    report = verify_chain([kept])
    assert report.ok is False
    assert report.first_bad_seq == 2
    assert "expected head" in report.problem


def test_kept_heads_and_checkpoints_pass_while_the_chain_grows():
    events = append(2)
    record_checkpoint()
    kept = [(0, "0" * 64), (2, events[1].hash)]
    append(3)
    record_checkpoint()
    report = verify_chain(kept)
    assert report.ok is True, report.summary()
    assert (report.head_seq, report.checkpoints, report.expected) == (5, 2, 2)


@pytest.mark.django_db(transaction=True)
def test_a_head_moved_back_over_events_still_there_is_caught():
    """Read in one snapshot, an event above the head can only mean the head was moved back."""
    events = append(4)
    with raw_access() as cursor:
        cursor.execute(
            "UPDATE audit_chainhead SET seq = 2, hash = %s WHERE id = 1", [events[1].hash]
        )
    report = verify_chain()
    assert report.ok is False
    assert report.first_bad_seq == 3
    assert "above the chain head" in report.problem


def test_verification_reads_the_chain_in_bounded_pages(monkeypatch):
    """However long the chain, verification holds one page of events in memory, never all of them,
    and still finds a change on any page and a checkpoint on any page."""
    from django.test.utils import CaptureQueriesContext

    from audit import services

    monkeypatch.setattr(services, "VERIFY_CHUNK", 3)
    events = append(10)
    record_checkpoint()
    append(2)
    with CaptureQueriesContext(connection) as queries:
        report = verify_chain([(7, events[6].hash)])
    assert report.ok is True, report.summary()
    assert (report.events, report.checkpoints, report.expected) == (12, 1, 1)
    pages = [
        q["sql"]
        for q in queries
        if 'FROM "audit_auditevent"' in q["sql"] and "ORDER BY" in q["sql"]
    ]
    assert len(pages) == 5 and all("LIMIT 3" in sql for sql in pages), pages
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE seq = 8")
    assert verify_chain().first_bad_seq == 8


# --- The command ----------------------------------------------------------------------------------


def test_verify_audit_prints_the_head(capsys):
    events = append(3)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "head seq=3" in out
    assert events[-1].hash in out


def test_verify_audit_exits_non_zero_naming_the_bad_sequence(capsys):
    append(3)
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET object_id = 'other' WHERE seq = 2")
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit")
    assert exit_info.value.code == 1
    assert "BROKEN at seq 2" in capsys.readouterr().err


def test_verify_audit_holds_the_chain_to_kept_heads(capsys):
    events = append(3)
    call_command("verify_audit", "--expect-head", f"2:{events[1].hash}")
    assert "1 expected head(s) match" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", "--expect-head", f"2:{events[0].hash}")
    assert exit_info.value.code == 1
    assert "BROKEN at seq 2: hash differs from the expected head" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        call_command("verify_audit", "--expect-head", f"9:{events[2].hash}")
    assert "expected head is seq 9" in capsys.readouterr().err


@pytest.mark.parametrize(
    "value", ["3", "x:" + "a" * 64, "3:abc", "-1:" + "a" * 64, "3:" + "g" * 64]
)
def test_verify_audit_refuses_a_malformed_kept_head(value):
    with pytest.raises(CommandError, match="--expect-head"):
        call_command("verify_audit", "--expect-head", value)


@pytest.mark.django_db(transaction=True)
def test_verify_audit_as_a_process_exits_non_zero(settings, tmp_path):
    """The real command line, as an operator runs it (a separate process on the test database)."""
    append(2)
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE seq = 2")
    env = {**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = db["NAME"]
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN at seq 2" in result.stderr
