"""Reminders ahead of deadlines (clock step notifications.remind), with travelled time: sent when the
moment comes, once per cause however often the clock runs, and never after the deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from clock.models import ScheduledTask
from clock.services import run_due
from notifications.models import Notice
from notifications.tasks import REMIND_STEP, schedule_next_reminders, send_reminders
from tests.bidding.world import build, travel

pytestmark = pytest.mark.django_db


def reminders(user, kind="deadline.reminder"):
    return list(
        Notice.objects.filter(recipient=user, kind=kind, cause__startswith="reminder:bid.decrypt")
    )


def test_decryption_reminders_at_30_and_10_minutes_exactly_once(users):
    world = build(users, "decrypting", owner_decrypts=False)
    until = world.lot.opening.decryption_until
    other, owner = users["other"], users["owner"]
    assert until - world.now > dt.timedelta(minutes=30)

    with travel(until - dt.timedelta(minutes=31)):
        send_reminders()
    assert reminders(other) == []

    with travel(until - dt.timedelta(minutes=30)):
        send_reminders()
        send_reminders()  # a retried clock step
    first = reminders(other)
    assert len(first) == 1 and first[0].due_at == until
    assert "解密投标文件" in first[0].title
    # Every bidder still to decrypt is reminded; the agent, staff and other parties are not.
    assert len(reminders(owner)) == 1
    for role in ("agent", "agent2", "staff", "supervisor", "outsider"):
        assert not Notice.objects.filter(recipient=users[role], cause__startswith="reminder:"), role

    with travel(until - dt.timedelta(minutes=20)):
        send_reminders()
    assert len(reminders(other)) == 1

    with travel(until - dt.timedelta(minutes=10)):
        send_reminders()
    with travel(until - dt.timedelta(minutes=9)):
        send_reminders()
    assert len(reminders(other)) == 2
    assert len({n.cause for n in reminders(other)}) == 2

    with travel(until + dt.timedelta(minutes=1)):
        send_reminders()
    assert len(reminders(other)) == 2


def test_a_moment_missed_while_the_clock_was_down_is_sent_late_but_only_before_the_deadline(users):
    world = build(users, "decrypting", owner_decrypts=False)
    until = world.lot.opening.decryption_until
    # Down from before the 30-minute moment until 5 minutes before the deadline: one reminder (the
    # latest moment reached), not two at once.
    with travel(until - dt.timedelta(minutes=5)):
        send_reminders()
    got = reminders(users["other"])
    assert len(got) == 1 and got[0].cause.endswith(":10m")

    world2_until = until
    Notice.objects.all().delete()
    with travel(world2_until + dt.timedelta(seconds=1)):
        send_reminders()
    assert reminders(users["other"]) == []


def test_the_clock_runs_the_step_every_minute_and_reminds_once(users):
    world = build(users, "decrypting", owner_decrypts=False)
    until = world.lot.opening.decryption_until
    start = until - dt.timedelta(minutes=32)
    with travel(start):
        ScheduledTask.objects.filter(step=REMIND_STEP).delete()
        schedule_next_reminders()
    for minute in range(1, 21):
        with travel(start + dt.timedelta(minutes=minute, seconds=1)):
            run_due()
    # 30 minutes before; the 10-minute moment has not come yet.
    assert [n.cause.rsplit(":", 1)[1] for n in reminders(users["other"])] == ["30m"]
    for minute in range(21, 25):
        with travel(start + dt.timedelta(minutes=minute, seconds=1)):
            run_due()
    assert sorted(n.cause.rsplit(":", 1)[1] for n in reminders(users["other"])) == ["10m", "30m"]
    task = ScheduledTask.objects.get(step=REMIND_STEP)
    assert task.done_at is None and task.due_at > start + dt.timedelta(minutes=24)


def test_a_live_auction_start_is_reminded_30_and_5_minutes_before(agent, staff):
    from tests.bidding.auction_world import live_auction, make_world

    base = dt.datetime(2030, 3, 1, 1, 0, tzinfo=dt.UTC)
    with travel(base):
        world = make_world(agent, staff, bidders=2, with_auction=False)
        auction = live_auction(world, starts_in=3600)
    starts = auction.starts_at
    bidder = world.bidders[0]
    with travel(starts - dt.timedelta(minutes=30)):
        send_reminders()
    with travel(starts - dt.timedelta(minutes=5)):
        send_reminders()
        send_reminders()
    notes = Notice.objects.filter(recipient=bidder, kind="auction.starting")
    assert sorted(n.cause.rsplit(":", 1)[1] for n in notes) == ["30m", "5m"]
    assert all(n.url == f"/bidding/auctions/{auction.pk}/" for n in notes)
