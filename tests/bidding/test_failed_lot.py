"""流标: the notice, the deposit of a bidder that did not decrypt, and re-tendering the failed lot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import services
from bidding.models import Bid, Opening
from clock.calendar import is_workday
from clock.services import run_due
from deposits.checks import check_ledger
from deposits.models import Deposit, Forfeiture, Refund
from deposits.services import open_sub_account
from lib.errors import DomainError, NotPermitted
from tests.conftest import make_org, make_user
from tests.deposits.helpers import T0, pay
from tests.deposits.helpers import tender as deposit_tender
from tests.trading.factories import beijing, draft
from tests.trading.test_ocds import assert_valid
from trading import ocds
from trading import services as trading
from trading.exceptions import ScheduleError
from trading.models import Announcement, Project, ProjectDocument
from trading.services import content_hash

pytestmark = pytest.mark.django_db
CODE = "my-secret-code-123"
SYSTEM = Actor.system("test")
# After the deadline of 27 March 2026, a Monday.
AFTER = beijing("2026-03-30 10:00")
NEW_DATES = {
    "documents_from": beijing("2026-03-31 09:00"),
    "documents_until": beijing("2026-04-08 17:00"),
    "questions_until": beijing("2026-04-14 17:00"),
    "bid_deadline": beijing("2026-04-21 09:30"),
}


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def suppliers(count: int, first, second) -> list:
    users = [first, second]
    for index in range(len(users), count):
        users.append(
            make_user(f"bidder{index}", "supplier", make_org("supplier", f"第{index}公司"))
        )
    return users[:count]


def bid_and_pay(project, users) -> None:
    """Each bidder registers, pays the deposit into its sub-account and bids."""
    lot = project.lots.get()
    for user in users:
        with travel(T0 + dt.timedelta(hours=1)):
            trading.register(Actor.for_user(user), lot)
            account = open_sub_account(Actor.for_user(user), lot)
        pay(account, "500000", at=T0 + dt.timedelta(days=1))
        with travel(T0 + dt.timedelta(days=3)):
            services.submit_bid(Actor.for_user(user), lot, price="29000000", decryption_code=CODE)


def open_and_decrypt(project, decrypting) -> Opening:
    lot = project.lots.get()
    with travel(project.bid_deadline):
        run_due()
    with travel(project.bid_deadline + dt.timedelta(minutes=5)):
        for user in decrypting:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(lot=lot, organization=user.organization),
                decryption_code=CODE,
            )
    with travel(Opening.objects.get(lot=lot).decryption_until + dt.timedelta(seconds=1)):
        run_due()
    return Opening.objects.get(lot=lot)


# --- A bidder that does not decrypt: the project's rule decides its deposit --------------------------


def test_by_default_the_deposit_of_a_bidder_that_did_not_decrypt_is_kept(
    agent, staff, supplier, other_supplier
):
    project = deposit_tender(agent, staff)
    users = suppliers(4, supplier, other_supplier)
    bid_and_pay(project, users)
    opening = open_and_decrypt(project, users[:3])
    assert opening.stage == Opening.Stage.OPENED
    silent = Deposit.objects.get(organization=users[3].organization)
    assert silent.status == Deposit.Status.FORFEITED
    forfeiture = Forfeiture.objects.get(deposit=silent)
    assert forfeiture.reason == Forfeiture.Reason.DECRYPTION_FAILURE
    assert forfeiture.decided_by is None  # the platform applied the project's rule
    assert not Refund.objects.filter(deposit=silent).exists()
    failure = AuditEvent.objects.get(action="bidding.bid.bidder_failure")
    assert failure.payload["deposit"] == "forfeited"
    assert AuditEvent.objects.filter(action="deposits.deposit.forfeited").count() == 1
    # The others' deposits stay held until the contract.
    assert Deposit.objects.filter(status=Deposit.Status.HELD).count() == 3
    assert check_ledger() == []


def test_a_project_whose_rules_refund_it_schedules_the_refund(
    agent, staff, supplier, other_supplier, settings
):
    settings.TRADING_RULES = {"construction": {"forfeit_on_decryption_failure": False}}
    project = deposit_tender(agent, staff)
    users = suppliers(4, supplier, other_supplier)
    bid_and_pay(project, users)
    opening = open_and_decrypt(project, users[:3])
    silent = Deposit.objects.get(organization=users[3].organization)
    assert silent.status == Deposit.Status.REFUND_SCHEDULED
    assert not Forfeiture.objects.exists()
    refund = Refund.objects.get(deposit=silent)
    assert refund.reason == Refund.Reason.DECRYPTION_FAILURE
    # Five days after the opening ended, moved to a working day, no interest.
    assert refund.due_at >= opening.decryption_until + dt.timedelta(days=5)
    assert is_workday(refund.due_at)
    assert refund.interest == Decimal("0")
    failure = AuditEvent.objects.get(action="bidding.bid.bidder_failure")
    assert failure.payload["deposit"] == "refunded"
    assert AuditEvent.objects.filter(action="deposits.refund.scheduled").count() == 1


# --- 流标: the notice ---------------------------------------------------------------------------------


def test_a_failed_lot_publishes_a_notice_and_keeps_the_silent_bidders_deposit(
    agent, staff, supplier, other_supplier, client
):
    """Three bids, one never decrypted: two valid bids → 流标. The silent bidder's deposit is kept (the
    rule), everyone else's is refunded — the forfeitable deposit is no longer refunded by the 流标."""
    project = deposit_tender(agent, staff)
    users = suppliers(3, supplier, other_supplier)
    bid_and_pay(project, users)
    opening = open_and_decrypt(project, users[:2])
    assert opening.stage == Opening.Stage.FAILED
    silent = Deposit.objects.get(organization=users[2].organization)
    assert silent.status == Deposit.Status.FORFEITED
    refunded = Refund.objects.filter(reason=Refund.Reason.FAILED_LOT)
    assert {r.deposit.organization_id for r in refunded} == {
        users[0].organization_id,
        users[1].organization_id,
    }
    notice = Announcement.objects.get(project=project, kind=Announcement.Kind.FAILED)
    version = notice.versions.get()
    assert version.title.endswith("流标公告")
    assert version.sha256 == content_hash(version.content)
    assert version.content["failed_lots"] == [1]
    assert version.content["opening_record_sha256"] == opening.record_sha256
    assert version.published_by is None
    assert "有效投标人少于 3 个" in version.body
    assert AuditEvent.objects.filter(
        action="trading.announcement.published", payload__kind="failed"
    ).exists()
    # Public: the portal page and its PDF.
    assert client.get(f"/portal/announcements/{notice.pk}/").status_code == 200
    pdf = client.get(f"/announcements/{notice.pk}/v1.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # OCDS: every lot failed, so the tender ended unsuccessful.
    data = assert_valid(ocds.project_release_package(project))
    failed = next(r for r in data["releases"] if r["id"].endswith(f"-{notice.pk}-v1"))
    assert failed["tag"] == ["tenderUpdate"]
    assert failed["tender"]["status"] == "unsuccessful"
    assert failed["tender"]["lots"][0]["status"] == "unsuccessful"


# --- Re-tendering the failed lot --------------------------------------------------------------------


@pytest.fixture
def failed(agent, staff, supplier, other_supplier):
    """A tender with a published document whose only lot failed: two bids."""
    with travel(T0):
        project = draft(
            agent,
            start=T0 + dt.timedelta(minutes=1),
            method=Project.Method.INVITATION,
            lots=[{"name": "施工", "estimate": "38000000.00", "deposit_amount": "0"}],
        )
        third = make_user("third", "supplier", make_org("supplier", "丙公司"))
        users = [supplier, other_supplier, third]
        trading.update_project(
            Actor.for_user(agent), project, invitees=[u.organization_id for u in users]
        )
        trading.upload_document(
            Actor.for_user(agent),
            project,
            SimpleUploadedFile("招标文件.pdf", b"%PDF-1.4 tender", content_type="application/pdf"),
            title="招标文件",
        )
        trading.submit_project(Actor.for_user(agent), project)
        trading.approve_project(Actor.for_user(staff), project)
        trading.publish_project(Actor.for_user(agent), project)
    project.refresh_from_db()
    lot = project.lots.get()
    with travel(T0 + dt.timedelta(hours=1)):
        for user in users:
            trading.register(Actor.for_user(user), lot)
    with travel(T0 + dt.timedelta(days=3)):
        for user in users[:2]:
            services.submit_bid(Actor.for_user(user), lot, price="35000000", decryption_code=CODE)
    with travel(project.bid_deadline):
        run_due()
    assert Opening.objects.get(lot=lot).stage == Opening.Stage.FAILED
    return project


def test_the_agent_re_tenders_a_failed_lot_with_new_dates(failed, agent, staff):
    lot = failed.lots.get()
    with travel(AFTER):
        again = trading.retender_failed_lot(Actor.for_user(agent), lot, **NEW_DATES)
    assert again.pk != failed.pk and again.number != failed.number
    assert again.status == Project.Status.DRAFT
    assert again.title == f"{failed.title}（重新招标）"
    assert again.retender_of == lot
    assert (again.kind, again.method, again.owner, again.agent) == (
        failed.kind,
        failed.method,
        failed.owner,
        failed.agent,
    )
    (new_lot,) = again.lots.all()
    assert (new_lot.name, new_lot.estimate) == (lot.name, lot.estimate)
    assert set(again.invitees.values_list("organization", flat=True)) == set(
        failed.invitees.values_list("organization", flat=True)
    )
    (original_document,) = ProjectDocument.objects.filter(project=failed)
    (copy,) = ProjectDocument.objects.filter(project=again)
    assert copy.sha256 == original_document.sha256 and copy.published_at is None
    assert again.bid_deadline == NEW_DATES["bid_deadline"]
    event = AuditEvent.objects.get(action="trading.project.retendered")
    assert event.payload["from_lot"] == lot.pk
    assert event.payload["documents"] == [original_document.sha256]
    # One live re-tender per failed lot.
    with travel(AFTER), pytest.raises(DomainError) as twice:
        trading.retender_failed_lot(Actor.for_user(agent), lot, **NEW_DATES)
    assert twice.value.code == "ALREADY_RETENDERED"
    # It goes through the center like any project, and its documents go out with its notice.
    with travel(AFTER + dt.timedelta(hours=1)):
        trading.submit_project(Actor.for_user(agent), again)
        trading.approve_project(Actor.for_user(staff), again)
        trading.publish_project(Actor.for_user(agent), again)
    copy.refresh_from_db()
    assert copy.published_at is not None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        # 20 days from the documents to the deadline, counted again.
        ({"bid_deadline": beijing("2026-04-15 09:30")}, "BIDDING_PERIOD_TOO_SHORT"),
        # Labour Day is the law's holiday.
        ({"bid_deadline": beijing("2026-05-01 09:30")}, "HOLIDAY_DEADLINE"),
        # Counted from now, not from a start in the past (28 days after it, 18 after now).
        (
            {
                "documents_from": beijing("2026-03-20 09:00"),
                "bid_deadline": beijing("2026-04-17 09:30"),
            },
            "BIDDING_PERIOD_TOO_SHORT",
        ),
    ],
)
def test_the_new_dates_must_pass_the_legal_timeline_again(failed, agent, change, code):
    before = Project.objects.count()
    with travel(AFTER), pytest.raises(ScheduleError) as refused:
        trading.retender_failed_lot(Actor.for_user(agent), failed.lots.get(), **NEW_DATES | change)
    assert refused.value.code == code
    assert Project.objects.count() == before
    assert not AuditEvent.objects.filter(action="trading.project.retendered").exists()


