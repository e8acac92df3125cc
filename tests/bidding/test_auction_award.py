"""From the auction's result to the award: the agent publishes the ranking as the candidate publicity,
a participant may object inside it, and after the 3 days the award notice goes to rank 1 — then, when
rank 1 refuses to sign, to rank 2. The same `bidding.evaluation` path as a sealed tender."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.actors import Actor
from audit.models import AuditEvent
from audit.services import verify_chain
from bidding import evaluation as ev
from bidding.auction import services
from bidding.models import Auction, Publicity, PublicityObjection
from lib.errors import Conflict, NotPermitted
from tests.bidding.auction_results import CLOSE, at, closed_world
from tests.bidding.auction_world import START, make_world
from trading.models import Announcement

pytestmark = pytest.mark.django_db


def test_the_result_is_awarded_to_rank_one_then_after_a_refusal_to_rank_two(agent, staff, api):
    world = closed_world(agent, staff)
    a, b, c = world.bidders
    as_agent = Actor.for_user(agent)
    with at(CLOSE + dt.timedelta(minutes=5)):
        publicity = services.publish_result(as_agent, world.auction)
    assert [(x["rank"], x["organization"], x["price"]) for x in publicity.candidates] == [
        (1, c.organization_id, "955000.00"),
        (2, a.organization_id, "969000.00"),
        (3, b.organization_id, "974000.00"),
    ]
    notice = Announcement.objects.filter(
        project=world.project, kind=Announcement.Kind.CANDIDATES
    ).get()
    body = notice.versions.order_by("-pk").first().body
    assert "955000.00" in body and world.auction.closing_audit_hash in body

    # The public reads the candidates through the same API as a tender's (no evaluation scores).
    response = api().get(reverse("api_publicity", args=[world.lot.pk]))
    assert response.status_code == 200, response.content
    assert [row["price"] for row in response.json()["candidates"]] == [
        "955000.00",
        "969000.00",
        "974000.00",
    ]
    page = api().get(reverse("bidding_lot", args=[world.lot.pk]))
    assert page.status_code == 200 and "955,000.00" in page.content.decode()

    # A participant of the auction may object inside the publicity (it has no sealed Bid).
    with at(publicity.published_at + dt.timedelta(hours=1)):
        response = api(b).post(
            reverse("api_publicity_objections", args=[world.lot.pk]),
            {"text": "请核实第一名的报价是否低于成本。"},
            format="json",
        )
        assert response.status_code == 201, response.content
        objection = PublicityObjection.objects.get(pk=response.json()["id"])
        with pytest.raises(NotPermitted):
            ev.object_to_candidates(Actor.for_user(agent), publicity, text="代理不能异议")
    with at(publicity.published_at + dt.timedelta(hours=2)):
        ev.reply_candidate_objection(as_agent, objection, reply="经核实，报价有效。")
    publicity.refresh_from_db()

    # Not before the publicity ends (moved by the suspension while the objection was open).
    with at(publicity.ends_at - dt.timedelta(minutes=1)), pytest.raises(Conflict):
        ev.issue_award(as_agent, world.lot)
    with at(publicity.ends_at):
        awarded = ev.issue_award(as_agent, world.lot)
    assert awarded.winner_id == c.organization_id
    browser = Client()
    browser.force_login(c)
    with at(publicity.ends_at + dt.timedelta(minutes=1)):
        pdf = browser.get(reverse("award_notice_pdf", args=[world.lot.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    notice_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "经网上竞价" in notice_text and "评标委员会" not in notice_text

    with at(publicity.ends_at + dt.timedelta(days=2)):
        ev.record_refusal(as_agent, world.lot, reason="第一名以报价失误为由拒签合同。")
        again = ev.issue_award(as_agent, world.lot)
    assert again.winner_id == a.organization_id and again.refused == [c.organization_id]
    assert Publicity.objects.get(lot=world.lot).status == Publicity.Status.AWARDED
    actions = list(
        AuditEvent.objects.filter(
            action__in=[
                "bidding.auction.result_published",
                "bidding.award.issued",
                "bidding.award.refused",
            ]
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "bidding.auction.result_published",
        "bidding.award.issued",
        "bidding.award.refused",
        "bidding.award.issued",
    ]
    assert verify_chain().ok


def test_only_a_closed_auction_is_published_once_by_its_agent(agent, staff, supervisor):
    world = make_world(agent, staff)
    with at(START + dt.timedelta(seconds=5)), pytest.raises(Conflict) as live:
        services.publish_result(Actor.for_user(agent), Auction.objects.get(pk=world.auction.pk))
    assert live.value.code == "WRONG_STATUS"
    world = closed_world(agent, staff)
    with at(CLOSE), pytest.raises(NotPermitted):
        services.publish_result(Actor.for_user(supervisor), world.auction)
    with at(CLOSE):
        services.publish_result(Actor.for_user(agent), world.auction)
        with pytest.raises(Conflict) as twice:
            services.publish_result(Actor.for_user(agent), world.auction)
    assert twice.value.code == "ALREADY_PUBLISHED"
