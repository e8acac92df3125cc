"""Signed acts of the award and the land listing:

- award.accept: the winner accepts the award notice (中标通知书), signed over the notice's hash;
- land.confirm: a listing bidder confirms that it continues to live bidding (确认竞得资格) — only
  the yes is signed, declining is not;
- land.deal: the winner signs the 成交确认书, over the hash of its unsigned content.

Each: signed → done, with the SignedAct in the audit event; unsigned → SIGNATURE_REQUIRED (fallback
off); a signature for another object or digest → SIGNATURE_MISMATCH; a used challenge →
SIGNATURE_REPLAYED; another organization → refused; and an API and a page round trip."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import OrgRole, Role
from accounts.services import OrgRoleRequired, create_user
from audit.models import AuditEvent
from bidding import evaluation as ev
from bidding.land import pdf as land_pdf
from bidding.land import services as land
from bidding.models import LandListing, LandResponse, Publicity
from lib.errors import Conflict, NotPermitted
from signing.models import SignedAct, SigningChallenge
from signing.services import SignatureRefused
from tests.bidding.land_world import LISTING_END, LISTING_START, make_land_world
from tests.signing.support import enrol, signed, signed_fields
from tests.trading.factories import beijing, published, timeline

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
AFTER_END = LISTING_END + dt.timedelta(seconds=1)
T0 = beijing("2026-03-02 09:00")


@pytest.fixture(autouse=True)
def _signatures_required(settings):
    settings.SIGNING_PASSWORD_FALLBACK = []


def code(exc_info) -> str:
    return str(exc_info.value.code)


def use_up(sig) -> None:
    """The challenge was already used (a request carrying it committed first)."""
    SigningChallenge.objects.filter(token=sig.challenge).update(used_at=timezone.now())


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- award.accept ---------------------------------------------------------------------------------


@pytest.fixture
def awarded(agent, staff, supplier, other_supplier):
    """A published lot whose candidates' publicity has ended: the agent issues the award notice to
    the supplier (first candidate). Publicity rows are made directly: evaluation is tested elsewhere."""
    with time_machine.travel(T0, tick=False):
        project = published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            **timeline(T0 + dt.timedelta(minutes=1)),
        )
    lot = project.lots.get()
    now = timezone.now()
    Publicity.objects.create(
        lot=lot,
        candidates=[
            {
                "rank": 1,
                "bidder": supplier.organization.name,
                "organization": supplier.organization.pk,
                "price": "34800000.00",
                "total": "100.00",
            },
            {
                "rank": 2,
                "bidder": other_supplier.organization.name,
                "organization": other_supplier.organization.pk,
                "price": "35000000.00",
                "total": "99.00",
            },
        ],
        published_at=now - dt.timedelta(days=4),
        ends_at=now - dt.timedelta(days=1),
    )
    return ev.issue_award(Actor.for_user(agent), lot)


def accept(user, publicity, sig):
    return ev.accept_award(Actor.for_user(user), publicity.lot, signed=sig)


def award_sig(user, key, publicity, digest=None, target=None):
    return signed(
        user,
        key,
        "award.accept",
        "bidding.publicity",
        target or publicity.pk,
        digest=digest or ev.award_notice_sha256(publicity),
    )


def test_the_winner_accepts_the_award_signed_over_the_notice(awarded, supplier):
    digest = ev.award_notice_sha256(awarded)
    assert len(digest) == 64
    key = enrol(supplier)
    accept(supplier, awarded, award_sig(supplier, key, awarded))
    act = SignedAct.objects.get(act="award.accept")
    assert act.target_id == awarded.pk and act.organization == supplier.organization
    assert f'"digest":"{digest}"' in act.statement
    event = ev.award_acceptance(awarded)
    assert event is not None and event.action == "bidding.award.accepted"
    assert event.payload["signed_act"] == act.pk
    assert event.payload["award_notice_sha256"] == digest
    # Once; nothing about the award itself changed.
    with pytest.raises(Conflict) as exc:
        accept(supplier, awarded, award_sig(supplier, key, awarded))
    assert code(exc) == "ALREADY_ACCEPTED"
    assert Publicity.objects.get().status == Publicity.Status.AWARDED


def test_accepting_unsigned_a_wrong_signature_or_a_used_one_is_refused(awarded, supplier):
    with pytest.raises(SignatureRefused) as exc:
        accept(supplier, awarded, None)
    assert code(exc) == "SIGNATURE_REQUIRED"
    key = enrol(supplier)
    for sig in (
        award_sig(supplier, key, awarded, digest="ab" * 32),
        award_sig(supplier, key, awarded, target=awarded.pk + 1000),
    ):
        with pytest.raises(SignatureRefused) as exc:
            accept(supplier, awarded, sig)
        assert code(exc) == "SIGNATURE_MISMATCH"
    sig = award_sig(supplier, key, awarded)
    use_up(sig)
    with pytest.raises(SignatureRefused) as exc:
        accept(supplier, awarded, sig)
    assert code(exc) == "SIGNATURE_REPLAYED"
    assert ev.award_acceptance(awarded) is None
    assert not SignedAct.objects.filter(act="award.accept").exists()


def test_only_the_winners_bid_operator_or_admin_accepts(awarded, supplier, other_supplier, agent):
    key = enrol(other_supplier)
    with pytest.raises(NotPermitted):
        accept(other_supplier, awarded, award_sig(other_supplier, key, awarded))
    with pytest.raises(NotPermitted):
        accept(agent, awarded, None)
    finance = create_user(
        Actor.system("test"),
        organization=supplier.organization,
        username="finance",
        role=Role.SUPPLIER,
        org_roles=[OrgRole.FINANCE],
    )
    with pytest.raises(OrgRoleRequired):
        accept(finance, awarded, None)
    assert ev.award_acceptance(awarded) is None


def test_not_before_the_notice_nor_after_a_refusal(awarded, supplier, other_supplier, agent):
    ev.record_refusal(Actor.for_user(agent), awarded.lot, reason="中标人书面放弃")
    with pytest.raises(Conflict) as exc:
        accept(supplier, awarded, None)
    assert code(exc) == "NOT_AWARDED"
    # The next candidate is awarded and accepts its own notice.
    second = ev.issue_award(Actor.for_user(agent), awarded.lot)
    assert second.winner == other_supplier.organization
    key = enrol(other_supplier)
    accept(other_supplier, second, award_sig(other_supplier, key, second))
    accepted = ev.award_acceptance(second)
    assert accepted is not None and accepted.organization_id == other_supplier.organization.pk


def test_award_accept_api_round_trip(awarded, supplier, other_supplier, api):
    url = reverse("api_award", args=[awarded.lot_id])
    body = api(supplier).get(url).json()
    digest = body["notice_sha256"]
    assert digest == ev.award_notice_sha256(awarded) and body["accepted_at"] is None
    assert api(other_supplier).get(url).json()["notice_sha256"] is None

    accept_url = reverse("api_award_accept", args=[awarded.lot_id])
    unsigned = api(supplier).post(accept_url, {}, format="json")
    assert unsigned.status_code == 400 and unsigned.json()["error"]["code"] == "SIGNATURE_REQUIRED"
    malformed = api(supplier).post(
        accept_url, {"signing_challenge": "x", "signature": "y"}, format="json"
    )
    assert malformed.json()["error"]["code"] == "SIGNATURE_MALFORMED"

    key = enrol(supplier)
    fields = signed_fields(
        supplier, key, "award.accept", "bidding.publicity", awarded.pk, digest=digest
    )
    done = api(supplier).post(accept_url, fields, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["accepted_signed_act"] == SignedAct.objects.get(act="award.accept").pk
    assert done.json()["accepted_at"] is not None
    again = api(supplier).post(accept_url, fields, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_ACCEPTED"
    other = api(other_supplier).post(accept_url, {}, format="json")
    assert other.status_code == 403


def test_award_accept_page_round_trip(awarded, supplier, other_supplier, agent):
    page = reverse("bidding_lot", args=[awarded.lot_id])
    digest = ev.award_notice_sha256(awarded)
    html = client_for(supplier).get(page).content.decode()
    assert 'data-sign-act="award.accept"' in html and f'data-sign-digest="{digest}"' in html
    assert f'data-sign-target-id="{awarded.pk}"' in html
    assert f'data-testid="award-notice-sha256">{digest}<' in html and "js/signing.js" in html
    assert (
        'data-sign-act="award.accept"' not in client_for(other_supplier).get(page).content.decode()
    )

    action = reverse("award_accept", args=[awarded.lot_id])
    refused = client_for(supplier).post(action, {})
    assert refused.status_code == 400 and "SIGNATURE_REQUIRED" in refused.content.decode()
    key = enrol(supplier)
    fields = signed_fields(
        supplier, key, "award.accept", "bidding.publicity", awarded.pk, digest=digest
    )
    assert client_for(supplier).post(action, fields).status_code == 302
    html = client_for(supplier).get(page).content.decode()
    assert 'data-testid="award-accepted"' in html and 'data-sign-act="award.accept"' not in html
    # The agent sees the acceptance and its signature.
    agent_html = client_for(agent).get(page).content.decode()
    act = SignedAct.objects.get(act="award.accept")
    assert reverse("signed_act", args=[act.pk]) in agent_html


# --- land.confirm ---------------------------------------------------------------------------------


def two_bids(agent, staff):
    """Three paid bidders; a and b bid, c never does; the listing closes into its confirmation."""
    world = make_land_world(agent, staff, bidders=3, reserve="100000000.00")
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    world.advance(AFTER_END)
    assert world.refresh().stage == LandListing.Stage.CONFIRMING
    return world, a, b, c


def confirm_sig(user, key, listing, target=None):
    return signed(user, key, "land.confirm", "bidding.landlisting", target or listing.pk)


def respond(user, listing, sig=None, answer=True, kind="continue"):
    return land.respond(Actor.for_user(user), listing, kind=kind, answer=answer, signed=sig)


def test_continuing_is_signed_and_declining_is_not(agent, staff):
    world, a, b, _c = two_bids(agent, staff)
    with time_machine.travel(AFTER_END, tick=False):
        key = enrol(a)
        response = respond(a, world.listing, confirm_sig(a, key, world.listing))
        assert response.answer is True
        act = SignedAct.objects.get(act="land.confirm")
        assert act.target_id == world.listing.pk and act.organization == a.organization
        event = AuditEvent.objects.get(action="land.response", organization=a.organization)
        assert event.payload["signed_act"] == act.pk and event.payload["kind"] == "continue"
        # Declining binds b to nothing: no signature needed, none kept.
        respond(b, world.listing, None, answer=False)
        declined = AuditEvent.objects.get(action="land.response", organization=b.organization)
        assert "signed_act" not in declined.payload
    assert SignedAct.objects.filter(act="land.confirm").count() == 1


def test_continuing_unsigned_wrong_or_used_is_refused_and_records_nothing(agent, staff):
    world, a, _b, c = two_bids(agent, staff)
    with time_machine.travel(AFTER_END, tick=False):
        with pytest.raises(SignatureRefused) as exc:
            respond(a, world.listing, None)
        assert code(exc) == "SIGNATURE_REQUIRED"
        key = enrol(a)
        wrong_target = confirm_sig(a, key, world.listing, target=world.listing.pk + 1000)
        with pytest.raises(SignatureRefused) as exc:
            respond(a, world.listing, wrong_target)
        assert code(exc) == "SIGNATURE_MISMATCH"
        # A signature for the deal on this very listing is not a confirmation.
        deal = signed(
            a, key, "land.deal", "bidding.landlisting", world.listing.pk, digest="ab" * 32
        )
        with pytest.raises(SignatureRefused) as exc:
            respond(a, world.listing, deal)
        assert code(exc) == "SIGNATURE_MISMATCH"
        sig = confirm_sig(a, key, world.listing)
        use_up(sig)
        with pytest.raises(SignatureRefused) as exc:
            respond(a, world.listing, sig)
        assert code(exc) == "SIGNATURE_REPLAYED"
        # Another bidder's signature (c placed no listing bid) is refused before any signature.
        key_c = enrol(c)
        with pytest.raises(NotPermitted):
            respond(c, world.listing, confirm_sig(c, key_c, world.listing))
    assert not LandResponse.objects.exists()
    assert not SignedAct.objects.filter(act="land.confirm").exists()


def test_land_confirm_api_round_trip(agent, staff, api):
    world, a, b, _c = two_bids(agent, staff)
    url = reverse("api_land_respond", args=[world.listing.pk])
    with time_machine.travel(AFTER_END, tick=False):
        unsigned = api(a).post(url, {"kind": "continue", "answer": True}, format="json")
        assert unsigned.status_code == 400
        assert unsigned.json()["error"]["code"] == "SIGNATURE_REQUIRED"
        key = enrol(a)
        fields = signed_fields(a, key, "land.confirm", "bidding.landlisting", world.listing.pk)
        done = api(a).post(url, {"kind": "continue", "answer": True, **fields}, format="json")
        assert done.status_code == 201, done.content
        assert done.json()["answer"] is True
        no = api(b).post(url, {"kind": "continue", "answer": False}, format="json")
        assert no.status_code == 201, no.content
    assert SignedAct.objects.filter(act="land.confirm").count() == 1


def test_land_confirm_page_round_trip(agent, staff):
    world, a, b, _c = two_bids(agent, staff)
    page = reverse("land_listing", args=[world.listing.pk])
    action = reverse("land_respond", args=[world.listing.pk])
    with time_machine.travel(AFTER_END, tick=False):
        html = client_for(a).get(page).content.decode()
        assert 'data-sign-act="land.confirm"' in html and "js/signing.js" in html
        assert f'data-sign-target-id="{world.listing.pk}"' in html
        # The "no" form is not signed.
        assert 'id="continue-no-form">' in html
        refused = client_for(a).post(action, {"kind": "continue", "answer": "yes"})
        assert refused.status_code == 400 and "SIGNATURE_REQUIRED" in refused.content.decode()
        key = enrol(a)
        fields = signed_fields(a, key, "land.confirm", "bidding.landlisting", world.listing.pk)
        done = client_for(a).post(action, {"kind": "continue", "answer": "yes", **fields})
        assert done.status_code == 302
        assert client_for(b).post(action, {"kind": "continue", "answer": "no"}).status_code == 302
        html = client_for(a).get(page).content.decode()
        assert 'data-testid="continue-answer" data-answer="yes"' in html


# --- land.deal ------------------------------------------------------------------------------------


def a_deal(agent, staff):
    """One bid at the reserve: a deal for `a` at the listing's close."""
    world = make_land_world(agent, staff, bidders=2, reserve="100000000.00")
    a, b = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.advance(AFTER_END)
    assert world.refresh().stage == LandListing.Stage.DEAL
    return world, a, b


