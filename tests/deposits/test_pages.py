"""The deposit pages: who may reach each one (permitted/denied pairs for the bidder, another bidder,
center staff, a supervisor and an anonymous visitor), every write through its service with the
service's message shown and the input kept, and the simulated bank crediting a deposit end to end."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.actors import Actor
from accounts.models import Role
from audit.models import Alert, AuditEvent
from deposits import services
from deposits.models import (
    Account,
    BankNotification,
    BankStatement,
    Deposit,
    Forfeiture,
    FxRate,
    Guarantee,
    Refund,
    RefundBatch,
)
from deposits.reconciliation import COLUMNS
from tests.amounts import PAGE_MESSAGE, REFUSED_TEXT
from tests.conftest import make_org, make_user
from tests.deposits.helpers import BANK, T0, pay, register_with_account, tender
from trading import services as trading

pytestmark = pytest.mark.django_db

PAID_AT = T0 + dt.timedelta(days=1)


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page(response) -> str:
    return response.content.decode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def simulator(settings):
    settings.DEPOSIT_BANK_SIMULATOR = True


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


@pytest.fixture
def lot(project):
    return project.lots.get()


@pytest.fixture
def account(supplier, project):
    return register_with_account(supplier, project)


@pytest.fixture
def deposit(account):
    pay(account, "500000.00", at=PAID_AT, txn="TX-SUPPLIER")
    return Deposit.objects.get(account=account)


@pytest.fixture
def other_account(other_supplier, project):
    return register_with_account(other_supplier, project)


def confirm(refund, status="paid"):
    message = BANK.refund_confirmation(refund.pk, status=status)
    return services.confirm_refund(message.bank, message.body, message.signature)


def schedule(staff, deposit) -> Refund:
    return services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")


def anonymous_redirects(url: str, method: str = "get") -> None:
    response = getattr(Client(), method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- My deposits ----------------------------------------------------------------------------------


def test_a_bidder_sees_its_sub_account_deposit_and_qualification(supplier, deposit, account):
    response = client_for(supplier).get(reverse("my_deposits"))
    assert response.status_code == 200
    html = page(response)
    assert "我的保证金" in html
    assert account.number in html
    assert "已足额" in html and "保证金已足额按时缴纳。" in html
    assert 'data-code="QUALIFIED"' in html
    assert "500,000.00" in html
    assert reverse("deposit_receipt", args=[deposit.pk]) in html


def test_another_bidder_sees_only_its_own_lots(supplier, other_supplier, deposit, other_account):
    html = page(client_for(other_supplier).get(reverse("my_deposits")))
    assert other_account.number in html
    assert deposit.account.number not in html
    assert reverse("deposit_receipt", args=[deposit.pk]) not in html
    assert 'data-code="NO_DEPOSIT"' in html


def test_center_staff_and_supervisors_are_sent_to_the_custody_page(staff, supervisor):
    for user in (staff, supervisor):
        response = client_for(user).get(reverse("my_deposits"))
        assert response.status_code == 302
        assert response["Location"] == reverse("custody")


def test_an_agent_may_not_open_my_deposits_and_anonymous_must_log_in(agent):
    assert client_for(agent).get(reverse("my_deposits")).status_code == 403
    anonymous_redirects(reverse("my_deposits"))


def test_a_registered_bidder_opens_its_sub_account_from_the_page(supplier, project, lot):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    html = page(client_for(supplier).get(reverse("my_deposits")))
    assert "申请保证金子账户" in html
    response = client_for(supplier).post(
        reverse("deposit_open_account", args=[lot.pk]), {f"a{lot.pk}-currency": "CNY"}
    )
    assert response.status_code == 302
    account = Account.objects.get(organization=supplier.organization, lot=lot)
    assert account.number == services.sub_account_number(lot, supplier.organization, "CNY")
    assert account.number in page(client_for(supplier).get(reverse("my_deposits")))


def test_opening_a_sub_account_is_refused_to_others(
    supplier, other_supplier, staff, supervisor, project, lot
):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    url = reverse("deposit_open_account", args=[lot.pk])
    # Not registered for the lot: not its business.
    assert client_for(other_supplier).post(url, {f"a{lot.pk}-currency": "CNY"}).status_code == 404
    for user in (staff, supervisor):
        assert client_for(user).post(url, {f"a{lot.pk}-currency": "CNY"}).status_code == 403
    anonymous_redirects(url, "post")
    assert not Account.objects.filter(kind=Account.Kind.SUB_ACCOUNT).exists()


def test_a_currency_the_lot_does_not_offer_is_refused(supplier, project, lot):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    response = client_for(supplier).post(
        reverse("deposit_open_account", args=[lot.pk]), {f"a{lot.pk}-currency": "USD"}
    )
    # The form offers only the lot's currencies; a forged choice is caught before the service.
    assert response.status_code == 400
    assert not Account.objects.exists()


def guarantee_post(lot, **overrides) -> dict:
    data = {
        "kind": "bank_guarantee",
        "issuer": "中国建设银行珠海分行",
        "number": "BG-2026-001",
        "amount": "500000.00",
        "valid_from": "2026-03-01",
        "valid_until": "2026-12-31",
        "file": SimpleUploadedFile("保函.pdf", b"%PDF-1.4 guarantee", "application/pdf"),
    }
    data.update(overrides)
    return {f"g{lot.pk}-{key}": value for key, value in data.items()}


def test_a_bidder_files_a_guarantee_and_staff_verify_it(supplier, staff, project, lot):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    url = reverse("deposit_submit_guarantee", args=[lot.pk])
    with travel(T0 + dt.timedelta(hours=2)):  # filed before the deadline
        response = client_for(supplier).post(url, guarantee_post(lot))
    assert response.status_code == 302
    guarantee = Guarantee.objects.get()
    assert guarantee.status == Guarantee.Status.SUBMITTED
    assert "BG-2026-001" in page(client_for(supplier).get(reverse("my_deposits")))
    # Staff see it waiting (with the date it must stay valid until and its verification form), open
    # the file and verify it.
    custody = page(client_for(staff).get(reverse("custody")))
    card = custody.split(f'data-guarantee="{guarantee.pk}"')[1].split("</li>")[0]
    assert "BG-2026-001" in card
    assert services.required_guarantee_validity(lot).strftime("%Y-%m-%d") in card
    assert f'name="v{guarantee.pk}-decision"' in card
    assert client_for(staff).get(reverse("guarantee_file", args=[guarantee.pk])).status_code == 200
    response = client_for(staff).post(
        reverse("guarantee_verify", args=[guarantee.pk]),
        {f"v{guarantee.pk}-decision": "accept", f"v{guarantee.pk}-method": "电子保函平台验真"},
    )
    assert response.status_code == 302
    guarantee.refresh_from_db()
    assert guarantee.status == Guarantee.Status.VERIFIED
    assert services.qualification(lot, supplier.organization).qualified


def test_a_refused_guarantee_keeps_the_input_and_shows_why(supplier, project, lot):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    response = client_for(supplier).post(
        reverse("deposit_submit_guarantee", args=[lot.pk]),
        guarantee_post(lot, valid_from="2026-12-31", valid_until="2026-03-01"),
    )
    assert response.status_code == 400
    html = page(response)
    assert "保函失效日不能早于生效日。" in html
    assert 'value="中国建设银行珠海分行"' in html and 'value="BG-2026-001"' in html
    assert not Guarantee.objects.exists()


@pytest.mark.parametrize(("amount", "code"), REFUSED_TEXT)
def test_a_guarantee_amount_on_the_page_is_held_to_the_one_contract(
    supplier, project, lot, amount, code
):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    response = client_for(supplier).post(
        reverse("deposit_submit_guarantee", args=[lot.pk]), guarantee_post(lot, amount=amount)
    )
    assert response.status_code == 400
    assert PAGE_MESSAGE[code] in page(response)
    assert not Guarantee.objects.exists()


def test_guarantees_are_refused_to_others(supplier, other_supplier, staff, project, lot):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    url = reverse("deposit_submit_guarantee", args=[lot.pk])
    assert client_for(other_supplier).post(url, guarantee_post(lot)).status_code == 404
    assert client_for(staff).post(url, guarantee_post(lot)).status_code == 403
    client_for(supplier).post(url, guarantee_post(lot))
    guarantee = Guarantee.objects.get()
    file_url = reverse("guarantee_file", args=[guarantee.pk])
    assert client_for(supplier).get(file_url).status_code == 200
    assert client_for(other_supplier).get(file_url).status_code == 404
    anonymous_redirects(file_url)


# --- One deposit, its receipt and refund notices --------------------------------------------------


def test_the_deposit_page_is_the_bidders_and_the_centers(
    supplier, other_supplier, staff, supervisor, deposit
):
    url = reverse("deposit_detail", args=[deposit.pk])
    html = page(client_for(supplier).get(url))
    assert "TX-SUPPLIER" in html and "已足额" in html
    assert 'data-testid="schedule-refund"' not in html and 'data-testid="forfeit"' not in html
    assert client_for(other_supplier).get(url).status_code == 404
    staff_html = page(client_for(staff).get(url))
    assert 'data-testid="schedule-refund"' in staff_html and 'data-testid="forfeit"' in staff_html
    supervisor_response = client_for(supervisor).get(url)
    assert supervisor_response.status_code == 200
    assert 'data-testid="schedule-refund"' not in page(supervisor_response)
    anonymous_redirects(url)
    assert client_for(staff).get(reverse("deposit_detail", args=[999999])).status_code == 404


def test_the_receipt_pdf_is_served_to_those_who_see_the_deposit(
    supplier, other_supplier, staff, supervisor, deposit
):
    url = reverse("deposit_receipt", args=[deposit.pk])
    for user in (supplier, staff, supervisor):
        response = client_for(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Cache-Control"] == "private, no-store"
        assert response.content.startswith(b"%PDF-")
    assert client_for(other_supplier).get(url).status_code == 404
    anonymous_redirects(url)


def test_refund_notices_follow_the_deposit(supplier, other_supplier, staff, supervisor, deposit):
    refund = schedule(staff, deposit)
    url = reverse("refund_notice", args=[refund.pk])
    for user in (supplier, staff, supervisor):
        response = client_for(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
    assert client_for(other_supplier).get(url).status_code == 404
    anonymous_redirects(url)
    html = page(client_for(supplier).get(reverse("my_deposits")))
    assert url in html and "投标截止前撤回" in html and "待发送" in html


def test_a_payment_held_for_a_third_party_is_shown_to_the_bidder(
    supplier, other_supplier, staff, account
):
    pay(account, "500000.00", payer_name="丙贸易公司", payer_account="6222000011112222", at=PAID_AT)
    refund = Refund.objects.get(reason=Refund.Reason.PAYER_MISMATCH)
    html = page(client_for(supplier).get(reverse("my_deposits")))
    assert "未计入保证金的来款" in html and "丙贸易公司" in html
    assert 'data-code="NO_DEPOSIT"' in html
    url = reverse("refund_notice", args=[refund.pk])
    assert client_for(supplier).get(url).status_code == 200
    assert client_for(staff).get(url).status_code == 200
    assert client_for(other_supplier).get(url).status_code == 404


def test_staff_schedule_a_refund_on_the_deposit_page(staff, deposit):
    response = client_for(staff).post(
        reverse("deposit_schedule_refund", args=[deposit.pk]), {"reason": "withdrawal"}
    )
    assert response.status_code == 302
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REFUND_SCHEDULED
    assert Refund.objects.get(deposit=deposit).reason == "withdrawal"


def test_scheduling_a_refund_is_refused_to_everyone_else(
    supplier, other_supplier, supervisor, deposit
):
    url = reverse("deposit_schedule_refund", args=[deposit.pk])
    for user, status in ((supervisor, 403), (supplier, 403), (other_supplier, 404)):
        response = client_for(user).post(url, {"reason": "withdrawal"})
        assert response.status_code == status
    anonymous_redirects(url, "post")
    assert not Refund.objects.exists()
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.HELD


def test_forfeiture_needs_the_facts_and_keeps_what_was_typed(staff, supervisor, deposit):
    url = reverse("deposit_forfeit", args=[deposit.pk])
    response = client_for(staff).post(url, {"reason": "refused_to_sign", "note": "   "})
    assert response.status_code == 400
    assert 'value="refused_to_sign" selected' in page(response)
    response = client_for(supervisor).post(
        url, {"reason": "refused_to_sign", "note": "中标后拒绝签订合同。"}
    )
    assert response.status_code == 403
    assert "您没有执行此操作的权限。" in page(response)
    assert not Forfeiture.objects.exists()
    response = client_for(staff).post(
        url, {"reason": "refused_to_sign", "note": "中标后拒绝签订合同。"}
    )
    assert response.status_code == 302
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.FORFEITED
    # Twice: the service's conflict, shown on the page with the input kept.
    response = client_for(staff).post(url, {"reason": "refused_to_sign", "note": "再次没收"})
    assert response.status_code == 409
    assert "不能没收" in page(response) and "再次没收" in page(response)


# --- The custody dashboard ------------------------------------------------------------------------


def test_the_custody_page_shows_the_books_to_staff_and_supervisors(
    staff, supervisor, supplier, deposit, account
):
    pay(account, "1000.00", payer_name="丙贸易公司", payer_account="6222000011112222", at=PAID_AT)
    for user in (staff, supervisor):
        response = client_for(user).get(reverse("custody"))
        assert response.status_code == 200
        html = page(response)
        assert 'data-testid="ledger-check" data-ok="true"' in html
        assert "501,000.00" in html  # custody: the deposit and the held payment
        assert "丙贸易公司" in html  # held payment and its refund
        assert "保证金付款人与投标人不符" in html  # the open alert
        assert supplier.organization.name in html
    staff_html = page(client_for(staff).get(reverse("custody")))
    supervisor_html = page(client_for(supervisor).get(reverse("custody")))
    for form in ("create-batch", "fx-form", "statement-form"):
        assert f'data-testid="{form}"' in staff_html
        assert f'data-testid="{form}"' not in supervisor_html


def test_the_custody_page_is_not_for_bidders_or_anonymous(supplier, agent):
    for user in (supplier, agent):
        assert client_for(user).get(reverse("custody")).status_code == 403
    anonymous_redirects(reverse("custody"))


def test_the_custody_search_finds_a_bidders_deposits(staff, deposit, other_supplier, project):
    other = register_with_account(other_supplier, project)
    pay(other, "500000.00", at=PAID_AT, payer_account="6222000099990000")
    html = page(client_for(staff).get(reverse("custody"), {"q": "乙建设"}))
    table = html.split('data-testid="custody-deposits"')[1]
    assert "乙建设公司" in table and "甲建设公司" not in table


def test_staff_create_a_refund_batch_and_download_its_csv(staff, supervisor, supplier, deposit):
    refund = schedule(staff, deposit)
    assert client_for(supervisor).post(reverse("refund_batch_create")).status_code == 403
    assert not RefundBatch.objects.exists()
    assert client_for(supplier).post(reverse("refund_batch_create")).status_code == 403
    response = client_for(staff).post(reverse("refund_batch_create"))
    assert response.status_code == 302
    batch = RefundBatch.objects.get()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.INSTRUCTED and refund.batch == batch
    url = reverse("refund_batch_csv", args=[batch.pk])
    for user in (staff, supervisor):
        response = client_for(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response.content.decode() == batch.csv
        assert f"{refund.pk},甲建设公司" in batch.csv
    assert client_for(supplier).get(url).status_code == 403
    # Nothing left to send: said, and no empty batch.
    response = client_for(staff).post(reverse("refund_batch_create"), follow=True)
    assert "没有待发送的退款。" in page(response)
    assert RefundBatch.objects.count() == 1


def test_a_batch_until_a_day_takes_only_refunds_due_by_then(staff, deposit):
    refund = schedule(staff, deposit)
    due_day = refund.due_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    client_for(staff).post(
        reverse("refund_batch_create"), {"until": (due_day - dt.timedelta(days=1)).isoformat()}
    )
    assert not RefundBatch.objects.exists()
    client_for(staff).post(reverse("refund_batch_create"), {"until": due_day.isoformat()})
    assert RefundBatch.objects.get().refunds.get() == refund


def test_overdue_refunds_are_highlighted(staff, deposit):
    with travel(PAID_AT):
        refund = schedule(staff, deposit)
    html = page(client_for(staff).get(reverse("custody")))
    row = html.split(f'data-refund="{refund.pk}"')[0].rsplit("<tr", 1)[1]
    # It fell due five days after it was scheduled: overdue now, and still owed.
    assert 'class="overdue"' in row
    with travel(PAID_AT + dt.timedelta(days=1)):
        html = page(client_for(staff).get(reverse("custody")))
    row = html.split(f'data-refund="{refund.pk}"')[0].rsplit("<tr", 1)[1]
    assert 'class="overdue"' not in row


def test_a_failed_refund_is_rescheduled_by_staff_only(staff, supervisor, deposit):
    refund = schedule(staff, deposit)
    services.create_refund_batch(Actor.for_user(staff))
    confirm(refund, "failed")
    url = reverse("refund_reschedule", args=[refund.pk])
    assert client_for(supervisor).post(url).status_code == 403
    assert Refund.objects.count() == 1
    assert client_for(staff).post(url).status_code == 302
    assert Refund.objects.filter(status=Refund.Status.SCHEDULED).count() == 1


def test_guarantee_verification_is_refused_to_supervisors_and_bidders(
    supplier, supervisor, project, lot
):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    client_for(supplier).post(
        reverse("deposit_submit_guarantee", args=[lot.pk]), guarantee_post(lot)
    )
    guarantee = Guarantee.objects.get()
    data = {f"v{guarantee.pk}-decision": "accept", f"v{guarantee.pk}-method": "自行核验"}
    url = reverse("guarantee_verify", args=[guarantee.pk])
    assert client_for(supervisor).post(url, data).status_code == 403
    assert client_for(supplier).post(url, data).status_code == 403
    guarantee.refresh_from_db()
    assert guarantee.status == Guarantee.Status.SUBMITTED


def test_a_short_guarantee_is_refused_with_the_date_it_must_reach(staff, supplier, project, lot):
    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    client_for(supplier).post(
        reverse("deposit_submit_guarantee", args=[lot.pk]),
        guarantee_post(lot, valid_until="2026-03-20"),
    )
    guarantee = Guarantee.objects.get()
    response = client_for(staff).post(
        reverse("guarantee_verify", args=[guarantee.pk]),
        {f"v{guarantee.pk}-decision": "accept", f"v{guarantee.pk}-method": "致电出具银行核实"},
    )
    assert response.status_code == 400
    html = page(response)
    assert "保函有效期须覆盖投标有效期" in html
    assert 'value="致电出具银行核实"' in html


def test_staff_keep_exchange_rates_and_supervisors_cannot(staff, supervisor):
    data = {"currency": "HKD", "cny_per_unit": "0.921500", "source": "中国银行折算价"}
    assert client_for(supervisor).post(reverse("fx_rate_set"), data).status_code == 403
    assert not FxRate.objects.exists()
    assert client_for(staff).post(reverse("fx_rate_set"), data).status_code == 302
    rate = FxRate.objects.get()
    assert rate.cny_per_unit == Decimal("0.921500") and rate.entered_by == staff
    assert "0.921500" in page(client_for(supervisor).get(reverse("custody")))
    response = client_for(staff).post(
        reverse("fx_rate_set"), {"currency": "CNY", "cny_per_unit": "1"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "rate",
    [
        "０.９２１５",
        "٠.٩٢١٥",
        " 0.9215",
        "0.9215 ",
        "9.215e-1",
        "+0.9215",
        "0.9_215",
        "0.1234567",
        "0",
    ],
)
def test_an_exchange_rate_on_the_page_is_held_to_its_contract(staff, rate):
    response = client_for(staff).post(
        reverse("fx_rate_set"), {"currency": "HKD", "cny_per_unit": rate}
    )
    assert response.status_code == 400
    assert "汇率须为正数" in page(response)
    assert not FxRate.objects.exists()


def statement_csv(*rows: tuple) -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def test_staff_import_a_statement_and_see_the_reconciliation(staff, supervisor, deposit):
    day = PAID_AT.date()
    csv_bytes = statement_csv(
        ("TX-SUPPLIER", PAID_AT.isoformat(), "credit", "500000.00", "CNY", "甲建设公司", "1"),
        ("TX-LOST", PAID_AT.isoformat(), "credit", "800.00", "CNY", "丁公司", "2"),
    )

    def post(user):
        return client_for(user).post(
            reverse("statement_import"),
            {
                "bank": "ICBC",
                "statement_date": day.isoformat(),
                "file": SimpleUploadedFile("statement.csv", csv_bytes, "text/csv"),
            },
        )

    assert post(supervisor).status_code == 403
    assert not BankStatement.objects.exists()
    response = post(staff)
    assert response.status_code == 302
    statement = BankStatement.objects.get()
    assert response["Location"] == reverse("statement_detail", args=[statement.pk])
    for user in (staff, supervisor):
        html = page(client_for(user).get(response["Location"]))
        assert 'data-clean="false"' in html
        assert "TX-LOST" in html.split('data-testid="statement-only"')[1]
    # The same file again: the service's conflict, on the page.
    again = post(staff)
    assert again.status_code == 409 and "该对账单已导入。" in page(again)


def test_a_malformed_statement_is_refused_with_the_line(staff):
    response = client_for(staff).post(
        reverse("statement_import"),
        {
            "bank": "ICBC",
            "statement_date": "2026-03-03",
            "file": SimpleUploadedFile(
                "s.csv", statement_csv(("X", "yesterday", "credit", "1", "CNY", "", "")), "text/csv"
            ),
        },
    )
    assert response.status_code == 400
    assert "第 2 行内容无效。" in page(response)


@pytest.mark.parametrize(("amount", "code"), REFUSED_TEXT)
def test_a_statement_amount_on_the_page_is_held_to_the_one_contract(staff, amount, code):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([COLUMNS, ("X", PAID_AT.isoformat(), "credit", amount, "CNY", "甲", "1")])
    response = client_for(staff).post(
        reverse("statement_import"),
        {
            "bank": "ICBC",
            "statement_date": "2026-03-03",
            "file": SimpleUploadedFile("s.csv", out.getvalue().encode(), "text/csv"),
        },
    )
    assert response.status_code == 400
    # A megabyte cell is over the csv module's field limit: refused as a malformed file.
    expected = "第 2 行内容无效" if len(amount) > csv.field_size_limit() else PAGE_MESSAGE[code]
    assert expected in page(response)
    assert not BankStatement.objects.exists()


def test_statement_reports_are_not_for_bidders(staff, supplier, deposit):
    statement_text = statement_csv(
        ("TX-SUPPLIER", PAID_AT.isoformat(), "credit", "500000.00", "CNY", "甲", "1")
    ).decode()
    from deposits.reconciliation import import_statement

    report = import_statement(Actor.for_user(staff), "ICBC", PAID_AT.date(), statement_text)
    url = reverse("statement_detail", args=[report.statement.pk])
    assert client_for(supplier).get(url).status_code == 403
    anonymous_redirects(url)


# --- The bank simulator ---------------------------------------------------------------------------


def test_the_simulator_is_for_center_staff_only(simulator, staff, supervisor, supplier, agent):
    response = client_for(staff).get(reverse("bank_simulator"))
    assert response.status_code == 200
    assert "模拟银行" in page(response) and 'data-testid="demo-banner"' in page(response)
    for user in (supervisor, supplier, agent):
        assert client_for(user).get(reverse("bank_simulator")).status_code == 403
    anonymous_redirects(reverse("bank_simulator"))


@pytest.mark.parametrize("result", ["１", "9" * 100, "-1"])
def test_a_result_that_is_no_notification_id_shows_no_result(simulator, staff, result):
    response = client_for(staff).get(reverse("bank_simulator"), {"result": result})
    assert response.status_code == 200
    assert "data-outcome" not in page(response)


def test_the_simulator_does_not_exist_in_production(settings, staff):
    """Off, the page is not there at all. The setting follows DEBUG unless the environment sets it
    (tests/config/test_settings.py)."""
    settings.DEPOSIT_BANK_SIMULATOR = False
    assert client_for(staff).get(reverse("bank_simulator")).status_code == 404
    settings.DEPOSIT_BANK_SIMULATOR = True
    assert client_for(staff).get(reverse("bank_simulator")).status_code == 200


def test_the_simulator_credits_a_deposit_end_to_end(simulator, staff, supplier, account, lot):
    client = client_for(staff)
    # "Pay into this account" fills in the lot's deposit and the bidder as payer.
    prefilled = page(client.get(reverse("bank_simulator"), {"account": account.number}))
    assert f'value="{account.number}"' in prefilled
    assert 'value="500000.00"' in prefilled and 'value="甲建设公司"' in prefilled
    events = AuditEvent.objects.count()
    with travel(PAID_AT):
        response = client.post(
            reverse("bank_simulator"),
            {
                "bank": "ICBC",
                "account_number": account.number,
                "amount": "500000.00",
                "currency": "CNY",
            },
        )
    assert response.status_code == 302
    notification = BankNotification.objects.get()
    assert notification.outcome == BankNotification.Outcome.CREDITED
    assert notification.payer_name == "甲建设公司"
    assert notification.value_at == PAID_AT
    assert AuditEvent.objects.count() > events
    result = page(client.get(response["Location"]))
    assert 'data-outcome="credited"' in result and "款项已入投标人子账户" in result
    deposit = Deposit.objects.get(notification=notification)
    assert deposit.status == Deposit.Status.HELD
    assert services.qualification(lot, supplier.organization).code == "QUALIFIED"
    assert "已足额" in page(client_for(supplier).get(reverse("my_deposits")))
    # The bank retries the same message: a replay, nothing credited twice.
    replay = client.post(reverse("bank_simulator_replay", args=[notification.pk]))
    assert replay.status_code == 302 and replay["Location"].endswith("&replay=1")
    assert "重放" in page(client.get(replay["Location"]))
    assert Deposit.objects.count() == 1 and BankNotification.objects.count() == 1


@pytest.mark.parametrize(("amount", "code"), REFUSED_TEXT)
def test_a_simulated_amount_is_held_to_the_one_contract(simulator, staff, account, amount, code):
    response = client_for(staff).post(
        reverse("bank_simulator"),
        {"bank": "ICBC", "account_number": account.number, "amount": amount, "currency": "CNY"},
    )
    assert response.status_code == 400
    assert PAGE_MESSAGE[code] in page(response)
    assert not BankNotification.objects.exists()


def test_a_simulated_third_party_payment_is_held(simulator, staff, supplier, account):
    response = client_for(staff).post(
        reverse("bank_simulator"),
        {
            "bank": "ICBC",
            "account_number": account.number,
            "amount": "500000.00",
            "currency": "CNY",
            "payer_name": "丙贸易公司",
            "payer_account": "6222000011112222",
        },
        follow=True,
    )
    assert 'data-outcome="payer_mismatch"' in page(response)
    assert not Deposit.objects.exists()
    assert Refund.objects.get().payee_name == "丙贸易公司"
    assert Alert.objects.filter(kind=Alert.Kind.PAYER_MISMATCH).exists()


def test_a_payment_to_an_unknown_account_is_held(simulator, staff):
    response = client_for(staff).post(
        reverse("bank_simulator"),
        {
            "bank": "ICBC",
            "account_number": "6222999",
            "amount": "10.00",
            "currency": "CNY",
            "payer_name": "某公司",
            "payer_account": "1",
        },
        follow=True,
    )
    assert 'data-outcome="unknown_account"' in page(response)


def test_a_conflicting_replay_is_refused_and_the_form_kept(simulator, staff, account):
    data = {
        "bank": "ICBC",
        "account_number": account.number,
        "amount": "500000.00",
        "currency": "CNY",
        "transaction_id": "SAME-TXN",
        "value_time": "2026-03-03T10:00",
    }
    assert client_for(staff).post(reverse("bank_simulator"), data).status_code == 302
    response = client_for(staff).post(reverse("bank_simulator"), {**data, "amount": "1.00"})
    assert response.status_code == 409
    html = page(response)
    assert "该银行流水已按不同内容入账" in html
    assert 'value="SAME-TXN"' in html and 'value="1.00"' in html
    assert BankNotification.objects.count() == 1
    assert Alert.objects.filter(kind=Alert.Kind.BANK_REPLAY_CONFLICT).exists()


def test_the_simulator_confirms_refunds_paid_or_failed(simulator, staff, supplier, deposit):
    refund = schedule(staff, deposit)
    services.create_refund_batch(Actor.for_user(staff))
    html = page(client_for(staff).get(reverse("bank_simulator")))
    assert f'data-refund="{refund.pk}"' in html
    response = client_for(staff).post(
        reverse("bank_simulator_confirm", args=[refund.pk]), {"status": "paid"}, follow=True
    )
    assert "已付" in page(response)
    refund.refresh_from_db()
    deposit.refresh_from_db()
    assert refund.status == Refund.Status.PAID and refund.bank_reference
    assert deposit.status == Deposit.Status.REFUNDED
    supplier_html = page(client_for(supplier).get(reverse("my_deposits")))
    assert "已退还" in supplier_html and "已到账" in supplier_html
    # A second confirmation with another reference for a settled refund: refused, shown.
    again = client_for(staff).post(
        reverse("bank_simulator_confirm", args=[refund.pk]), {"status": "failed"}
    )
    assert again.status_code == 409
    assert "该退款已有不同的银行回单" in page(again)


def test_the_simulator_refuses_supervisors_writes(simulator, staff, supervisor, deposit, account):
    refund = schedule(staff, deposit)
    services.create_refund_batch(Actor.for_user(staff))
    data = {"bank": "ICBC", "account_number": account.number, "amount": "1.00", "currency": "CNY"}
    assert client_for(supervisor).post(reverse("bank_simulator"), data).status_code == 403
    url = reverse("bank_simulator_confirm", args=[refund.pk])
    assert client_for(supervisor).post(url, {"status": "paid"}).status_code == 403
    assert BankNotification.objects.count() == 1
    refund.refresh_from_db()
    assert refund.status == Refund.Status.INSTRUCTED


def test_a_barred_bidder_cannot_open_an_account_and_is_told_why(supplier, project, lot, staff):
    from accounts import services as accounts_services
    from accounts.models import IntegrityRecord

    with travel(T0 + dt.timedelta(hours=1)):
        trading.register(Actor.for_user(supplier), lot)
    accounts_services.bar_organization(
        Actor.for_user(staff),
        supplier.organization,
        category=IntegrityRecord.Category.BAD_CONDUCT,
        source=IntegrityRecord.Source.REGULATOR,
        reason="提供虚假材料",
        decision_number="珠发改处〔2026〕99号",
        barred_from=dt.date(2020, 1, 1),
        barred_until=None,
    )
    response = client_for(supplier).post(
        reverse("deposit_open_account", args=[lot.pk]), {f"a{lot.pk}-currency": "CNY"}
    )
    assert response.status_code == 403
    html = page(response)
    assert 'data-testid="lot-error"' in html and "被限制参与交易" in html
    assert not Account.objects.exists()


def test_a_bidder_without_registrations_is_pointed_to_the_portal(db):
    org = make_org()
    user = make_user("lonely", Role.SUPPLIER, org)
    html = page(client_for(user).get(reverse("my_deposits")))
    assert "还没有报名任何标段" in html
