"""A sealed bid signed in a real browser (issue 17): the supplier enrols a browser key on 我的数字证书, then
submits its bid through the page with no password-only fallback. The browser draws the nonce, hashes the
files, computes the bid commitment, has the platform compose the statement, shows it, and signs it; the
bid is kept with its SignedAct — a statement that names bid.submit and the commitment, never the price.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone

from accounts import registration
from accounts.actors import Actor
from accounts.models import OrganizationApplication, User
from bidding.commitment import bid_commitment
from bidding.models import Bid
from lib.errors import DomainError
from signing.models import Certificate, SignedAct
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until
from tests.conftest import make_uscc
from tests.trading.factories import published
from trading import services as trading

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
CODE = "browser-code-2026"
FILES = [b"%PDF commercial part", b"%PDF technical part"]
NEW_PASSWORD = "Qianming-toubiao-2026"


@pytest.fixture
def signatures_required(settings: Any) -> None:
    """Set before daphne_url forks its server, which then refuses unsigned acts too."""
    settings.SIGNING_PASSWORD_FALLBACK = []
    settings.CA_SIMULATOR = True


def open_tender(agent: Any, staff: Any, bidder: Any) -> Any:
    """Published 30 days ago (travelled), closing in an hour (real time)."""
    now = timezone.now()
    start = now - dt.timedelta(days=30)
    lots = [
        {
            "name": "施工",
            "estimate": "9000000.00",
            "ceiling_price": "8800000.00",
            "deposit_amount": "0",
        }
    ]
    with time_machine.travel(start, tick=False):
        project = published(
            agent,
            staff,
            start=start,
            lots=lots,
            documents_from=start,
            documents_until=start + dt.timedelta(days=7),
            questions_until=start + dt.timedelta(days=9),
            bid_deadline=(now + dt.timedelta(hours=1)).replace(microsecond=0),
        )
    if bidder is not None:
        with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
            trading.register(Actor.for_user(bidder), project.lots.get())
    return project


def test_a_supplier_enrols_a_browser_key_and_signs_its_sealed_bid(
    signatures_required, browser, daphne_url, agent, staff, supplier
):
    base = daphne_url
    page: Any = chinese_page(browser, viewport=PHONE)
    errors: list[str] = []

    def keep_csp_refusal(message: Any) -> None:
        if "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", keep_csp_refusal)
    lot = open_tender(agent, staff, supplier).lots.get()
    log_in(page, base, "supplier")

    # A key of this browser's own, certified by the CA simulator and registered.
    page.goto(f"{base}/signing/certificates/")
    wait_until(
        page, "document.querySelector('[data-sign-key-status]').textContent.includes('尚未保存')"
    )
    with page.expect_navigation():
        page.click("[data-testid=sign-enrol]")
    wait_until(page, "!document.querySelector('[data-key-here]').hidden")
    certificate = Certificate.objects.get(holder=supplier)

    # The sealed bid, signed on submission: no fallback, so the form must sign.
    page.goto(f"{base}/bidding/lots/{lot.pk}/bid/")
    form = page.locator("#bid-form")
    assert form.get_attribute("data-sign-act") == "bid.submit"
    assert form.get_attribute("data-sign-optional") is None
    form.locator("input[name=price]").fill("8600000.5")
    form.locator("input[name=decryption_code]").fill(CODE)
    form.locator("input[name=decryption_code_again]").fill(CODE)
    form.locator("input[name=files]").set_input_files(
        [
            {"name": "商务标.pdf", "mimeType": "application/pdf", "buffer": FILES[0]},
            {"name": "技术标.pdf", "mimeType": "application/pdf", "buffer": FILES[1]},
        ]
    )
    form.locator("[data-testid=submit-bid]").click()
    page.wait_for_selector("[data-testid=sign-dialog]")
    nonce = form.locator("input[name=bid_nonce]").input_value()
    expected = bid_commitment(
        "8600000.50", nonce, [hashlib.sha256(content).hexdigest() for content in FILES]
    )
    dialog = page.inner_text("[data-testid=sign-dialog]")
    assert "您将签署：提交投标文件" in dialog and expected in dialog
    assert "8600000" not in dialog
    assert page.inner_text("[data-testid=bid-commitment]") == expected
    fits_the_phone(page)
    page.click("[data-sign-confirm]")
    page.wait_for_url(f"{base}/bidding/lots/{lot.pk}/bid/receipt/")

    bid = Bid.objects.select_related("signed_act").get(lot=lot, organization=supplier.organization)
    assert bid.commitment == expected
    act = bid.signed_act
    assert act is not None and act == SignedAct.objects.get()
    assert act.certificate == certificate and act.user == supplier
    statement = json.loads(act.statement)
    assert statement["act"] == "bid.submit" and statement["digest"] == expected
    assert statement["target"] == {"type": "trading.lot", "id": lot.pk}
    assert "8600000" not in act.statement and nonce not in act.statement
    assert "8600000" not in page.content()
    assert not errors, errors


def test_an_organization_registers_itself_is_approved_and_signs_a_sealed_bid(
    signatures_required, browser, daphne_url, agent, staff
):
    """Issue 17 end to end: self-registration on a phone, email verification, the center's approval
    (before it the organization may not even register for a lot), a browser key certified with the
    organization's credit code, and a sealed bid signed with it."""
    base = daphne_url
    lot = open_tender(agent, staff, None).lots.get()
    page: Any = chinese_page(browser, viewport=PHONE)
    uscc = make_uscc()
    page.goto(f"{base}/accounts/register/")
    fields = {
        "uscc": uscc,
        "name": "珠海端到端建设有限公司",
        "legal_representative": "端法人",
        "basic_account_bank": "中国工商银行珠海分行",
        "basic_account_number": "20040000123456789",
        "region": "440402",
        "contact_name": "端联系",
        "contact_email": "e2e@example.cn",
        "contact_phone": "13700137001",
        "username": "duandaoduan",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    page.select_option("[name=kind]", "supplier")
    page.set_input_files(
        "[name=license]",
        {"name": "licence.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 licence"},
    )
    page.click("[data-testid=register-form] button[type=submit]")
    page.wait_for_url(f"{base}/accounts/register/done/")
    user = User.objects.get(username="duandaoduan")
    link = urlsplit(registration.verification_link(user))
    page.goto(f"{base}{link.path}?{link.query}")
    page.click("[data-testid=verify-email]")
    page.wait_for_url(f"{base}/accounts/application/")
    assert page.locator("[data-testid=application-status]").inner_text() == "待审核"

    # Not approved yet: it may not register for the lot.
    registering_at = timezone.now() - dt.timedelta(days=30) + dt.timedelta(hours=2)
    with time_machine.travel(registering_at, tick=False), pytest.raises(DomainError) as refused:
        trading.register(Actor.for_user(user), lot)
    assert refused.value.code == "ORGANIZATION_NOT_APPROVED"

    application = OrganizationApplication.objects.get(organization__uscc=uscc)
    reviewer: Any = chinese_page(browser)
    log_in(reviewer, base, "staff")
    reviewer.goto(f"{base}/accounts/applications/{application.pk}/")
    reviewer.click("[data-testid=approve]")
    reviewer.wait_for_load_state()
    user.refresh_from_db()
    with time_machine.travel(registering_at, tick=False):
        trading.register(Actor.for_user(user), lot)

    # Its administrator enrols a browser key; the certificate carries the organization's code.
    page.goto(f"{base}/signing/certificates/")
    wait_until(
        page, "document.querySelector('[data-sign-key-status]').textContent.includes('尚未保存')"
    )
    with page.expect_navigation():
        page.click("[data-testid=sign-enrol]")
    wait_until(page, "!document.querySelector('[data-key-here]').hidden")
    certificate = Certificate.objects.get(holder=user)
    assert certificate.kind == Certificate.Kind.ORGANIZATION
    assert certificate.organization == user.organization

    page.goto(f"{base}/bidding/lots/{lot.pk}/bid/")
    form = page.locator("#bid-form")
    form.locator("input[name=price]").fill("8500000")
    form.locator("input[name=decryption_code]").fill(CODE)
    form.locator("input[name=decryption_code_again]").fill(CODE)
    form.locator("input[name=files]").set_input_files(
        [{"name": "投标文件.pdf", "mimeType": "application/pdf", "buffer": FILES[0]}]
    )
    form.locator("[data-testid=submit-bid]").click()
    page.wait_for_selector("[data-testid=sign-dialog]")
    assert uscc in page.inner_text("[data-testid=sign-dialog]")
    page.click("[data-sign-confirm]")
    page.wait_for_url(f"{base}/bidding/lots/{lot.pk}/bid/receipt/")
    bid = Bid.objects.select_related("signed_act").get(lot=lot, organization=user.organization)
    act = bid.signed_act
    assert act is not None and act.certificate == certificate
    assert act.organization == user.organization and act.user == user
    statement = json.loads(act.statement)
    assert statement["act"] == "bid.submit" and statement["digest"] == bid.commitment
    assert statement["signer"]["organization_uscc"] == uscc