LATER = AFTER_END + DAY


def deal_sig(user, key, listing, digest=None, target=None):
    return signed(
        user,
        key,
        "land.deal",
        "bidding.landlisting",
        target or listing.pk,
        digest=digest or land.confirmation_sha256(listing),
    )


def sign(user, listing, sig):
    return land.sign_confirmation(Actor.for_user(user), listing, signed=sig)


def test_the_winner_signs_the_deal_over_the_unsigned_confirmations_hash(agent, staff):
    world, a, _b = a_deal(agent, staff)
    with time_machine.travel(LATER, tick=False):
        listing = world.refresh()
        digest = land.confirmation_sha256(listing)
        # Exactly the hash the unsigned PDF prints (land.pdf's content and hash).
        assert digest == land_pdf.sha256(land_pdf.confirmation_content(listing))
        key = enrol(a)
        sign(a, listing, deal_sig(a, key, listing))
    listing = world.refresh()
    assert listing.confirmation_signed_at is not None
    act = SignedAct.objects.get(act="land.deal")
    assert f'"digest":"{digest}"' in act.statement and act.target_id == listing.pk
    event = AuditEvent.objects.get(action="land.confirmation.signed")
    assert event.payload["signed_act"] == act.pk and event.payload["confirmation_sha256"] == digest