def test_only_a_failed_lot_of_ones_own_project_is_re_tendered(failed, agent, staff, supplier):
    with travel(AFTER), pytest.raises(NotPermitted):
        trading.retender_failed_lot(Actor.for_user(supplier), failed.lots.get(), **NEW_DATES)
    with travel(T0):
        running = draft(agent, start=T0 + dt.timedelta(minutes=1))
    with travel(AFTER), pytest.raises(DomainError) as refused:
        trading.retender_failed_lot(Actor.for_user(agent), running.lots.get(), **NEW_DATES)
    assert refused.value.code == "LOT_NOT_FAILED"


def test_the_api_re_tenders_a_failed_lot(failed, api, agent, supplier):
    body = {name: value.isoformat() for name, value in NEW_DATES.items()}
    url = f"/api/v1/projects/{failed.pk}/lots/1/retender/"
    with travel(AFTER):
        refused = api(supplier).post(url, body, format="json")
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "NOT_FOUND"
        holiday = api(agent).post(
            url, {**body, "bid_deadline": "2026-05-01T09:30:00+08:00"}, format="json"
        )
        assert holiday.status_code == 400
        assert holiday.json()["error"]["code"] == "HOLIDAY_DEADLINE"
        missing = api(agent).post(f"/api/v1/projects/{failed.pk}/lots/9/retender/", body)
        assert missing.status_code == 404
        created = api(agent).post(url, body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["status"] == "draft"
    assert data["retender_of"] == {"project": failed.pk, "number": failed.number, "lot": 1}
    assert data["bid_deadline"] == "2026-04-21T09:30:00+08:00"


def test_the_agent_re_tenders_from_the_failure_notice_page(failed, client, agent):
    notice = Announcement.objects.get(project=failed, kind=Announcement.Kind.FAILED)
    form_url = f"/projects/{failed.pk}/lots/1/retender/"
    # The public sees the notice, not the action.
    public = client.get(f"/portal/announcements/{notice.pk}/").content.decode()
    assert "流标公告" in public and form_url not in public
    client.force_login(agent)
    with travel(AFTER):
        assert form_url in client.get(f"/portal/announcements/{notice.pk}/").content.decode()
        assert form_url in client.get(f"/projects/{failed.pk}/").content.decode()
        form = client.get(form_url)
        assert form.status_code == 200
        assert 'id="retender-form"' in form.content.decode()
        fields = {name: value.strftime("%Y-%m-%dT%H:%M") for name, value in NEW_DATES.items()}
        refused = client.post(form_url, {**fields, "bid_deadline": "2026-05-01T09:30"})
        assert refused.status_code == 400
        assert "节假日" in refused.content.decode()
        assert not Project.objects.filter(retender_of__isnull=False).exists()
        created = client.post(form_url, fields)
    again = Project.objects.get(retender_of__isnull=False)
    assert created.status_code == 302 and created["Location"] == f"/projects/{again.pk}/"
    page = client.get(f"/projects/{again.pk}/").content.decode()
    assert 'data-testid="retender-of"' in page and failed.number in page
    # The original now links to the re-tender instead of offering another one.
    original = client.get(f"/projects/{failed.pk}/").content.decode()
    assert 'data-testid="retender-link"' in original and form_url not in original
