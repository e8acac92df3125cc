"""待办: each person's list of what needs their action and by when (notifications.todo), on the home page
and at /api/v1/todo/, built from the real state of the tender (tests/bidding/world.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.actors import Actor
from bidding import evaluation as ev
from bidding import services
from notifications.todo import TodoItem, items_for
from tests.bidding.world import CODE, T0, World, build, travel
from tests.trading.factories import published, timeline
from trading import services as trading

pytestmark = pytest.mark.django_db


def moment(world: World) -> dt.datetime:
    assert world.now is not None
    return world.now


def keys(user, now):
    return [item.key for item in items_for(user, now)]


def api_list(user, now):
    client = APIClient()
    client.force_authenticate(user)
    with travel(now):
        response = client.get("/api/v1/todo/")
    assert response.status_code == 200
    return response.json()


def test_a_registered_bidder_must_submit_its_bid_until_it_has(users):
    with travel(T0):
        project = published(
            users["agent"],
            users["staff"],
            start=T0 + dt.timedelta(minutes=1),
            lots=[{"name": "施工", "estimate": "38000000.00", "deposit_amount": "0"}],
            **timeline(T0 + dt.timedelta(minutes=1)),
        )
    lot = project.lots.get()
    deadline = project.bid_deadline
    assert deadline is not None
    owner, other = users["owner"], users["other"]
    later = T0 + dt.timedelta(hours=2)
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(owner), lot)
    submit = f"bid.submit:lot:{lot.pk}:org:{owner.organization_id}"
    item = next(i for i in items_for(owner, later) if i.key == submit)
    assert item.due_at == project.bid_deadline and item.legal
    assert item.url == f"/bidding/lots/{lot.pk}/bid/"
    # Nobody else is asked to act on the owner's registration.
    for role in ("other", "agent", "staff", "supervisor", "outsider"):
        assert submit not in keys(users[role], later), role
    assert not any(i.key.startswith("bid.submit") for i in items_for(other, later))

    with travel(T0 + dt.timedelta(days=3)):
        services.submit_bid(Actor.for_user(owner), lot, price="35000000.00", decryption_code=CODE)
    assert submit not in keys(owner, T0 + dt.timedelta(days=3, hours=1))
    # After the deadline there is nothing left to submit.
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(other), lot)
    assert submit.replace(str(owner.organization_id), str(other.organization_id)) in keys(
        other, later
    )
    assert not any(
        k.startswith("bid.submit") for k in keys(other, deadline + dt.timedelta(seconds=1))
    )


def test_the_opening_asks_each_bidder_to_decrypt_until_it_has(users):
    world = build(users, "decrypting", owner_decrypts=False)
    lot = world.lot
    opening = lot.opening
    key = f"bid.decrypt:lot:{lot.pk}:org:{users['other'].organization_id}"
    items = items_for(users["other"], moment(world))
    decrypt = next(i for i in items if i.key == key)
    assert decrypt.due_at == opening.decryption_until and decrypt.legal
    assert str(decrypt.action) == "解密投标文件"
    assert key not in keys(users["owner"], moment(world))
    with travel(moment(world)):
        services.decrypt_bid(world.actor("other"), world.bid("other"), decryption_code=CODE)
    assert key not in keys(users["other"], moment(world))
    # The agent follows the opening while it runs.
    assert f"opening.run:lot:{lot.pk}" in keys(users["agent"], moment(world))
    assert f"opening.run:lot:{lot.pk}" not in keys(users["agent2"], moment(world))


def test_each_expert_signs_the_report_until_it_has(users):
    world = build(users, "reported")
    member = world.users["member"]
    sign = [k for k in keys(member, moment(world)) if k.startswith("evaluation.sign:")]
    assert len(sign) == 1
    assert not any(k.startswith("evaluation.sign:") for k in keys(users["outsider"], moment(world)))
    with travel(moment(world)):
        ev.confirm_report(Actor.for_user(member), world.lot)
    assert not any(k.startswith("evaluation.sign:") for k in keys(member, moment(world)))


def test_the_winner_accepts_the_award_and_signs_the_contract(users):
    world = build(users, "awarded")
    owner_items = {i.key: i for i in items_for(users["owner"], moment(world))}
    contract = next(k for k in owner_items if k.startswith("contract.sign:"))
    assert any(k.startswith("award.accept:") for k in owner_items)
    assert owner_items[contract].due_at is not None and owner_items[contract].legal
    assert contract in keys(users["agent"], moment(world))
    # A losing bidder, and another project's agent, have nothing to do about the award.
    assert not any(
        k.startswith(("award.", "contract.")) for k in keys(users["other"], moment(world))
    )
    assert not any(
        k.startswith(("award.", "contract.")) for k in keys(users["agent2"], moment(world))
    )


def test_ordering_is_overdue_then_soonest_then_undated():
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    rows = [
        TodoItem("undated", "a", "s"),
        TodoItem("later", "a", "s", due_at=now + dt.timedelta(days=2)),
        TodoItem("soon", "a", "s", due_at=now + dt.timedelta(hours=1)),
        TodoItem("overdue", "a", "s", due_at=now - dt.timedelta(hours=1)),
        TodoItem("very-overdue", "a", "s", due_at=now - dt.timedelta(days=1)),
    ]
    ordered = sorted(rows, key=lambda i: i.urgency(now))
    assert [i.key for i in ordered] == ["very-overdue", "overdue", "soon", "later", "undated"]


def test_the_page_and_the_api_show_the_same_list_in_the_same_order(users):
    world = build(users, "decrypting", owner_decrypts=False)
    for role in ("owner", "other", "agent", "member", "staff"):
        user = world.users[role]
        listed = api_list(user, moment(world))
        assert [row["key"] for row in listed] == keys(user, moment(world)), role
        client = Client()
        client.force_login(user)
        with travel(moment(world)):
            page = client.get("/").content.decode()
        assert page.index('data-testid="todo"') < page.index('class="grid"')
        positions = [page.index(f'data-todo-key="{row["key"]}"') for row in listed]
        assert positions == sorted(positions), role
        for row in listed:
            assert row["action"] in page
            if row["due_at"]:
                assert "data-countdown-to=" in page
    # Nobody sees another organization's items.
    other_keys = {row["key"] for row in api_list(users["other"], moment(world))}
    assert other_keys and not other_keys & {
        row["key"] for row in api_list(users["third"], moment(world))
    }


def test_the_api_needs_a_signed_in_user():
    assert APIClient().get("/api/v1/todo/").status_code in (401, 403)
