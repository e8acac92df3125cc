"""The center's side of the deposits API: the books, refunds and bank batches, guarantees, forfeiture,
exchange rates and the bank's messages. Staff act, supervisors read, bidders see only their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from audit.models import AuditEvent
from deposits import services
from deposits.models import Account, Deposit, FxRate, Guarantee, Refund
from tests.deposits.helpers import BANK, T0, pay, register_with_account, tender
from tests.deposits.test_api import CONFIRM, assert_error, bank_post, funded
from trading import services as trading
from trading.models import Registration

pytestmark = pytest.mark.django_db

D = "/api/v1/deposits"


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False) as moving:
        yield moving


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


@pytest.fixture
def deposit(project, supplier):
    return funded(supplier, project)


def submitted_guarantee(user: Any, project: Any, number: str = "BG-1") -> Guarantee:
    lot = project.lots.get()
    if not Registration.objects.filter(lot=lot, organization=user.organization).exists():
        trading.register(Actor.for_user(user), lot)
    return services.submit_guarantee(
        Actor.for_user(user),
        lot,
        kind="bank_guarantee",
        issuer="中国建设银行",
        number=number,
        amount="500000",
        valid_from=dt.date(2026, 3, 1),
        valid_until=services.required_guarantee_validity(lot),
        upload=SimpleUploadedFile("g.pdf", b"%PDF"),
    )


def instructed_refund(staff: Any, deposit: Deposit) -> Refund:
    refund = services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    services.create_refund_batch(Actor.for_user(staff))
    refund.refresh_from_db()
    return refund


# --- The books ------------------------------------------------------------------------------------


def test_staff_and_supervisors_read_the_books(api, deposit, staff, supervisor, supplier):
    # Money nobody can claim lands in suspense, in its own currency.
    bank_post(
        BANK.payment(
            account_number="6222000000000000000",
            amount="1000.50",
            payer_name="路人甲",
            payer_account="9",
            currency="USD",
        )
    )
    services.forfeit_deposit(Actor.for_user(staff), deposit, reason="refused_to_sign", note="拒签")
    accounts = Account.objects.count()
    for user in (staff, supervisor):
        books = api(user).get(f"{D}/custody/")
        assert books.status_code == 200, books.json()
        assert books.json()["check"] == {"ok": True, "problems": []}
        by_currency = {row["currency"]: row for row in books.json()["totals"]}
        assert by_currency["CNY"] == {
            "currency": "CNY",
            "custody": "500000.00",
            "sub_accounts": "0.00",
            "suspense": "0.00",
            "refunds_payable": "0.00",
            "forfeited": "500000.00",
            "land_earnest": "0.00",
            "land_price": "0.00",
            "interest": "0.00",
        }
        assert (by_currency["USD"]["custody"], by_currency["USD"]["suspense"]) == (
            "1000.50",
            "1000.50",
        )
    assert Account.objects.count() == accounts  # reading opened no book account
    assert_error(api(supplier).get(f"{D}/custody/"), 403, "FORBIDDEN")
    assert_error(api(None).get(f"{D}/custody/"), 403, "NOT_AUTHENTICATED")


def test_the_books_show_a_broken_ledger(api, deposit, staff):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE deposits_journalline SET amount_fen = amount_fen + 1 WHERE amount_fen > 0"
        )
    check = api(staff).get(f"{D}/custody/").json()["check"]
    assert check["ok"] is False
    assert any("does not balance" in problem for problem in check["problems"])


def test_the_banks_messages_are_listed_for_staff_and_supervisors(
    api, deposit, staff, supervisor, supplier
):
    for user in (staff, supervisor):
        listed = api(user).get(f"{D}/notifications/")
        assert listed.status_code == 200
        (row,) = listed.json()["results"]
        assert (row["outcome"], row["amount"], row["account_number"]) == (
            "credited",
            "500000.00",
            deposit.account.number,
        )
    assert api(staff).get(f"{D}/notifications/", {"outcome": "payer_mismatch"}).json()["count"] == 0
    assert_error(api(staff).get(f"{D}/notifications/", {"outcome": "x"}), 400, "INVALID_PARAMETER")
    assert_error(api(supplier).get(f"{D}/notifications/"), 403, "FORBIDDEN")
    assert_error(api(None).get(f"{D}/notifications/"), 403, "NOT_AUTHENTICATED")


# --- Deposits: list, refund, forfeit --------------------------------------------------------------


def test_deposit_lists_show_each_caller_what_it_may_see(
    api, project, deposit, staff, supervisor, supplier, other_supplier
):
    theirs = funded(other_supplier, project, payer_account="44050166000100002222")
    for user in (staff, supervisor):
        rows = api(user).get(f"{D}/deposits/").json()["results"]
        assert {row["id"] for row in rows} == {deposit.pk, theirs.pk}
    assert [r["id"] for r in api(supplier).get(f"{D}/deposits/").json()["results"]] == [deposit.pk]
    assert [r["id"] for r in api(other_supplier).get(f"{D}/deposits/").json()["results"]] == [
        theirs.pk
    ]
    filtered = api(staff).get(f"{D}/deposits/", {"organization": supplier.organization_id})
    assert [r["id"] for r in filtered.json()["results"]] == [deposit.pk]
    assert api(staff).get(f"{D}/deposits/", {"status": "refunded"}).json()["count"] == 0
    assert_error(api(None).get(f"{D}/deposits/"), 403, "NOT_AUTHENTICATED")


def test_staff_schedule_a_refund_once(api, deposit, staff, supervisor, supplier, other_supplier):
    url = f"{D}/deposits/{deposit.pk}/refund/"
    assert_error(api(supplier).post(url, {"reason": "withdrawal"}, format="json"), 403, "FORBIDDEN")
    assert_error(
        api(other_supplier).post(url, {"reason": "withdrawal"}, format="json"), 404, "NOT_FOUND"
    )
    assert_error(
        api(supervisor).post(url, {"reason": "withdrawal"}, format="json"), 403, "FORBIDDEN"
    )
    assert_error(
        api(None).post(url, {"reason": "withdrawal"}, format="json"), 403, "NOT_AUTHENTICATED"
    )
    assert not Refund.objects.exists()
    first = api(staff).post(url, {"reason": "withdrawal"}, format="json")
    assert first.status_code == 201, first.json()
    again = api(staff).post(url, {"reason": "termination"}, format="json")
    assert again.status_code == 200
    assert again.json()["refund"]["id"] == first.json()["refund"]["id"]
    assert Refund.objects.count() == 1


def test_a_refund_reason_and_event_time_are_checked(api, deposit, staff):
    url = f"{D}/deposits/{deposit.pk}/refund/"
    for body in (
        {"reason": "payer_mismatch"},  # a held payment's reason, not a deposit's
        {"reason": "because"},
        {},
        {"reason": "withdrawal", "event_at": "2026-03-10 10:00"},  # no offset
    ):
        assert_error(api(staff).post(url, body, format="json"), 400, "VALIDATION_ERROR")
    withdrawn = "2026-03-10T10:00:00+08:00"
    scheduled = api(staff).post(url, {"reason": "withdrawal", "event_at": withdrawn}, format="json")
    # Five days end on Sunday 15 March: the refund is due on Monday (民法典 Art.203).
    assert scheduled.json()["refund"]["due_at"] == "2026-03-16T10:00:00+08:00"


def test_refunding_a_verified_guarantee_releases_it(api, project, supplier, staff):
    guarantee = submitted_guarantee(supplier, project)
    services.verify_guarantee(Actor.for_user(staff), guarantee, accepted=True, method="验真")
    deposit = Deposit.objects.get(guarantee=guarantee)
    released = api(staff).post(
        f"{D}/deposits/{deposit.pk}/refund/", {"reason": "not_awarded"}, format="json"
    )
    assert released.status_code == 200
    assert released.json() == {"deposit": released.json()["deposit"], "refund": None}
    assert released.json()["deposit"]["status"] == "refunded"
    guarantee.refresh_from_db()
    assert guarantee.status == Guarantee.Status.RELEASED


def test_staff_forfeit_a_deposit_with_the_facts(
    api, deposit, staff, supervisor, supplier, other_supplier
):
    url = f"{D}/deposits/{deposit.pk}/forfeit/"
    body = {"reason": "refused_to_sign", "note": "中标人书面拒签，见附件"}
    assert_error(api(supplier).post(url, body, format="json"), 403, "FORBIDDEN")
    assert_error(api(other_supplier).post(url, body, format="json"), 404, "NOT_FOUND")
    assert_error(api(supervisor).post(url, body, format="json"), 403, "FORBIDDEN")
    assert_error(api(None).post(url, body, format="json"), 403, "NOT_AUTHENTICATED")
    assert_error(api(staff).post(url, {**body, "note": " "}, format="json"), 400, "NOTE_REQUIRED")
    assert_error(
        api(staff).post(url, {**body, "reason": "dislike"}, format="json"), 400, "VALIDATION_ERROR"
    )
    done = api(staff).post(url, body, format="json")
    assert done.status_code == 201, done.json()
    assert (done.json()["reason"], done.json()["deposit"]["status"]) == (
        "refused_to_sign",
        "forfeited",
    )
    assert_error(api(staff).post(url, body, format="json"), 409, "WRONG_STATUS")
    assert (
        api(supplier).get("/api/v1/deposits/mine/").json()["deposits"][0]["status"] == "forfeited"
    )


def test_an_unknown_deposit_is_not_found(api, staff):
    assert_error(
        api(staff).post(
            f"{D}/deposits/99999/forfeit/",
            {"reason": "refused_to_sign", "note": "x"},
            format="json",
        ),
        404,
        "NOT_FOUND",
    )


# --- Refunds and batches --------------------------------------------------------------------------


def test_refunds_are_listed_for_staff_and_supervisors(api, deposit, staff, supervisor, supplier):
    services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    for user in (staff, supervisor):
        listed = api(user).get(f"{D}/refunds/", {"status": "scheduled"})
        assert listed.status_code == 200
        assert [r["deposit"] for r in listed.json()["results"]] == [deposit.pk]
    assert api(staff).get(f"{D}/refunds/", {"status": "paid"}).json()["count"] == 0
    assert api(staff).get(f"{D}/refunds/", {"reason": "withdrawal"}).json()["count"] == 1
    assert_error(api(staff).get(f"{D}/refunds/", {"status": "lost"}), 400, "INVALID_PARAMETER")
    assert_error(api(supplier).get(f"{D}/refunds/"), 403, "FORBIDDEN")
    assert_error(api(None).get(f"{D}/refunds/"), 403, "NOT_AUTHENTICATED")


def test_only_staff_make_batches_and_everyone_entitled_reads_them(
    api, deposit, staff, supervisor, supplier
):
    services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    url = f"{D}/refunds/batches/"
    assert_error(api(supervisor).post(url, {}, format="json"), 403, "FORBIDDEN")
    assert_error(api(supplier).post(url, {}, format="json"), 403, "FORBIDDEN")
    assert_error(api(None).post(url, {}, format="json"), 403, "NOT_AUTHENTICATED")
    # Only refunds due by `until` go into the batch.
    early = api(staff).post(url, {"until": "2026-03-03T00:00:00+08:00"}, format="json")
    assert early.status_code == 204
    made = api(staff).post(url, {}, format="json")
    assert made.status_code == 201
    batch_id = made.json()["id"]
    for user in (staff, supervisor):
        assert [b["id"] for b in api(user).get(url).json()["results"]] == [batch_id]
    assert_error(api(supplier).get(url), 403, "FORBIDDEN")
    csv_url = f"{D}/refunds/batches/{batch_id}/csv"
    assert made.json()["csv_url"] == csv_url
    for user in (staff, supervisor):
        download = api(user).get(csv_url, HTTP_ACCEPT="text/csv")
        assert download.status_code == 200
        assert (
            download["Content-Disposition"] == f'attachment; filename="refund-batch-{batch_id}.csv"'
        )
        assert download.content.decode().startswith("refund_id,payee_name,payee_account,amount")
    assert_error(api(supplier).get(csv_url), 404, "NOT_FOUND")
    assert_error(api(None).get(csv_url), 403, "NOT_AUTHENTICATED")
    assert_error(api(staff).get(f"{D}/refunds/batches/{batch_id + 1}/csv"), 404, "NOT_FOUND")


def test_staff_reschedule_a_refund_the_bank_returned(
    api, deposit, staff, supervisor, supplier, other_supplier
):
    refund = instructed_refund(staff, deposit)
    url = f"{D}/refunds/{refund.pk}/reschedule/"
    assert_error(api(staff).post(url), 409, "WRONG_STATUS")  # not failed (yet)
    bank_post(
        BANK.refund_confirmation(refund.pk, status="failed", bank_reference="CLOSED"), CONFIRM
    )
    assert_error(api(supervisor).post(url), 403, "FORBIDDEN")
    assert_error(api(supplier).post(url), 404, "NOT_FOUND")
    assert_error(api(other_supplier).post(url), 404, "NOT_FOUND")
    assert_error(api(None).post(url), 403, "NOT_AUTHENTICATED")
    again = api(staff).post(url)
    assert again.status_code == 201, again.json()
    assert (again.json()["status"], again.json()["deposit"]) == ("scheduled", deposit.pk)
    assert again.json()["id"] != refund.pk


# --- Guarantees -----------------------------------------------------------------------------------


def test_guarantee_lists_show_each_caller_what_it_may_see(
    api, project, staff, supervisor, supplier, other_supplier
):
    mine = submitted_guarantee(supplier, project, "BG-1")
    theirs = submitted_guarantee(other_supplier, project, "BG-2")
    url = f"{D}/guarantees/"
    for user in (staff, supervisor):
        assert {g["id"] for g in api(user).get(url).json()["results"]} == {mine.pk, theirs.pk}
    assert [g["id"] for g in api(supplier).get(url).json()["results"]] == [mine.pk]
    assert [g["id"] for g in api(other_supplier).get(url).json()["results"]] == [theirs.pk]
    assert api(staff).get(url, {"status": "verified"}).json()["count"] == 0
    assert api(staff).get(url, {"project": project.pk}).json()["count"] == 2
    assert_error(api(staff).get(url, {"status": "lost"}), 400, "INVALID_PARAMETER")
    assert_error(api(None).get(url), 403, "NOT_AUTHENTICATED")


def test_only_staff_verify_guarantees(api, project, staff, supervisor, supplier, other_supplier):
    guarantee = submitted_guarantee(supplier, project)
    url = f"{D}/guarantees/{guarantee.pk}/verify/"
    body = {"accepted": True, "method": "开立银行函证", "note": "已电话核实"}
    assert_error(api(supplier).post(url, body, format="json"), 403, "FORBIDDEN")
    assert_error(api(other_supplier).post(url, body, format="json"), 404, "NOT_FOUND")
    assert_error(api(supervisor).post(url, body, format="json"), 403, "FORBIDDEN")
    assert_error(api(None).post(url, body, format="json"), 403, "NOT_AUTHENTICATED")
    assert_error(
        api(staff).post(url, {**body, "method": ""}, format="json"), 400, "METHOD_REQUIRED"
    )
    assert_error(api(staff).post(url, {"method": "x"}, format="json"), 400, "VALIDATION_ERROR")
    verified = api(staff).post(url, body, format="json")
    assert verified.status_code == 200, verified.json()
    assert (verified.json()["status"], verified.json()["verification"]) == (
        "verified",
        "开立银行函证",
    )
    assert_error(api(staff).post(url, body, format="json"), 409, "ALREADY_VERIFIED")


def test_a_rejected_guarantee_does_not_count(api, project, staff, supplier):
    guarantee = submitted_guarantee(supplier, project)
    rejected = api(staff).post(
        f"{D}/guarantees/{guarantee.pk}/verify/",
        {"accepted": False, "method": "开立银行回函", "note": "银行称未开立"},
        format="json",
    )
    assert rejected.json()["status"] == "rejected"
    assert not Deposit.objects.exists()


# --- Exchange rates -------------------------------------------------------------------------------


def test_staff_enter_exchange_rates_as_strings(api, staff, supervisor, supplier):
    url = f"{D}/fx-rates/"
    entered = api(staff).post(
        url,
        {"currency": "USD", "cny_per_unit": "7.123456", "source": "中国人民银行中间价"},
        format="json",
    )
    assert entered.status_code == 201, entered.json()
    assert (entered.json()["cny_per_unit"], entered.json()["entered_by"]) == ("7.123456", "staff")
    assert FxRate.objects.get().cny_per_unit == services.rate_at("USD", T0 + dt.timedelta(days=1))
    for user in (staff, supervisor):
        rows = api(user).get(url, {"currency": "USD"}).json()["results"]
        assert [r["cny_per_unit"] for r in rows] == ["7.123456"]
    assert_error(api(supplier).get(url), 403, "FORBIDDEN")
    assert_error(api(None).get(url), 403, "NOT_AUTHENTICATED")
    body = {"currency": "HKD", "cny_per_unit": "0.92"}
    assert_error(api(supervisor).post(url, body, format="json"), 403, "FORBIDDEN")
    assert_error(api(supplier).post(url, body, format="json"), 403, "FORBIDDEN")
    assert_error(api(None).post(url, body, format="json"), 403, "NOT_AUTHENTICATED")
    assert FxRate.objects.count() == 1


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (7.12, "RATE_NOT_STRING"),
        (7, "RATE_NOT_STRING"),
        (True, "RATE_NOT_STRING"),
        (None, "VALIDATION_ERROR"),
        ("abc", "INVALID_RATE"),
        ("NaN", "INVALID_RATE"),
        ("Infinity", "INVALID_RATE"),
        ("-1", "INVALID_RATE"),
        ("1e3", "INVALID_RATE"),
        ("0.1234567", "INVALID_RATE"),
        ("12345678", "INVALID_RATE"),
        ("0", "INVALID_RATE"),
        ("０.９２", "INVALID_RATE"),
        ("٧.١٢", "INVALID_RATE"),
        (" 7.12", "INVALID_RATE"),
        ("7.12\n", "INVALID_RATE"),
        ("7_1", "INVALID_RATE"),
        ("+7.12", "INVALID_RATE"),
        ("7" * 1_000_000, "INVALID_RATE"),
    ],
)
def test_a_rate_that_is_not_a_plain_decimal_string_is_refused(api, staff, value, code):
    response = api(staff).post(
        f"{D}/fx-rates/", {"currency": "USD", "cny_per_unit": value}, format="json"
    )
    assert_error(response, 400, code)
    assert not FxRate.objects.exists()


def test_rates_are_kept_for_foreign_currencies_only(api, staff):
    response = api(staff).post(
        f"{D}/fx-rates/", {"currency": "CNY", "cny_per_unit": "1"}, format="json"
    )
    assert_error(response, 400, "VALIDATION_ERROR")


# --- Supervisors read everything and change nothing -----------------------------------------------


def test_a_supervisor_can_write_nothing_in_deposits(api, project, supplier, staff, supervisor):
    deposit = funded(supplier, project)
    refund = instructed_refund(staff, deposit)
    bank_post(BANK.refund_confirmation(refund.pk, status="failed", bank_reference="X"), CONFIRM)
    guarantee = submitted_guarantee(supplier, project, "BG-S")
    lot = project.lots.get()
    client = api(supervisor)
    writes = [
        (f"{D}/lots/{lot.pk}/sub-account/", {}),
        (f"{D}/refunds/batches/", {}),
        (f"{D}/refunds/{refund.pk}/reschedule/", {}),
        (f"{D}/guarantees/{guarantee.pk}/verify/", {"accepted": True, "method": "x"}),
        (f"{D}/deposits/{deposit.pk}/forfeit/", {"reason": "refused_to_sign", "note": "x"}),
        (f"{D}/deposits/{deposit.pk}/refund/", {"reason": "withdrawal"}),
        (f"{D}/fx-rates/", {"currency": "USD", "cny_per_unit": "7.1"}),
    ]
    events = AuditEvent.objects.count()
    for url, body in writes:
        assert_error(client.post(url, body, format="json"), 403, "FORBIDDEN")
    upload = {
        "kind": "bank_guarantee",
        "issuer": "银行",
        "number": "N",
        "amount": "1",
        "valid_from": "2026-03-01",
        "valid_until": "2027-03-01",
        "file": SimpleUploadedFile("g.pdf", b"%PDF"),
    }
    assert_error(client.post(f"{D}/lots/{lot.pk}/guarantees/", upload), 403, "FORBIDDEN")
    assert AuditEvent.objects.count() == events
    for url in (
        f"{D}/custody/",
        f"{D}/deposits/",
        f"{D}/refunds/",
        f"{D}/refunds/batches/",
        f"{D}/refunds/batches/{refund.batch_id}/csv",
        f"{D}/guarantees/",
        f"{D}/fx-rates/",
        f"{D}/notifications/",
    ):
        assert client.get(url).status_code == 200, url


def test_a_held_payment_and_its_refund_through_the_batch(api, project, supplier, staff):
    account = register_with_account(supplier, project)
    pay(account, "300.00", payer_name="某某投资有限公司", payer_account="622200001234")
    (refund,) = api(staff).get(f"{D}/refunds/", {"reason": "payer_mismatch"}).json()["results"]
    assert refund["deposit"] is None and refund["notification"]
    made = api(staff).post(f"{D}/refunds/batches/", {}, format="json")
    assert made.json()["refunds"] == [refund["id"]]
    bank_post(BANK.refund_confirmation(refund["id"], bank_reference="RF-HELD"), CONFIRM)
    books = api(staff).get(f"{D}/custody/").json()
    assert books["check"]["ok"] is True
    assert books["totals"][0]["suspense"] == books["totals"][0]["custody"] == "0.00"


@pytest.mark.parametrize(
    "url",
    [
        f"{D}/lots/{10**30}/sub-account/",
        f"{D}/deposits/{10**30}/forfeit/",
        f"{D}/deposits/{10**30}/refund/",
        f"{D}/refunds/{10**30}/reschedule/",
        f"{D}/guarantees/{10**30}/verify/",
        f"/api/v1/alerts/{10**30}/handle/",
    ],
)
def test_an_absurd_id_is_not_found_rather_than_a_database_error(api, staff, url):
    assert_error(api(staff).post(url, {}, format="json"), 404, "NOT_FOUND")
    assert_error(api(staff).get(f"{D}/refunds/batches/{10**30}/csv"), 404, "NOT_FOUND")
