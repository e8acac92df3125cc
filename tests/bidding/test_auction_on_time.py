"""Transitions driven by time happen, and reach every socket, on time whatever bids arrive.

A rounds auction once stalled: the room's timer for the next round was replaced by the auction's end
as soon as a bid event arrived, so the next `round` event went out only when somebody bid or asked for
a `state`, and the bidder pages kept their buttons disabled meanwhile."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
import time_machine
from asgiref.sync import sync_to_async

from bidding.auction import hub, services
from bidding.models import Auction, AuctionEvent
from clock.models import ScheduledTask
from clock.services import run_due
from tests.bidding.auction_world import START, make_world
from tests.bidding.test_auction_socket import open_room

pytestmark = pytest.mark.django_db(transaction=True)

TURN, PAUSE, ROUNDS = 2, 1, 2
INITIAL = ("990000.00", "980000.00", "985000.00")
ON_TIME = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    hub.close_all()


def rounds_world(agent, staff):
    """Three bidders with sealed initial bids; short turns (set on the row: the service's minimum is
    10 s) so that a test of two whole rounds takes seconds."""
    world = make_world(
        agent, staff, format="rounds", rounds=ROUNDS, turn_seconds=10, pause_seconds=0
    )
    Auction.objects.filter(pk=world.auction.pk).update(turn_seconds=TURN, pause_seconds=PAUSE)
    for user, price in zip(world.bidders, INITIAL, strict=True):
        with time_machine.travel(START - dt.timedelta(minutes=5), tick=False):
            answer = services.place_bid(world.actor(user), world.auction, price, uuid.uuid4().hex)
        assert answer.accepted
    return world


def round_start(number: int) -> dt.datetime:
    """When round `number` (1-based) begins: three bidders, a pause, then a turn each."""
    return START + (number - 1) * dt.timedelta(seconds=PAUSE + 3 * TURN)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def collect(communicator, frames: list) -> None:
    """Everything a watcher receives, with the (server) time it arrived."""
    while True:
        frame = json.loads(await communicator.receive_from(30))
        frames.append((now(), frame))


async def wait_for(frames: list, kind: str, number: int, timeout: float) -> dict:
    for _ in range(int(timeout * 50)):
        for _arrived, frame in frames:
            if frame["type"] == kind and frame.get("round", number) == number:
                return frame
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} {number} within {timeout} s")


async def until_answer(communicator, key: str) -> dict:
    while True:
        frame = json.loads(await communicator.receive_from(5))
        if frame.get("key") == key:
            return frame


async def test_every_round_reaches_every_watcher_on_time_while_everyone_bids(
    agent, staff, supervisor
):
    world = await sync_to_async(rounds_world)(agent, staff)
    pk = world.auction.pk
    with time_machine.travel(START - dt.timedelta(seconds=3), tick=True):
        opened = [
            await open_room(pk),
            await open_room(pk, supervisor),
            await open_room(pk, world.bidders[0]),  # a bidder page only watching
        ]
        assert {state["auction"]["status"] for _, state in opened} == {"scheduled"}
        watchers = [communicator for communicator, _ in opened]
        seen: list[list] = [[] for _ in watchers]
        collectors = [
            asyncio.ensure_future(collect(w, frames))
            for w, frames in zip(watchers, seen, strict=True)
        ]
        await wait_for(seen[0], "round", 1, timeout=3)
        bidders, prices = {}, {}
        for user in world.bidders:
            communicator, state = await open_room(pk, user)
            bidders[state["you"]["alias"]] = communicator
            prices[state["you"]["alias"]] = Decimal(state["you"]["price"])
        answers = []
        for number in range(1, ROUNDS + 1):
            # Nobody asks (no `sync`): the round must simply arrive.
            event = await wait_for(seen[0], "round", number, timeout=ON_TIME.total_seconds() + 2)
            for turn in event["turns"]:
                starts_at = dt.datetime.fromisoformat(turn["starts_at"])
                await asyncio.sleep(max(0.0, (starts_at - now()).total_seconds()) + 0.3)
                alias = turn["alias"]
                prices[alias] -= 1000
                key = uuid.uuid4().hex
                await bidders[alias].send_json_to(
                    {"type": "bid", "key": key, "price": f"{prices[alias]:.2f}"}
                )
                answers.append(await until_answer(bidders[alias], key))
        for frames in seen:
            await wait_for(frames, "closed", 0, timeout=TURN + 3)
        for task in collectors:
            task.cancel()
    assert [a["type"] for a in answers] == ["ack"] * 3 * ROUNDS, answers
    for frames in seen:
        rounds = [(arrived, f) for arrived, f in frames if f["type"] == "round"]
        assert [f["round"] for _, f in rounds] == list(range(1, ROUNDS + 1))
        for arrived, frame in rounds:
            due = round_start(frame["round"])
            assert due <= dt.datetime.fromisoformat(frame["at"]) < due + ON_TIME
            assert arrived - due < ON_TIME, (frame["round"], arrived - due)
    for communicator in [*watchers, *bidders.values()]:
        await communicator.disconnect()


def test_the_clock_begins_each_round_when_no_room_is_open(agent, staff):
    world = make_world(agent, staff, format="rounds", rounds=3, turn_seconds=60, pause_seconds=30)
    for user, price in zip(world.bidders, INITIAL, strict=True):
        with time_machine.travel(START - dt.timedelta(minutes=5), tick=False):
            services.place_bid(world.actor(user), world.auction, price, uuid.uuid4().hex)
    length = dt.timedelta(seconds=30 + 3 * 60)
    for number in (1, 2, 3):
        with time_machine.travel(START + (number - 1) * length, tick=False):
            run_due()
        rounds = AuctionEvent.objects.filter(auction=world.auction, kind="round")
        assert rounds.count() == number
        assert rounds.order_by("-seq")[0].at == START + (number - 1) * length
    # The third round is the last: the clock's next task for the auction is its close.
    assert not ScheduledTask.objects.filter(step=services.ROUND_STEP, done_at__isnull=True).exists()
    with time_machine.travel(START + 3 * length, tick=False):
        run_due()
    assert Auction.objects.get(pk=world.auction.pk).status == Auction.Status.CLOSED
