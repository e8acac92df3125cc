"""Who is behind an alias, on every read path, for every view: a matrix.

Views: the public, a bidder (its own identity is its own), another bidder, center staff, the project's
agent, a supervisor. Paths: REST (the room's detail by id and by lot, the land listing's detail, lists
and lottery record), the room's socket (`state` and events), pages (the room, the lists, the land
listing and its status JSON, the supervision dashboard's JSON), PDFs (the room's result, the land
documents, the audit report), exports (the timeline, OCDS, the evidence package) and the replay.

Rooms: an open auction live, a rounds auction live, the same open auction closed, and a land listing
in its listing phase, its live phase (the listing room closed, live bidding running) and decided.

The rule (`bidding.auction.services.identified`, docs/realtime-protocol.md): supervisors see every
identity live; everyone else sees aliases until a procurement auction closes, when every identity is
published; a land listing's aliases stand for everyone but supervisors until its result, which names
the winner only. Every read also leaves the database as it found it (reads never write).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding.auction import hub, services
from bidding.land import services as land
from bidding.models import Auction, AuctionEvent, AuctionParticipant
from tests.bidding.auction_world import START, make_world
from tests.bidding.land_world import LISTING_END, LISTING_START, make_land_world
from tests.bidding.test_auction_socket import open_room

VIEWS = ("public", "bidder", "other_bidder", "staff", "agent", "supervisor")
DAY = dt.timedelta(days=1)


@dataclass
class Room:
    """One room in one state, the moment to read it at, and what each view may know."""

    name: str
    at: dt.datetime
    users: dict[str, Any]
    names: dict[
        str, str
    ]  # organization name → the view it belongs to ("bidder", "other_bidder", …)
    auctions: list[Auction]
    lots: list[int]
    projects: list[Any]
    listing: Any = None
    # Names every view may read (a procurement auction after its close; a land listing's winner).
    published: set[str] = field(default_factory=set)

    def hidden_from(self, view: str) -> set[str]:
        if view == "supervisor":
            return set()
        return {name for name, owner in self.names.items() if owner != view} - self.published


def bid(world, user, price: str, at: dt.datetime, auction=None):
    auction = auction or world.auction
    with time_machine.travel(at, tick=False):
        actor = Actor.for_user(user, ip=f"10.0.0.{user.pk % 250}")
        answer = services.place_bid(actor, auction, price, uuid.uuid4().hex)
    assert answer.accepted, answer
    return answer


def advance(auction_ids, at: dt.datetime, listing=None) -> None:
    """Run what the clock runs: every due transition, before anything is read."""
    with time_machine.travel(at, tick=False):
        for auction_id in auction_ids:
            services.advance(Actor.system("clock"), auction_id)
        if listing is not None:
            land.advance(Actor.system("clock"), listing.pk)


def people(world, staff, agent, supervisor) -> dict[str, Any]:
    return {
        "public": None,
        "bidder": world.bidders[0],
        "other_bidder": world.bidders[1],
        "staff": staff,
        "agent": agent,
        "supervisor": supervisor,
    }


def owners(world) -> dict[str, str]:
    roles = ["bidder", "other_bidder"] + ["third"] * (len(world.bidders) - 2)
    return {u.organization.name: role for u, role in zip(world.bidders, roles, strict=True)}


def open_auction(agent, staff, supervisor, *, closed: bool) -> Room:
    world = make_world(agent, staff, public_view=True)
    a, b, c = world.bidders
    bid(world, a, "990000.00", START + dt.timedelta(seconds=10))
    bid(world, b, "985000.00", START + dt.timedelta(seconds=20))
    bid(world, c, "980000.00", START + dt.timedelta(seconds=30))
    at = START + dt.timedelta(seconds=40)
    if closed:
        at = START + dt.timedelta(seconds=700)
        advance([world.auction.pk], at)
    names = owners(world)
    return Room(
        name="open auction " + ("closed" if closed else "live"),
        at=at,
        users=people(world, staff, agent, supervisor),
        names=names,
        auctions=[world.auction],
        lots=[world.lot.pk],
        projects=[world.project],
        # The close publishes every identity (and the result PDF, to those who may read it).
        published=set(names) if closed else set(),
    )


def rounds_auction(agent, staff, supervisor) -> Room:
    world = make_world(agent, staff, format="rounds", rounds=3, turn_seconds=60, pause_seconds=30)
    for user, price in zip(world.bidders, ("990000.00", "980000.00", "985000.00"), strict=True):
        bid(world, user, price, START - dt.timedelta(minutes=5))
    at = START + dt.timedelta(seconds=40)
    advance([world.auction.pk], at)
    order = AuctionEvent.objects.get(auction=world.auction, kind="round").data["turns"]
    first = world.auction.participants.get(alias=order[0]["alias"]).organization
    user = next(u for u in world.bidders if u.organization == first)
    bid(world, user, "970000.00", at)
    return Room(
        name="rounds auction live",
        at=at + dt.timedelta(seconds=1),
        users=people(world, staff, agent, supervisor),
        names=owners(world),
        auctions=[world.auction],
        lots=[world.lot.pk],
        projects=[world.project],
    )


def land_listing(agent, staff, supervisor, *, stage: str) -> Room:
    world = make_land_world(agent, staff, bidders=3)
    a, b, _ = world.bidders
    listing_room = world.phase("listing")
    bid(world, a, "100000000.00", LISTING_START + 2 * DAY, listing_room)
    bid(world, b, "101000000.00", LISTING_START + 3 * DAY, listing_room)
    at = LISTING_START + 4 * DAY
    published: set[str] = set()
    if stage in ("live", "decided"):
        end = LISTING_END + dt.timedelta(seconds=1)
        world.advance(end)
        world.respond(a, end + dt.timedelta(seconds=10))
        world.respond(b, end + dt.timedelta(seconds=20))
        live = world.phase("live")
        at = end + dt.timedelta(seconds=30)
        bid(world, a, "102000000.00", at, live)
        if stage == "decided":
            at = end + dt.timedelta(seconds=30 + 241)
            world.advance(at)
            assert world.refresh().winner == a.organization
            published = {a.organization.name}  # the deal announcement names the winner
    return Room(
        name=f"land listing {stage}",
        at=at + dt.timedelta(seconds=1),
        users=people(world, staff, agent, supervisor),
        names=owners(world),
        auctions=list(Auction.objects.filter(lot=world.lot).order_by("pk")),
        lots=[world.lot.pk],
        projects=[world.project],
        listing=world.listing,
        published=published,
    )


ROOMS: dict[str, Callable[..., Room]] = {
    "open_live": lambda *p: open_auction(*p, closed=False),
    "open_closed": lambda *p: open_auction(*p, closed=True),
    "rounds_live": rounds_auction,
    "land_listing": lambda *p: land_listing(*p, stage="listing"),
    "land_live": lambda *p: land_listing(*p, stage="live"),
    "land_decided": lambda *p: land_listing(*p, stage="decided"),
}


# --- Reading ----------------------------------------------------------------------------------------


def http_paths(room: Room) -> list[str]:
    urls = []
    for auction in room.auctions:
        urls += [
            reverse("api_auction", args=[auction.pk]),
            reverse("api_auction_timeline", args=[auction.pk]),
            reverse("auction_room", args=[auction.pk]),
            reverse("auction_result_pdf", args=[auction.pk]),
            reverse("supervision_replay", args=[auction.pk]),
        ]
    for lot in room.lots:
        if room.listing is None:
            urls.append(reverse("api_lot_auction", args=[lot]))
        else:
            urls.append(reverse("api_lot_land_listing", args=[lot]))
    for project in room.projects:
        urls += [
            reverse("api_ocds_package", args=[project.ocid]),
            reverse("supervision_report", args=[project.pk]),
            reverse("supervision_evidence", args=[project.pk]),
        ]
    urls += [reverse("auction_list"), reverse("supervision_live")]
    if room.listing is not None:
        pk = room.listing.pk
        urls += [
            reverse("api_land_listing", args=[pk]),
            reverse("api_land_listings"),
            reverse("api_land_lottery", args=[pk]),
            reverse("land_listing", args=[pk]),
            reverse("land_status", args=[pk]),
            reverse("land_list"),
            reverse("land_qualification_pdf", args=[pk]),
            reverse("land_confirmation_pdf", args=[pk]),
        ]
    return urls


def readable_text(response) -> str:
    """What a reader gets, as text: JSON re-encoded without escapes, PDF text, every file of a ZIP."""
    kind = response.get("Content-Type", "")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith("application/pdf"):
        return pdf_text(content)
    if kind.startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "".join(
                pdf_text(data) if name.endswith(".pdf") else data.decode("utf-8", "replace")
                for name in archive.namelist()
                for data in [archive.read(name)]
            )
    if "json" in kind:
        return json.dumps(json.loads(content), ensure_ascii=False)
    return content.decode()


def pdf_text(content: bytes) -> str:
    return re.sub(
        r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    )


def chain_head() -> tuple[int, int]:
    return AuditEvent.objects.count(), AuctionEvent.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", list(ROOMS))
def test_every_http_read_path_hides_identities_until_the_rule_reveals_them(
    scenario, agent, staff, supervisor
):
    room = ROOMS[scenario](agent, staff, supervisor)
    before = chain_head()
    seen: dict[str, str] = {}
    with time_machine.travel(room.at, tick=False):
        for view in VIEWS:
            client = Client()
            if room.users[view] is not None:
                client.force_login(room.users[view])
            for url in http_paths(room):
                response = client.get(url)
                assert response.status_code < 500, (view, url, response.status_code)
                if response.status_code != 200:
                    continue
                text = readable_text(response)
                leaked = {name for name in room.hidden_from(view) if name in text}
                assert not leaked, (scenario, view, url, leaked)
                seen[view] = seen.get(view, "") + text
    # Where the rule says a name shows, it does: supervisors always, everyone after a procurement
    # auction's close, the winner once a land listing is decided.
    assert all(name in seen["supervisor"] for name in room.names)
    for view in VIEWS:
        assert all(name in seen[view] for name in room.published), (view, room.published)
    assert chain_head() == before, "a read wrote to the database"


# --- The socket ---------------------------------------------------------------------------------------


@pytest.fixture
def _close_hubs():
    yield
    hub.close_all()


def place(user, auction: Auction, price: str) -> services.BidAnswer:
    actor = Actor.for_user(user, ip=f"10.0.0.{user.pk % 250}")
    return services.place_bid(actor, auction, price, uuid.uuid4().hex)


async def socket_reads(room: Room, view: str, bidder) -> str:
    """The `state` of every room of `room` for `view`, then the event of one more accepted bid."""
    texts = []
    user = room.users[view]
    with time_machine.travel(room.at, tick=True):
        for auction in room.auctions:
            try:
                communicator, state = await open_room(auction.pk, user)
            except AssertionError:  # not allowed in: the handshake is refused (4404)
                continue
            texts.append(json.dumps(state, ensure_ascii=False))
            if auction.status == "live" and auction == room.auctions[-1]:
                price = state["auction"]["allowed_bid"]
                answer = await sync_to_async(place)(bidder, auction, price)
                assert answer.accepted, answer
                while True:
                    frame = json.loads(await communicator.receive_from(5))
                    texts.append(json.dumps(frame, ensure_ascii=False))
                    if frame["type"] == "bid":
                        break
            await communicator.disconnect()
    return "".join(texts)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_hubs")
@pytest.mark.parametrize("scenario", ["open_live", "land_listing", "land_live"])
async def test_the_socket_state_and_events_hide_identities_for_every_view(
    scenario, agent, staff, supervisor
):
    room = await sync_to_async(ROOMS[scenario])(agent, staff, supervisor)
    for view in VIEWS:
        # The next bid comes from the view's own bidder where it has one, else from the other.
        bidder = room.users["other_bidder" if view == "bidder" else "bidder"]
        text = await socket_reads(room, view, bidder)
        if view == "supervisor":  # every seated bidder, by name
            seated = await sync_to_async(
                lambda: set(
                    AuctionParticipant.objects.filter(auction__in=room.auctions)
                    .exclude(alias="")
                    .values_list("organization__name", flat=True)
                )
            )()
            assert seated and all(name in text for name in seated)
            continue
        leaked = {name for name in room.hidden_from(view) if name in text}
        assert not leaked, (scenario, view, leaked)
