"""The published head history: public, nothing but seq, hash and time, and what a kept head is for."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import Checkpoint
from audit.services import record_checkpoint
from tests.audit.tamper import raw_access
from tests.audit.test_chain import append

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 11, 2, 0, tzinfo=dt.UTC)


def verified(events: int, at: dt.datetime) -> Checkpoint:
    append(events)
    with time_machine.travel(at, tick=False):
        return record_checkpoint()


def test_the_history_lists_each_verified_head_once_newest_first_for_anyone():
    first = verified(2, T0)
    verified(0, T0 + dt.timedelta(minutes=10))  # no new event: the same head again
    second = verified(3, T0 + dt.timedelta(minutes=20))
    with raw_access() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE seq = 5")
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        assert record_checkpoint().ok is False  # a failed verification publishes no head

    rows = APIClient().get("/api/v1/audit/heads/").json()
    assert rows == [
        {"seq": 5, "hash": second.hash, "verified_at": "2026-05-11T10:20:00+08:00"},
        {"seq": 2, "hash": first.hash, "verified_at": "2026-05-11T10:00:00+08:00"},
    ]
    page = Client().get("/audit/heads/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"5:{second.hash}" in text and f"2:{first.hash}" in text
    assert text.index(f"5:{second.hash}") < text.index(f"2:{first.hash}")
    assert "2026-05-11 10:00:00" in text  # Beijing time
    # Nothing but seq, hash and time: no actor, action, address or verification detail.
    for private in ("system:test", "test.thing.done", "203.0.113.7", "BROKEN"):
        assert private not in "".join(
            line for line in text.splitlines() if 'data-testid="head"' in line
        )
    assert set(rows[0]) == {"seq", "hash", "verified_at"}
    english = Client(headers={"accept-language": "en"}).get("/audit/heads/").content.decode()
    assert "Audit chain head history" in english and "First verified (Beijing time)" in english


def test_the_history_pages_by_seq():
    for i in range(3):
        verified(1, T0 + dt.timedelta(minutes=10 * i))
    client = APIClient()
    assert [r["seq"] for r in client.get("/api/v1/audit/heads/?before_seq=3").json()] == [2, 1]
    bad = client.get("/api/v1/audit/heads/?before_seq=-1")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_PARAMETER"
    assert Client().get("/audit/heads/?before_seq=x").status_code == 400
    assert 'data-seq="1"' in Client().get("/audit/heads/?before_seq=2").content.decode()


def test_the_history_pages_link_to_older_heads(monkeypatch):
    from audit import heads

    monkeypatch.setattr(heads, "PUBLISHED_PAGE", 2)
    for i in range(3):
        verified(1, T0 + dt.timedelta(minutes=10 * i))
    text = Client().get("/audit/heads/").content.decode()
    assert 'data-seq="3"' in text and 'data-seq="2"' in text and 'data-seq="1"' not in text
    assert "?before_seq=2" in text


def test_the_atom_feed_carries_each_head_for_anyone_to_poll():
    checkpoint = verified(2, T0)
    response = Client().get("/audit/heads/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    entries = ET.fromstring(response.content).findall("atom:entry", ns)
    assert len(entries) == 1
    assert entries[0].find("atom:id", ns).text == f"urn:bidhall:audit-head:2:{checkpoint.hash}"
    assert entries[0].find("atom:summary", ns).text == f"2:{checkpoint.hash}"


def test_a_head_kept_from_the_history_catches_a_rewind_the_database_forgot(capsys):
    events = append(4)
    record_checkpoint()
    kept = APIClient().get("/api/v1/audit/heads/").json()[0]
    call_command("verify_audit", "--expect-head", f"{kept['seq']}:{kept['hash']}")
    with raw_access() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq > 2")
        cursor.execute(
            "UPDATE audit_chainhead SET seq = 2, hash = %s WHERE id = 1", [events[1].hash]
        )
    Checkpoint.objects.all().delete()
    call_command("verify_audit")  # the database alone no longer knows
    with pytest.raises(SystemExit) as failed:
        call_command("verify_audit", "--expect-head", f"{kept['seq']}:{kept['hash']}")
    assert failed.value.code == 1
    assert "BROKEN at seq 3" in capsys.readouterr().err


def test_the_dashboard_and_home_show_the_chain_head_and_its_last_verification(client, supervisor):
    checkpoint = verified(3, timezone.now())
    append(1)
    client.force_login(supervisor)
    chain = client.get("/supervision/live.json").json()["chain"]
    assert (chain["head"]["seq"], chain["checkpoint"]["seq"]) == (
        checkpoint.seq + 1,
        checkpoint.seq,
    )
    assert chain["checkpoint"]["hash"] == checkpoint.hash
    home = client.get("/").content.decode()
    head = APIClient().get("/api/v1/audit/head/").json()
    assert (head["seq"], head["last_verified_seq"]) == (checkpoint.seq + 1, checkpoint.seq)
    assert head["hash"] in home
