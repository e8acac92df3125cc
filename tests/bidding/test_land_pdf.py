"""The land listing's documents read back with pypdf: the 竞买资格确认书 (only for a qualified bidder, its
own content hash printed) and the 成交确认书 (parcel, winner, price, housing area, basis, the closing
audit hash of the last bidding phase, the deposit-to-price rule; for the winner and officials)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.actors import Actor
from bidding.land import pdf, services
from bidding.models import Auction
from lib.pdfsign import unsigned_revision
from tests.bidding.land_world import LISTING_END, LISTING_START, make_land_world
from tests.pdfsigned import assert_platform_signed

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
AFTER_END = LISTING_END + dt.timedelta(seconds=1)


def text_of(content: bytes) -> str:
    """The PDF's text without any whitespace (table cells wrap anywhere)."""
    return re.sub(
        r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    )


def get(user, name: str, listing, at: dt.datetime):
    client = Client()
    if user is not None:
        client.force_login(user)
    with time_machine.travel(at, tick=False):
        return client.get(reverse(name, args=[listing.pk]))


def test_the_qualification_states_the_bidder_parcel_deposit_and_its_own_hash(agent, staff):
    world = make_land_world(agent, staff, bidders=2, paid=1)
    paid, unpaid = world.bidders
    at = LISTING_START + 3 * DAY
    response = get(paid, "land_qualification_pdf", world.listing, at)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert_platform_signed(response.content)
    text = text_of(response.content)
    assert "竞买资格确认书" in text and paid.organization.name in text
    assert paid.organization.uscc in text
    assert "XZ-2026-A01" in text and "珠海市香洲区前山片区" in text and "35,000.00平方米" in text
    assert "20,000,000.00" in text  # the deposit, required and received
    assert "2026-05-2509:00" in text and "2026-06-0516:00" in text  # the listing, Beijing time
    with time_machine.travel(at, tick=False):
        content = pdf.qualification_content(world.listing, paid.organization)
    digest = pdf.sha256(content)
    assert digest in text
    assert content["bidder"]["name"] == paid.organization.name
    assert content["deposit"]["counted"] == "20000000.00"
    # The same document, rendered again, is the same bytes (nothing in it moves with the clock); only
    # the platform's signature appended to it is made anew.
    again = get(paid, "land_qualification_pdf", world.listing, at + DAY)
    assert unsigned_revision(again.content) == unsigned_revision(response.content)

    assert get(unpaid, "land_qualification_pdf", world.listing, at).status_code == 409
    assert get(staff, "land_qualification_pdf", world.listing, at).status_code == 404


def test_the_deal_confirmation_after_live_bidding(agent, staff, supervisor):
    world = make_land_world(agent, staff, bidders=2, reserve="100000000.00")
    a, b = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    world.advance(AFTER_END)
    world.respond(a, AFTER_END + dt.timedelta(seconds=5))
    world.respond(b, AFTER_END + dt.timedelta(seconds=6))
    started = AFTER_END + dt.timedelta(seconds=6)
    assert world.bid(a, "102000000.00", started + dt.timedelta(seconds=10), "live").accepted
    listing = world.advance(started + dt.timedelta(seconds=10 + 241))
    assert listing.winner == a.organization
    live = Auction.objects.get(lot=world.lot, phase="live")
    assert live.closing_audit_hash

    later = started + DAY
    response = get(a, "land_confirmation_pdf", listing, later)
    assert response.status_code == 200
    assert_platform_signed(response.content)
    text = text_of(response.content)
    assert "成交确认书" in text and a.organization.name in text and a.organization.uscc in text
    assert "102,000,000.00" in text and "XZ-2026-A01" in text
    assert "限时竞价" in text  # the basis
    assert live.closing_audit_hash in text and str(live.closing_audit_seq) in text
    assert "定金" in text and "抵作土地出让价款" in text and "不计利息" in text
    assert "尚未签署" in text
    with time_machine.travel(later, tick=False):
        digest = pdf.sha256(pdf.confirmation_content(listing))
    assert digest in text
    assert b.organization.name not in text  # the loser is not named

    # Signed: the document says so (and so its hash changes).
    with time_machine.travel(later, tick=False):
        services.sign_confirmation(Actor.for_user(a), listing)
    signed_copy = get(supervisor, "land_confirmation_pdf", listing, later).content
    assert_platform_signed(signed_copy)
    signed = text_of(signed_copy)
    assert "尚未签署" not in signed and digest not in signed
    assert get(b, "land_confirmation_pdf", listing, later).status_code == 404


def test_the_confirmation_of_a_housing_deal_prints_the_area(agent, staff):
    world = make_land_world(agent, staff, bidders=2, max_price="110000000.00", cap_mode="housing")
    a, b = world.bidders
    at = LISTING_START + 3 * DAY
    world.bid(a, "100000000.00", at)
    world.bid(b, "110000000.00", at + dt.timedelta(hours=1))
    world.advance(at + dt.timedelta(hours=1))
    housing = Auction.objects.get(lot=world.lot, phase="housing")
    opened = at + dt.timedelta(hours=1)
    assert world.bid(a, "30.00", opened + dt.timedelta(seconds=5), "housing").accepted
    listing = world.advance(opened + dt.timedelta(seconds=5 + 241))
    assert listing.winner == a.organization
    text = text_of(get(staff, "land_confirmation_pdf", listing, opened + DAY).content)
    assert "110,000,000.00" in text and "30.00平方米" in text and "竞配建" in text
    housing.refresh_from_db()
    assert housing.closing_audit_hash in text
