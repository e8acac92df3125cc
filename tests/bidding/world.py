"""One lot carried through every stage of sealed bidding with the real services and travelled time, and
the people around it, for the page, API, PDF and permission tests.

Roles (ROLES): anonymous; `owner` — the supplier whose bid is the lowest and wins; `other` — another
bidder on the same lot; `agent` of the project; `agent2`, agent of another project; center `staff`;
`supervisor`; `member` of the committee; `outsider`, an expert not on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import time_machine
from django.test import Client
from rest_framework.test import APIClient

from accounts.actors import Actor
from accounts.models import Organization, Role, User
from bidding import evaluation as ev
from bidding import services
from bidding.models import Bid, Publicity
from experts import services as experts
from experts.models import DrawnExpert, Expert
from tests.conftest import make_org, make_user
from tests.experts.helpers import pool
from tests.trading.factories import beijing, draft, published, timeline
from trading import services as trading

T0 = beijing("2026-03-02 09:00")
CODE = "my-secret-code-123"
# The owner's bid is the lowest, so the owner wins; every price is under the ceiling.
PRICES = {"owner": "34876543.21", "other": "35123456.78", "third": "36012345.67"}
CEILING = "36500000.00"
ROLES = [
    "anonymous",
    "owner",
    "other",
    "agent",
    "agent2",
    "staff",
    "supervisor",
    "member",
    "outsider",
]
STAGES = [
    "bidding",
    "decrypting",
    "opened",
    "evaluating",
    "reported",
    "confirmed",
    "publicity",
    "awarded",
]


def travel(moment: dt.datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def price_texts(*prices: str) -> list[str]:
    """Every way a page could print a price: as stored and with thousands separators."""
    from decimal import Decimal

    texts = []
    for price in prices:
        texts += [price, f"{Decimal(price):,.2f}", price.split(".")[0]]
    return texts


@dataclass
class World:
    project: Any
    lot: Any
    users: dict[str, User]
    bids: dict[str, Bid] = field(default_factory=dict)
    draw: Any = None
    members: list[User] = field(default_factory=list)
    stage: str = "bidding"
    now: dt.datetime | None = None

    @property
    def deadline(self) -> dt.datetime:
        return self.project.bid_deadline

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else self.users[role]

    def api(self, role: str) -> APIClient:
        client = APIClient()
        user = self.user(role)
        if user is not None:
            client.force_authenticate(user)
        return client

    def client(self, role: str) -> Client:
        client = Client()
        user = self.user(role)
        if user is not None:
            client.force_login(user)
        return client

    def actor(self, role: str) -> Actor:
        return Actor.for_user(self.users[role])

    def bid(self, role: str = "owner") -> Bid:
        return Bid.objects.get(lot=self.lot, organization=self.users[role].organization)

    def at(self) -> Any:
        return travel(self.now)


def people(staff: User, supervisor: User, agent: User, supplier: User, other: User, expert: User):
    third = make_user("third", Role.SUPPLIER, make_org(Organization.Kind.SUPPLIER, "丙建设公司"))
    agent2 = make_user("agent2", Role.AGENT, make_org(Organization.Kind.AGENT, "另一招标代理"))
    return {
        "staff": staff,
        "supervisor": supervisor,
        "agent": agent,
        "agent2": agent2,
        "owner": supplier,
        "other": other,
        "third": third,
        "outsider": expert,
    }


def build(
    users: dict[str, User],
    stage: str = "bidding",
    *,
    files: list[Any] | None = None,
    owner_decrypts: bool = True,
) -> World:
    """The lot at `stage` (one of STAGES); `world.now` is a moment inside that stage. At
    "decrypting" the owner has decrypted its bid (unless `owner_decrypts` is false), the others not."""
    lots = [
        {
            "name": "施工",
            "estimate": "38000000.00",
            "ceiling_price": CEILING,
            "deposit_amount": "0",
        }
    ]
    with travel(T0):
        project = published(
            users["agent"],
            users["staff"],
            start=T0 + dt.timedelta(minutes=1),
            lots=lots,
            **timeline(T0 + dt.timedelta(minutes=1)),
        )
        # agent2 runs a project of its own (an agent, just not this project's).
        draft(users["agent2"], start=T0 + dt.timedelta(days=1))
    lot = project.lots.get()
    world = World(project=project, lot=lot, users=dict(users))
    with travel(T0 + dt.timedelta(hours=1)):
        for role in ("owner", "other", "third"):
            trading.register(Actor.for_user(users[role]), lot)
    with travel(T0 + dt.timedelta(days=3)):
        for role in ("owner", "other", "third"):
            world.bids[role] = services.submit_bid(
                Actor.for_user(users[role]),
                lot,
                price=PRICES[role],
                decryption_code=CODE,
                files=files if role == "owner" else None,
            )
    _committee(world)
    world.now = project.bid_deadline - dt.timedelta(hours=12)
    if STAGES.index(stage) >= STAGES.index("decrypting"):
        deadline = project.bid_deadline
        with travel(deadline + dt.timedelta(minutes=1)):
            services.open_lot(Actor.system("test"), lot)
            if owner_decrypts or stage != "decrypting":
                services.decrypt_bid(world.actor("owner"), world.bid("owner"), decryption_code=CODE)
        world.now = deadline + dt.timedelta(minutes=2)
    if STAGES.index(stage) >= STAGES.index("opened"):
        with travel(deadline + dt.timedelta(minutes=3)):
            for role in ("other", "third"):
                services.decrypt_bid(world.actor(role), world.bid(role), decryption_code=CODE)
        world.now = deadline + dt.timedelta(minutes=5)
    if STAGES.index(stage) >= STAGES.index("evaluating"):
        with travel(deadline + dt.timedelta(hours=2)):
            ev.start_evaluation(world.actor("staff"), lot, draw=world.draw, scheme="lowest_price")
        world.now = deadline + dt.timedelta(hours=2, minutes=5)
    if STAGES.index(stage) >= STAGES.index("reported"):
        with travel(deadline + dt.timedelta(hours=3)):
            for member in world.members:
                for bid in Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED):
                    ev.score_bid(Actor.for_user(member), bid, compliant=True)
            ev.compile_report(world.actor("staff"), lot)
        world.now = deadline + dt.timedelta(hours=3, minutes=5)
    if STAGES.index(stage) >= STAGES.index("confirmed"):
        with travel(deadline + dt.timedelta(hours=4)):
            for member in world.members:
                ev.confirm_report(Actor.for_user(member), lot)
        world.now = deadline + dt.timedelta(hours=4, minutes=5)
    if STAGES.index(stage) >= STAGES.index("publicity"):
        with travel(deadline + dt.timedelta(hours=5)):
            ev.publish_candidates(world.actor("agent"), lot)
        world.now = deadline + dt.timedelta(hours=5, minutes=5)
    if STAGES.index(stage) >= STAGES.index("awarded"):
        ends = Publicity.objects.get(lot=lot).ends_at
        with travel(ends + dt.timedelta(minutes=1)):
            ev.issue_award(world.actor("agent"), lot)
        world.now = ends + dt.timedelta(minutes=5)
    world.stage = stage
    project.refresh_from_db()
    return world


def _committee(world: World) -> None:
    """A signed-off draw of five members, each linked to a login; `member` is the first of them."""
    staff, supervisor = world.users["staff"], world.users["supervisor"]
    pool(staff, count=8)
    with travel(world.project.bid_deadline - dt.timedelta(days=1)):
        draw = experts.commit_draw(
            Actor.for_user(staff),
            world.project,
            evaluation_at=world.project.bid_deadline + dt.timedelta(hours=2),
            committee_size=5,
            quotas=[{"specialty": "A08", "count": 5}],
            supervisor=supervisor,
        )
        experts.run_draw(Actor.for_user(staff), draw)
        experts.sign_off(Actor.for_user(supervisor), draw)
    for i, seat in enumerate(
        DrawnExpert.objects.filter(draw=draw, seated=True).select_related("expert")
    ):
        user = make_user(f"member{i}", Role.EXPERT, seat.expert.employer)
        Expert.objects.filter(pk=seat.expert_id).update(user=user)
        world.members.append(user)
    world.draw = draw
    world.users["member"] = world.members[0]
