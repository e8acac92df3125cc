"""A 竞争性磋商 lot after its opening, carried to a stage of its negotiation with the real services and
travelled time, and the people around it, for the negotiation API, page and permission tests.

Roles (ROLES): anonymous; `in` — a supplier still in (it gives a final quote); `out` — a supplier
put out in round 1; `other` — a supplier with no response on the lot; the project's `agent`; center
`staff`; `supervisor`; a panel `member`; `outsider`, an expert not on the panel. Stages (STAGES):
`seated` (the panel sits, no round yet), `negotiating` (round 1 published), `quoting` (the call is
out; `in` and one more supplier quoted), `opened` (the clock opened the final quotes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from accounts.actors import Actor
from accounts.models import User
from bidding import negotiation
from lib.errors import present
from tests.bidding.test_negotiation import AT, negotiated, seat_panel, travel

ROLES = ["anonymous", "in", "out", "other", "agent", "staff", "supervisor", "member", "outsider"]
STAGES = ["seated", "negotiating", "quoting", "opened"]
CHANGES = "交货期由 30 日调整为 45 日；付款方式改为验收后一次付清。"
# Final quotes no page or answer may show before the close.
QUOTES = {"in": "861234.56", "second": "872345.67"}
CLOSES = AT + dt.timedelta(hours=2)


@dataclass
class NegotiationWorld:
    lot: Any
    users: dict[str, User]
    suppliers: list[User]
    members: list[User]
    stage: str
    now: dt.datetime

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else self.users[role]

    def api(self, role: str) -> APIClient:
        client = APIClient()
        if (user := self.user(role)) is not None:
            client.force_authenticate(user)
        return client

    def client(self, role: str) -> Client:
        client = Client()
        if (user := self.user(role)) is not None:
            client.force_login(user)
        return client

    def org(self, role: str) -> int:
        return present(self.users[role].organization_id, "a party's organization")

    def at(self) -> Any:
        return travel(self.now)


def build(agent, staff, supervisor, supplier, expert, stage: str) -> NegotiationWorld:
    world = negotiated(
        agent, staff, supervisor, "consultation", ["900000", "880000", "910000", "930000"]
    )
    seat_panel(world, staff, scheme="comprehensive", weight="0.30")
    lot = world["lot"]
    a, b, _c, d = world["suppliers"]
    users = {
        "in": a,
        "out": d,
        "other": supplier,
        "agent": agent,
        "staff": staff,
        "supervisor": supervisor,
        "member": world["members"][0],
        "outsider": expert,
    }
    now = AT + dt.timedelta(minutes=10)
    if STAGES.index(stage) >= STAGES.index("negotiating"):
        with travel(AT + dt.timedelta(minutes=20)):
            negotiation.publish_round(
                Actor.for_user(staff), lot, changes=CHANGES, excluded=[d.organization_id]
            )
        now = AT + dt.timedelta(minutes=25)
    if STAGES.index(stage) >= STAGES.index("quoting"):
        with travel(AT + dt.timedelta(minutes=30)):
            negotiation.call_final_quotes(Actor.for_user(staff), lot, closes_at=CLOSES)
        with travel(AT + dt.timedelta(minutes=40)):
            negotiation.submit_final_quote(Actor.for_user(a), lot, price=QUOTES["in"])
            negotiation.submit_final_quote(Actor.for_user(b), lot, price=QUOTES["second"])
        now = AT + dt.timedelta(minutes=45)
    if stage == "opened":
        with travel(CLOSES):
            negotiation.open_final_quotes(Actor.system("test"), lot)
        now = CLOSES + dt.timedelta(minutes=5)
    return NegotiationWorld(
        lot=lot,
        users=users,
        suppliers=world["suppliers"],
        members=world["members"],
        stage=stage,
        now=now,
    )
