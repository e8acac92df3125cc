"""A sealed tender's events reach exactly the people concerned, once each, and no notice shows its reader
another bidder's name or price, or who sits on the committee."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.actors import Actor
from bidding import services
from bidding.models import Bid, Opening, Publicity
from experts.models import Expert
from notifications.models import Notice
from tests.bidding.world import PRICES, build, price_texts, travel
from tests.notifications.helpers import per_person, shown, who

pytestmark = pytest.mark.django_db

BIDDERS = {"owner", "other", "third"}


def test_each_event_of_the_journey_reaches_exactly_the_people_concerned(users):
    world = build(users, "awarded")
    names = {role: users[role].username for role in users}
    bidders = {names[r] for r in BIDDERS}
    members = {m.username for m in world.members}

    # A bid receipt goes to its own bidder only, one per bid (not the agent, not another bidder).
    assert per_person("bid.receipt") == dict.fromkeys(bidders, 1)
    for role in BIDDERS:
        receipt = Notice.objects.get(kind="bid.receipt", recipient=users[role])
        assert receipt.params["receipt"] == world.bids[role].receipt_sha256

    # The opening's decryption window is a legal deadline for each bidder with a bid to decrypt.
    opening = Opening.objects.get(lot=world.lot)
    started = Notice.objects.filter(kind="opening.started")
    assert {n.recipient.username for n in started} == bidders
    assert all(n.legal and n.due_at == opening.decryption_until for n in started)

    assert who("opening.result") == bidders | {names["agent"]}
    assert who("evaluation.started") == members
    assert who("candidates.published") == bidders | {names["agent"]}
    # The winner learns it won; the others only that the result is out; the contract is due for
    # the winner and the agent.
    publicity = Publicity.objects.get(lot=world.lot)
    assert who("award.won") == {names["owner"]}
    assert who("award.notified") == {names["other"], names["third"]}
    due = Notice.objects.filter(kind="contract.due")
    assert {n.recipient.username for n in due} == {names["owner"], names["agent"]}
    assert all(n.legal and n.due_at == publicity.contract_due_at for n in due)
    # Nobody outside: another project's agent, an expert not on the committee, center staff.
    for role in ("agent2", "outsider", "staff"):
        assert not Notice.objects.filter(recipient=users[role]).exists(), role


def test_the_opening_run_again_by_the_clock_notifies_nobody_twice(users):
    world = build(users, "decrypting", owner_decrypts=False)
    before = Notice.objects.count()
    with travel(world.deadline + dt.timedelta(minutes=1, seconds=30)):
        services.open_lot(Actor.system("clock"), world.lot)  # a retry: the opening exists
    assert Notice.objects.count() == before
    opening = Opening.objects.get(lot=world.lot)
    with travel(opening.decryption_until + dt.timedelta(minutes=1)):
        services.finish_opening(Actor.system("clock"), world.lot)
        services.finish_opening(Actor.system("clock"), world.lot)
    # Nobody decrypted: fewer than three valid bids, 流标 — told once, to the bidders and the agent.
    assert per_person("lot.failed") == {
        users[r].username: 1 for r in ("owner", "other", "third", "agent")
    }
    assert not Notice.objects.filter(kind="opening.result").exists()


def test_a_withdrawn_bidder_hears_nothing_of_the_opening(users):
    world = build(users, "bidding")
    with travel(world.deadline - dt.timedelta(hours=1)):
        services.withdraw_bid(world.actor("third"), world.bid("third"))
    with travel(world.deadline + dt.timedelta(minutes=1)):
        services.open_lot(Actor.system("clock"), world.lot)
    # Two bids left: 流标, told to the two bidders and the agent, not to the one that withdrew.
    assert who("lot.failed") == {users[r].username for r in ("owner", "other", "agent")}
    assert Bid.objects.get(pk=world.bids["third"].pk).status == Bid.Status.WITHDRAWN


def test_no_notice_reveals_what_its_reader_may_not_see(users):
    """The permission matrix over every notice of the journey: a bidder's notices name no other
    bidder and no price but its own; the agent's and the committee's name no bidder and no price (the
    pages they link to show what the rules allow); expert names reach nobody but the expert."""
    world = build(users, "awarded")
    orgs = {role: users[role].organization.name for role in BIDDERS}
    expert_names = list(Expert.objects.values_list("name", flat=True))
    notices = list(Notice.objects.select_related("recipient"))
    assert len(notices) > 20
    role_of = {u.pk: role for role, u in users.items()}
    for member in world.members:
        role_of[member.pk] = "member"
    for notice in notices:
        role = role_of[notice.recipient_id]
        text = shown(notice)
        for bidder in BIDDERS:
            if bidder == role:
                continue
            assert orgs[bidder] not in text, (role, notice.kind, text)
            for price in price_texts(PRICES[bidder]):
                assert price not in text, (role, notice.kind, text)
        if role != "member":
            for name in expert_names:
                assert name not in text, (role, notice.kind, text)
