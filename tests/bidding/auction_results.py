"""A finished reverse auction for the result tests (PDF, API, award): three bidders, one refused bid,
one anti-sniping extension. Final prices: bidder 3 955000.00 < bidder 1 969000.00 < bidder 2 974000.00."""

from __future__ import annotations

import datetime as dt

import time_machine

from accounts.actors import Actor
from bidding.auction import services
from bidding.models import Auction
from tests.bidding.auction_world import START, make_world

# The last bid (at 560 s, inside the 60 s window before 600 s) moves the end to 680 s.
EXTENDED_END = START + dt.timedelta(seconds=680)
CLOSE = START + dt.timedelta(seconds=700)

BIDS = [  # (seconds after the start, bidder index, price, accepted)
    (10.125, 0, "990000.00", True),  # milliseconds show on the PDF
    (20, 1, "985000.00", True),
    (30, 2, "980000.00", True),
    (40, 0, "975000.00", True),
    (50, 1, "974000.00", True),
    (60, 2, "970000.00", True),
    (70, 0, "969000.00", True),
    (80, 2, "960000.00", True),
    (90, 1, "965000.00", False),  # NOT_IMPROVING
    (560, 2, "955000.00", True),  # in the last minute: extended
]


def at(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def run_bids(world, until: float | None = None) -> None:
    for seconds, index, price, accepted in BIDS:
        if until is not None and seconds > until:
            break
        with at(START + dt.timedelta(seconds=seconds)):
            answer = services.place_bid(
                world.actor(world.bidders[index]),
                Auction.objects.get(pk=world.auction.pk),
                price,
                f"k{seconds}",
            )
        assert answer.accepted is accepted, answer


def closed_world(agent, staff, **rules):
    world = make_world(agent, staff, **rules)
    run_bids(world)
    with at(CLOSE):
        services.advance(Actor.system("clock"), world.auction.pk)
    world.auction = Auction.objects.get(pk=world.auction.pk)
    assert world.auction.status == Auction.Status.CLOSED
    assert world.auction.ends_at == EXTENDED_END
    return world
