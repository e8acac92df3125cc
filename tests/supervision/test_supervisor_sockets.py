"""Supervisors are read-only on the sockets too: whatever they send to the bid room or the clock,
nothing is written."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from asgi import application
from audit.models import AuditEvent
from bidding.auction import hub
from bidding.models import AuctionBid
from tests.bidding.auction_world import START, make_world
from tests.bidding.test_auction_socket import ORIGIN, cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = [
    {"type": "bid", "key": "s1", "price": "999000.00"},
    {"type": "bid", "key": "s2", "price": "1.00"},
    {"type": "sync"},
    {"type": "ping", "t0": 1},
    {"type": "close_auction"},
    {"type": "extend", "seconds": 600},
]


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    hub.close_all()


async def test_a_supervisor_writes_nothing_through_any_socket(agent, staff, supervisor):
    world = await sync_to_async(make_world)(agent, staff)
    cookie = await sync_to_async(cookie_for)(supervisor)
    with time_machine.travel(START + dt.timedelta(seconds=1), tick=True):
        before = await sync_to_async(AuditEvent.objects.count)()
        for path in (f"/ws/auctions/{world.auction.pk}/", "/ws/clock/"):
            socket = WebsocketCommunicator(application, path, headers=[ORIGIN, (b"cookie", cookie)])
            connected, _ = await socket.connect()
            assert connected
            await socket.receive_from(5)  # the state or the clock greeting
            if path == "/ws/clock/":  # a signed-in user's clock socket also tells the unread count
                assert json.loads(await socket.receive_from(5))["type"] == "unread"
            for frame in FRAMES:
                await socket.send_to(text_data=json.dumps(frame))
                answer = json.loads(await socket.receive_from(5))
                if frame["type"] == "bid":
                    assert answer["type"] == "error" and answer["code"] in (
                        "FORBIDDEN",
                        "UNKNOWN_TYPE",
                    )
            await socket.disconnect()
        written = await sync_to_async(
            lambda: list(
                AuditEvent.objects.filter(actor_id=supervisor.pk).values_list("action", flat=True)
            )
        )()
        assert written == []
        # The room's own start may be audited as the system; nothing else was.
        after = await sync_to_async(
            lambda: set(
                AuditEvent.objects.order_by("seq")[before:].values_list("action", flat=True)
            )
        )()
        assert after <= {"bidding.auction.started"}
        assert not await sync_to_async(AuctionBid.objects.exists)()
