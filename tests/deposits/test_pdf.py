"""The deposit receipt and the refund notice as PDF: Chinese, amounts and hashes that extract, the
content hash that can be recomputed, the embedded font, and rendering outside any transaction."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.actors import Actor
from deposits import pdf, services
from deposits.models import Deposit, Refund
from lib.pdf import FONT_NAME, chinese
from lib.pdfsign import unsigned_revision
from tests.deposits.helpers import BANK, T0, pay, register_with_account, tender
from tests.pdfsigned import assert_platform_signed
from tests.trading.factories import beijing
from trading import services as trading

pytestmark = pytest.mark.django_db

PRINTED = beijing("2026-03-04 15:30")


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def flat(text: str) -> str:
    """Extracted text without line breaks, so wrapped lines read as one."""
    return re.sub(r"\s*\n\s*", "", text)


def fonts_of(content: bytes) -> list[tuple[str, bool]]:
    fonts = []
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            fonts.append((str(font["/BaseFont"]), "/FontFile2" in descriptor))
    return fonts


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://ggzy.example.cn"


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


@pytest.fixture
def deposit(supplier, project):
    account = register_with_account(supplier, project)
    pay(
        account,
        "500000.00",
        at=beijing("2026-03-03 10:15:30"),
        txn="ICBC20260303A1",
        payer_account="44050166000100001111",
    )
    return Deposit.objects.get(account=account)


def test_the_receipt_states_the_deposit_in_chinese(site, deposit, supplier, project):
    text = text_of(pdf.render_receipt(deposit, printed_at=PRINTED))
    flat_text = flat(text)
    assert "保证金到账回执" in text
    assert supplier.organization.name in text and supplier.organization.uscc in text
    assert project.number in text and "珠海市第一中学教学楼改造工程" in flat_text
    assert "第 1 标段/包 一标段" in text
    assert deposit.account.number in text
    assert "500,000.00 人民币（CNY）" in text
    # The bank's value time, stored in UTC, printed in Beijing time to the second.
    assert "2026-03-03 10:15:30（北京时间）" in text
    assert "ICBC ICBC20260303A1" in text
    assert "甲建设公司" in text and "44050166000100001111" in text
    assert "保证金已足额按时缴纳。" in flat_text
    assert "2026-03-04 15:30:00（北京时间）" in text  # printing time
    assert "折合人民币" not in text  # RMB needs no conversion


def test_the_receipt_hash_is_the_hash_of_its_stated_content(site, deposit):
    content = pdf.render_receipt(deposit, printed_at=PRINTED)
    with chinese():
        stated = pdf.receipt_content(deposit, printed_at=PRINTED)
    digest = pdf.content_sha256(stated)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest in flat(text_of(content))
    # Anything printed changes the hash: here, the qualification once the deposit is refunded.
    services.schedule_refund(Actor.system("test"), deposit, reason="withdrawal")
    deposit.refresh_from_db()
    with chinese():
        later = pdf.receipt_content(deposit, printed_at=PRINTED)
    assert later["qualification"]["code"] == "NO_DEPOSIT"
    assert pdf.content_sha256(later) != digest
    assert "尚未收到保证金。" in flat(text_of(pdf.render_receipt(deposit, printed_at=PRINTED)))


def test_the_receipt_points_to_the_bidders_deposit_page(site, deposit):
    url = f"https://ggzy.example.cn/deposits/{deposit.pk}/"
    assert pdf.deposit_page_url(deposit) == url
    assert url in flat(text_of(pdf.render_receipt(deposit, printed_at=PRINTED)))


def test_the_receipt_is_repeatable_and_embeds_only_the_chinese_font(site, deposit):
    first = pdf.render_receipt(deposit, printed_at=PRINTED)
    # The rendered document repeats byte for byte; the platform's signature after it is made anew.
    assert unsigned_revision(first) == unsigned_revision(
        pdf.render_receipt(deposit, printed_at=PRINTED)
    )
    fonts = fonts_of(first)
    assert fonts and all(FONT_NAME in name and embedded for name, embedded in fonts), fonts
    assert b"Helvetica" not in first


def test_a_foreign_currency_receipt_gives_the_rate_and_the_rmb_equivalent(
    site, agent, staff, supplier
):
    project = tender(agent, staff)
    lot = project.lots.get()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(supplier), lot)
        services.set_fx_rate(Actor.for_user(staff), "HKD", Decimal("0.921500"), source="中国银行")
        # Land listings may take HKD (issue 8 adds the lot field); the service reads it off the lot.
        lot.deposit_currencies = ["CNY", "HKD"]
        account = services.open_sub_account(Actor.for_user(supplier), lot, currency="HKD")
    pay(account, "100000.00", currency="HKD", at=beijing("2026-03-03 11:00"))
    deposit = Deposit.objects.get(account=account)
    text = text_of(pdf.render_receipt(deposit, printed_at=PRINTED))
    assert "100,000.00 港元（HKD）" in text
    assert "1 HKD = 0.921500 CNY" in text
    assert "92,150.00 元" in text


def test_a_guarantee_has_no_bank_receipt(site, deposit, supplier):
    client = Client()
    client.force_login(supplier)
    Deposit.objects.filter(pk=deposit.pk).update(form=Deposit.Form.GUARANTEE)
    assert client.get(reverse("deposit_receipt", args=[deposit.pk])).status_code == 404
    deposit.refresh_from_db()
    with pytest.raises(ValueError):
        pdf.receipt_content(deposit)


# --- Refund notices -------------------------------------------------------------------------------


def test_a_withdrawal_notice_gives_the_reason_basis_and_due_date(site, deposit, supplier):
    withdrawn = beijing("2026-03-10 15:00")
    (refund,) = services.refund_on_withdrawal(
        Actor.system("test"), deposit.lot, supplier.organization, withdrawn
    )
    content = pdf.render_refund_notice(refund, printed_at=PRINTED)
    text = text_of(content)
    flat_text = flat(text)
    assert "保证金退还通知" in text
    assert f"R{refund.pk:08d}" in text
    assert "甲建设公司" in text and "44050166000100001111" in text
    assert "500,000.00 人民币（CNY）" in text
    assert "0.00 人民币（CNY）（本项退还不计利息）" in flat_text
    assert "投标截止前撤回" in text
    assert "《招标投标法实施条例》第三十五条" in flat_text
    # Due 5 days after the written notice; they end on Sunday the 15th, so on Monday.
    assert "2026-03-16 15:00:00（北京时间）" in text
    assert "待发送" in text
    with chinese():
        digest = pdf.content_sha256(pdf.refund_notice_content(refund, printed_at=PRINTED))
    assert digest in flat_text
    assert f"https://ggzy.example.cn/deposits/{deposit.pk}/" in flat_text
    assert all(FONT_NAME in name and embedded for name, embedded in fonts_of(content))


def test_a_notice_with_interest_states_the_days_and_the_rate(
    site, settings, agent, staff, supplier
):
    settings.DEPOSIT_DEMAND_RATE = "0.0035"
    project = tender(agent, staff)
    account = register_with_account(supplier, project)
    pay(account, "500000", at=beijing("2026-03-05 10:00"))
    signed = beijing("2026-05-20 16:00")
    (refund,) = services.refund_on_contract_signed(
        Actor.system("test"), project.lots.get(), supplier.organization, signed
    )
    assert refund.interest == Decimal("393.75")
    assert pdf.interest_days(refund) == 81
    text = flat(text_of(pdf.render_refund_notice(refund, printed_at=PRINTED)))
    assert "393.75 人民币（CNY）（计息 81 天，年利率 0.35%" in text
    assert "500,393.75 人民币（CNY）" in text  # total
    assert "合同签订后退还" in text and "第五十七条" in text


def test_a_paid_notice_carries_the_banks_reference(site, staff, deposit):
    refund = services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    services.create_refund_batch(Actor.for_user(staff))
    message = BANK.refund_confirmation(refund.pk, status="paid", bank_reference="RF-ICBC-000777")
    services.confirm_refund(message.bank, message.body, message.signature)
    refund.refresh_from_db()
    text = text_of(pdf.render_refund_notice(refund, printed_at=PRINTED))
    assert "已到账" in text
    assert "RF-ICBC-000777" in text
    assert f"第 {refund.batch_id} 批" in text


def test_a_held_payment_notice_names_the_payer_and_the_original_transfer(site, deposit):
    account = deposit.account
    pay(
        account,
        "20000.00",
        payer_name="丙贸易公司",
        payer_account="6222000011112222",
        at=beijing("2026-03-03 16:00"),
        txn="ICBC-THIRD-1",
    )
    refund = Refund.objects.get(reason=Refund.Reason.PAYER_MISMATCH)
    text = flat(text_of(pdf.render_refund_notice(refund, printed_at=PRINTED)))
    assert "丙贸易公司" in text and "6222000011112222" in text
    assert "付款人不符退回" in text
    assert "ICBC ICBC-THIRD-1" in text
    assert "第二十六条" in text
    assert "20,000.00 人民币（CNY）" in text
    assert account.number in text


@pytest.mark.django_db(transaction=True)
def test_pdfs_are_rendered_outside_any_transaction(site, monkeypatch, agent, staff, supplier):
    project = tender(agent, staff)
    account = register_with_account(supplier, project)
    pay(account, "500000.00", at=beijing("2026-03-03 10:00"))
    deposit = Deposit.objects.get(account=account)
    refund = services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    seen: list[bool] = []
    real_build = pdf.build_pdf

    def spy(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(pdf, "build_pdf", spy)
    client = Client()
    client.force_login(supplier)
    for response in (
        client.get(reverse("deposit_receipt", args=[deposit.pk])),
        client.get(reverse("refund_notice", args=[refund.pk])),
    ):
        assert response.status_code == 200
        # A certificate of money held: signed by the platform like every other document.
        assert_platform_signed(response.content)
    assert seen == [False, False]
