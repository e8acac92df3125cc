"""Evidence packages are signed as in production: with an installation's own key, not the public
development key (which verify_evidence refuses; tests/supervision/test_evidence.py covers that case)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from accounts.actors import Actor
from bidding.auction import services
from bidding.models import Auction
from supervision import evidence
from tests.bidding.auction_world import START, make_world

TEST_SIGNING_KEY = "5e" * 32


@pytest.fixture(autouse=True)
def _own_evidence_key(settings: Any) -> None:
    settings.EVIDENCE_SIGNING_KEY = TEST_SIGNING_KEY


@pytest.fixture
def package(agent: Any, staff: Any) -> bytes:
    """The evidence package of a project whose live auction took three bids and closed."""
    world = make_world(agent, staff)
    a, b, _ = world.bidders
    for seconds, user, price in ((10, a, "999000.00"), (20, b, "998000.00"), (30, a, "997000.00")):
        with time_machine.travel(START + dt.timedelta(seconds=seconds), tick=False):
            auction = Auction.objects.get(pk=world.auction.pk)
            services.place_bid(world.actor(user), auction, price, f"k{seconds}")
    with time_machine.travel(START + dt.timedelta(seconds=700), tick=False):
        services.advance(Actor.system("clock"), world.auction.pk)
    return evidence.build(world.project)