def test_the_deal_unsigned_wrong_or_used_is_refused_and_changes_nothing(agent, staff):
    world, a, b = a_deal(agent, staff)
    with time_machine.travel(LATER, tick=False):
        listing = world.refresh()
        with pytest.raises(SignatureRefused) as exc:
            sign(a, listing, None)
        assert code(exc) == "SIGNATURE_REQUIRED"
        key = enrol(a)
        for sig in (
            deal_sig(a, key, listing, digest="cd" * 32),
            deal_sig(a, key, listing, target=listing.pk + 1000),
        ):
            with pytest.raises(SignatureRefused) as exc:
                sign(a, listing, sig)
            assert code(exc) == "SIGNATURE_MISMATCH"
        sig = deal_sig(a, key, listing)
        use_up(sig)
        with pytest.raises(SignatureRefused) as exc:
            sign(a, listing, sig)
        assert code(exc) == "SIGNATURE_REPLAYED"
        key_b = enrol(b)
        with pytest.raises(NotPermitted):
            sign(b, listing, deal_sig(b, key_b, listing))
    assert world.refresh().confirmation_signed_at is None
    assert not SignedAct.objects.filter(act="land.deal").exists()
    assert not AuditEvent.objects.filter(action="land.confirmation.signed").exists()


def test_land_deal_api_round_trip(agent, staff, api):
    world, a, b = a_deal(agent, staff)
    state_url = reverse("api_land_listing", args=[world.listing.pk])
    sign_url = reverse("api_land_sign", args=[world.listing.pk])
    with time_machine.travel(LATER, tick=False):
        you = api(a).get(state_url).json()["you"]
        assert you["may_sign"] is True
        digest = you["confirmation_sha256"]
        assert digest == land.confirmation_sha256(world.refresh())
        assert api(b).get(state_url).json()["you"]["confirmation_sha256"] is None
        unsigned = api(a).post(sign_url, {}, format="json")
        assert unsigned.status_code == 400
        assert unsigned.json()["error"]["code"] == "SIGNATURE_REQUIRED"
        key = enrol(a)
        fields = signed_fields(
            a, key, "land.deal", "bidding.landlisting", world.listing.pk, digest=digest
        )
        done = api(a).post(sign_url, fields, format="json")
        assert done.status_code == 200, done.content
        assert done.json()["confirmation_signed_at"] is not None
        assert done.json()["you"]["confirmation_sha256"] is None
        assert api(b).post(sign_url, {}, format="json").status_code == 403


def test_land_deal_page_round_trip(agent, staff):
    world, a, b = a_deal(agent, staff)
    page = reverse("land_listing", args=[world.listing.pk])
    action = reverse("land_sign", args=[world.listing.pk])
    with time_machine.travel(LATER, tick=False):
        digest = land.confirmation_sha256(world.refresh())
        html = client_for(a).get(page).content.decode()
        assert 'data-sign-act="land.deal"' in html and f'data-sign-digest="{digest}"' in html
        assert f'data-testid="confirmation-sha256">{digest}<' in html and "js/signing.js" in html
        assert 'data-sign-act="land.deal"' not in client_for(b).get(page).content.decode()
        refused = client_for(a).post(action, {})
        assert refused.status_code == 400 and "SIGNATURE_REQUIRED" in refused.content.decode()
        key = enrol(a)
        fields = signed_fields(
            a, key, "land.deal", "bidding.landlisting", world.listing.pk, digest=digest
        )
        assert client_for(a).post(action, fields).status_code == 302
        html = client_for(a).get(page).content.decode()
        assert "竞得人已于" in html and 'data-sign-act="land.deal"' not in html
