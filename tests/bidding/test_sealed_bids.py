"""Sealed submission and the electronic opening, with travelled time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts import members
from accounts.actors import Actor
from accounts.models import OrgRole
from audit.models import AuditEvent
from bidding import services
from bidding.models import Bid, BidFile, Opening
from clock.models import ScheduledTask
from clock.services import run_due
from lib.canonical import canonical_sha256
from lib.errors import DomainError, NotPermitted
from tests.conftest import make_org, make_user
from tests.trading.factories import beijing, published, timeline
from trading import services as trading
from trading.exceptions import TooLate

pytestmark = pytest.mark.django_db
T0 = beijing("2026-03-02 09:00")
CODE = "my-secret-code-123"
SYSTEM = Actor.system("test")


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def tender(agent, staff):
    lots = [
        {
            "name": "施工",
            "estimate": "38000000.00",
            "ceiling_price": "36500000.00",
            "deposit_amount": "0",
        }
    ]
    with travel(T0):
        return published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            lots=lots,
            **timeline(T0 + dt.timedelta(minutes=1)),
        )


@pytest.fixture
def bidders(tender, supplier, other_supplier):
    third = make_user("third", "supplier", make_org("supplier", "丙公司"))
    users = [supplier, other_supplier, third]
    with travel(T0 + dt.timedelta(hours=1)):
        for user in users:
            trading.register(Actor.for_user(user), tender.lots.get())
    return users


def bid(user, tender, price, *, code=CODE, at=None, files=None):
    with travel(at or T0 + dt.timedelta(days=3)):
        return services.submit_bid(
            Actor.for_user(user), tender.lots.get(), price=price, decryption_code=code, files=files
        )


def test_a_bid_is_stored_as_ciphertext_only(tender, bidders):
    document = SimpleUploadedFile("技术标.pdf", b"%PDF secret technical proposal 35999999.99")
    sealed = bid(bidders[0], tender, "35999999.99", files=[document])
    assert sealed.price is None
    assert len(sealed.receipt_sha256) == 64
    # A raw database dump shows neither the price nor the file's content or name.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM bidding_bid")
        dump = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM bidding_bidfile")
        dump += repr(cursor.fetchall())
    assert "35999999" not in dump and "技术标" not in dump
    stored = BidFile.objects.get(bid=sealed)
    with stored.file.open("rb") as handle:
        content = handle.read()
    assert b"secret technical proposal" not in content and b"35999999" not in content
    events = AuditEvent.objects.filter(object_type="bidding.bid")
    assert events.exists() and not any("35999999" in str(e.payload) for e in events)


def test_no_code_path_opens_a_bid_before_the_deadline(tender, bidders, staff):
    bid(bidders[0], tender, "35000000")
    for user in (staff, bidders[0]):
        with (
            travel(tender.bid_deadline - dt.timedelta(seconds=1)),
            pytest.raises(services.EarlyAccessRefused),
        ):
            services.open_lot(Actor.for_user(user), tender.lots.get())
    assert AuditEvent.objects.filter(action="bidding.key.early_access_refused").count() == 2
    assert not Opening.objects.exists()
    assert Bid.objects.get().price is None


def test_late_bids_and_late_withdrawals_are_refused(tender, bidders):
    with pytest.raises(TooLate):
        bid(bidders[0], tender, "35000000", at=tender.bid_deadline)
    sealed = bid(bidders[1], tender, "35000000")
    with travel(tender.bid_deadline + dt.timedelta(seconds=1)), pytest.raises(TooLate):
        services.withdraw_bid(Actor.for_user(bidders[1]), sealed)


def test_modify_and_withdraw_before_the_deadline(tender, bidders):
    first = bid(bidders[0], tender, "35000000")
    second = bid(bidders[0], tender, "34000000")
    assert (
        second.pk == first.pk
        and second.version == 2
        and second.receipt_sha256 != first.receipt_sha256
    )
    with travel(T0 + dt.timedelta(days=4)):
        services.withdraw_bid(Actor.for_user(bidders[0]), second)
    assert Bid.objects.get().status == Bid.Status.WITHDRAWN
    assert AuditEvent.objects.filter(action="bidding.bid.withdrawn").exists()


@pytest.mark.parametrize(
    ("price", "code"),
    [
        ("-1", "AMOUNT_INVALID"),
        ("1.001", "AMOUNT_INVALID"),
        (1.5, "AMOUNT_NOT_STRING"),
        ("３５０００００", "AMOUNT_INVALID"),
        ("0", "AMOUNT_OUT_OF_RANGE"),
        ("x", "AMOUNT_INVALID"),
    ],
)
def test_bad_prices_are_refused(tender, bidders, price, code):
    with pytest.raises(DomainError) as refused:
        bid(bidders[0], tender, price)
    assert refused.value.code == code
    assert not Bid.objects.exists()


def test_only_registered_qualified_suppliers_bid(tender, bidders, agent):
    outsider = make_user("outsider", "supplier", make_org("supplier", "未报名公司"))
    with pytest.raises(DomainError) as refused:
        bid(outsider, tender, "35000000")
    assert refused.value.code == "NOT_REGISTERED"
    with pytest.raises(NotPermitted):
        bid(agent, tender, "35000000")


def test_fewer_than_three_bids_fail_the_lot(tender, bidders):
    bid(bidders[0], tender, "35000000")
    bid(bidders[1], tender, "35100000")
    with travel(tender.bid_deadline):
        run_due()
    opening = Opening.objects.get()
    assert opening.stage == Opening.Stage.FAILED
    assert "少于 3" in opening.failure_reason


def test_the_clock_opens_at_the_deadline_and_bidders_decrypt(tender, bidders):
    for user, price in zip(bidders, ["35000000.00", "34800000.00", "35200000.00"], strict=True):
        bid(user, tender, price)
    assert ScheduledTask.objects.filter(
        step="bidding.open_lot", due_at=tender.bid_deadline
    ).exists()
    with travel(tender.bid_deadline - dt.timedelta(seconds=1)):
        run_due()
    assert not Opening.objects.exists()
    with travel(tender.bid_deadline):
        run_due()
        run_due()  # idempotent
    opening = Opening.objects.get()
    assert opening.stage == Opening.Stage.DECRYPTING
    assert set(Bid.objects.values_list("status", flat=True)) == {Bid.Status.AWAITING_DECRYPTION}
    during = tender.bid_deadline + dt.timedelta(minutes=5)
    with travel(during):
        with pytest.raises(DomainError) as wrong:
            services.decrypt_bid(
                Actor.for_user(bidders[0]),
                Bid.objects.get(organization=bidders[0].organization),
                decryption_code="wrong-code!!",
            )
        assert wrong.value.code == "WRONG_CODE"
        for user in bidders:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(organization=user.organization),
                decryption_code=CODE,
            )
    opening.refresh_from_db()
    assert opening.stage == Opening.Stage.OPENED
    prices = {row["bidder"]: row["price"] for row in opening.record["bids"]}
    assert prices[bidders[1].organization.name] == "34800000.00"
    assert Bid.objects.get(organization=bidders[1].organization).price == Decimal("34800000.00")


def test_a_bidder_who_does_not_decrypt_in_time_fails_by_its_own_fault(tender, bidders):
    from tests.conftest import make_org as org
    from tests.conftest import make_user as user_

    fourth = user_("fourth", "supplier", org("supplier", "丁公司"))
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(fourth), tender.lots.get())
    for user in [*bidders, fourth]:
        bid(user, tender, "35000000")
    with travel(tender.bid_deadline):
        services.open_lot(SYSTEM, tender.lots.get())
    with travel(tender.bid_deadline + dt.timedelta(minutes=10)):
        for user in bidders:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(organization=user.organization),
                decryption_code=CODE,
            )
    assert Opening.objects.get().stage == Opening.Stage.DECRYPTING
    with travel(Opening.objects.get().decryption_until + dt.timedelta(seconds=1)):
        run_due()
    late = Bid.objects.get(organization=fourth.organization)
    assert late.status == Bid.Status.FAILED_BIDDER
    # 视为撤销: by default the project's rules keep its deposit (条例 Art.35).
    assert AuditEvent.objects.get(action="bidding.bid.bidder_failure").payload["deposit"] == (
        "forfeited"
    )
    assert Opening.objects.get().stage == Opening.Stage.OPENED


def test_a_bid_the_platform_cannot_open_counts_as_withdrawn(tender, bidders):
    for user in bidders:
        bid(user, tender, "35000000")
    broken = Bid.objects.get(organization=bidders[2].organization)
    corrupted = bytearray(bytes(broken.sealed_price))
    corrupted[40] ^= 0xFF
    Bid.objects.filter(pk=broken.pk).update(sealed_price=bytes(corrupted))
    with travel(tender.bid_deadline):
        services.open_lot(SYSTEM, tender.lots.get())
    assert Bid.objects.get(pk=broken.pk).status == Bid.Status.FAILED_PLATFORM
    with travel(tender.bid_deadline + dt.timedelta(minutes=1)):
        for user in bidders[:2]:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(organization=user.organization),
                decryption_code=CODE,
            )
    # Two valid bids remain: the lot fails.
    assert Opening.objects.get().stage == Opening.Stage.FAILED


def test_an_amendment_moves_the_opening(agent, tender, bidders):
    original = tender.bid_deadline
    with travel(original - dt.timedelta(days=10)):
        trading.publish_amendment(Actor.for_user(agent), tender, title="变更", body="修改工期")
    tender.refresh_from_db()
    task = ScheduledTask.objects.get(step="bidding.open_lot")
    assert task.due_at == tender.bid_deadline > original


def test_bidders_confirm_or_object_within_the_window(tender, bidders, agent):
    for user in bidders:
        bid(user, tender, "35000000")
    with travel(tender.bid_deadline + dt.timedelta(minutes=1)):
        services.open_lot(SYSTEM, tender.lots.get())
        for user in bidders:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(organization=user.organization),
                decryption_code=CODE,
            )
    opening = Opening.objects.get()
    with travel(opening.finished_at + dt.timedelta(minutes=5)):
        services.respond_to_record(Actor.for_user(bidders[0]), opening, confirmed=True)
        objection = services.respond_to_record(
            Actor.for_user(bidders[1]), opening, confirmed=False, objection="我方报价记录有误"
        )
        services.answer_record_objection(
            Actor.for_user(agent), objection, answer="经核对，报价以解密结果为准。"
        )
    with travel(opening.objections_until + dt.timedelta(seconds=1)), pytest.raises(TooLate):
        services.respond_to_record(Actor.for_user(bidders[2]), opening, confirmed=True)


def test_the_public_record_is_hashed(tender, bidders):
    for user in bidders:
        bid(user, tender, "35000000")
    with travel(tender.bid_deadline + dt.timedelta(minutes=1)):
        services.open_lot(SYSTEM, tender.lots.get())
        for user in bidders:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(organization=user.organization),
                decryption_code=CODE,
            )

    opening = Opening.objects.get()
    assert canonical_sha256(opening.record) == opening.record_sha256


def test_only_bid_operators_and_administrators_act_for_a_bidder(tender, bidders, supplier):
    """Roles inside the organization (accounts.members): its finance staff pay deposits, they do not
    register for lots, bid, withdraw or decrypt."""
    finance = make_user("caiwu", "supplier", supplier.organization)
    operator = make_user("caozuo", "supplier", supplier.organization)
    admin = Actor.for_user(supplier)
    members.set_org_roles(admin, finance, [OrgRole.FINANCE])
    members.set_org_roles(admin, operator, [OrgRole.BID_OPERATOR])
    with pytest.raises(DomainError) as refused:
        bid(finance, tender, "36000000.00")
    assert refused.value.code == "ORG_ROLE_REQUIRED"
    assert not Bid.objects.filter(organization=supplier.organization).exists()
    mine = bid(operator, tender, "36000000.00")
    with travel(T0 + dt.timedelta(days=4)), pytest.raises(DomainError) as refused:
        services.withdraw_bid(Actor.for_user(finance), mine)
    assert refused.value.code == "ORG_ROLE_REQUIRED"
    with travel(T0 + dt.timedelta(hours=2)), pytest.raises(DomainError) as refused:
        trading.register(Actor.for_user(finance), tender.lots.get())
    assert refused.value.code == "ORG_ROLE_REQUIRED"
