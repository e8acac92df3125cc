"""After the award: a refusal (放弃中标/拒签) is told to the refuser and the agent, the next candidate's
award reaches that candidate, and a signed contract is told to the agent and the winner — each once,
none naming another bidder or a price."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bidding import evaluation as ev
from bidding.models import Publicity
from lib.errors import Conflict
from notifications.models import Notice
from tests.bidding.world import PRICES, build, price_texts, travel
from tests.notifications.helpers import per_person, shown, who

pytestmark = pytest.mark.django_db

AFTER_AWARD = ("award.refused", "award.reassign", "contract.signed")


def test_a_refusal_is_told_to_the_refuser_and_the_agent_and_the_next_candidate_is_awarded(users):
    world = build(users, "awarded")
    now = world.now
    assert now is not None
    names = {role: u.username for role, u in users.items()}
    publicity = Publicity.objects.get(lot=world.lot)
    assert publicity.winner_id == users["owner"].organization_id
    with travel(now):
        ev.record_refusal(world.actor("agent"), world.lot, reason="中标人书面放弃中标")
    assert per_person("award.refused") == {names["owner"]: 1}
    assert per_person("award.reassign") == {names["agent"]: 1}
    refused = Notice.objects.get(kind="award.refused")
    assert refused.url == reverse("bidding_lot", args=[world.lot.pk])

    # The next candidate in rank (the second lowest price) is awarded and told so, with its contract
    # deadline; the refuser now hears only that the result is published.
    with travel(now + dt.timedelta(minutes=5)):
        ev.issue_award(world.actor("agent"), world.lot)
    publicity.refresh_from_db()
    assert publicity.winner_id == users["other"].organization_id
    assert per_person("award.won") == {names["owner"]: 1, names["other"]: 1}
    due = Notice.objects.filter(kind="contract.due", recipient=users["other"])
    assert [(n.due_at, n.legal) for n in due] == [(publicity.contract_due_at, True)]
    assert who("award.notified") == {names["other"], names["third"], names["owner"]}
    assert Notice.objects.filter(kind="award.notified", recipient=users["owner"]).count() == 1


def test_a_signed_contract_is_told_to_the_agent_and_the_winner_once(users):
    world = build(users, "awarded")
    now = world.now
    assert now is not None
    names = {role: u.username for role, u in users.items()}
    with travel(now):
        ev.record_contract(world.actor("agent"), world.lot)
    assert per_person("contract.signed") == {names["owner"]: 1, names["agent"]: 1}
    with travel(now), pytest.raises(Conflict):  # recorded once
        ev.record_contract(world.actor("agent"), world.lot)
    assert per_person("contract.signed") == {names["owner"]: 1, names["agent"]: 1}


def test_no_notice_after_the_award_names_another_bidder_or_a_price(users):
    world = build(users, "awarded")
    now = world.now
    assert now is not None
    with travel(now):
        ev.record_refusal(world.actor("agent"), world.lot, reason="中标人书面放弃中标")
    with travel(now + dt.timedelta(minutes=5)):
        ev.issue_award(world.actor("agent"), world.lot)
        ev.record_contract(world.actor("agent"), world.lot)
    orgs = {role: users[role].organization.name for role in ("owner", "other", "third")}
    notices = list(Notice.objects.filter(kind__in=AFTER_AWARD).select_related("recipient"))
    assert {n.kind for n in notices} == set(AFTER_AWARD)
    role_of = {u.pk: role for role, u in users.items()}
    for notice in notices:
        role = role_of[notice.recipient_id]
        text = shown(notice)
        assert "中标人书面放弃中标" not in text, (role, text)  # the recorded facts stay on record
        for bidder, name in orgs.items():
            if bidder != role:
                assert name not in text, (role, notice.kind, text)
                for price in price_texts(PRICES[bidder]):
                    assert price not in text, (role, notice.kind, text)
