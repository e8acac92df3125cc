"""An organization registers itself on a phone, verifies its email, and center staff approve it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from accounts import registration
from accounts.models import OrganizationApplication, User
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium
from tests.conftest import make_uscc

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PASSWORD = "Shouji-zhuce-2026"


def test_an_organization_registers_on_a_phone_and_is_approved(browser, daphne_url, staff):
    page: Any = chinese_page(browser, viewport=PHONE)
    page.goto(daphne_url + "/")
    page.click("[data-testid=home-register]")
    page.wait_for_url(daphne_url + "/accounts/register/")
    fits_the_phone(page)
    fields = {
        "uscc": make_uscc(),
        "name": "珠海手机注册有限公司",
        "legal_representative": "周法人",
        "basic_account_bank": "中国银行珠海分行",
        "basic_account_number": "66660000123456789",
        "region": "440402",
        "contact_name": "吴联系",
        "contact_email": "phone@example.cn",
        "contact_phone": "13700137000",
        "username": "phonereg",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    page.select_option("[name=kind]", "supplier")
    page.set_input_files(
        "[name=license]",
        {"name": "licence.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 scan"},
    )
    page.click("[data-testid=register-form] button[type=submit]")
    page.wait_for_url(daphne_url + "/accounts/register/done/")

    # The link the verification mail carries (mail goes to the server process's outbox).
    user = User.objects.get(username="phonereg")
    link = urlsplit(registration.verification_link(user))
    page.goto(f"{daphne_url}{link.path}?{link.query}")
    page.click("[data-testid=verify-email]")
    page.wait_for_url(daphne_url + "/accounts/application/")
    assert page.locator("[data-testid=application-status]").inner_text() == "待审核"
    fits_the_phone(page)

    application = OrganizationApplication.objects.get(organization__name="珠海手机注册有限公司")
    reviewer: Any = chinese_page(browser)
    log_in(reviewer, daphne_url, "staff")
    reviewer.goto(f"{daphne_url}/accounts/applications/{application.pk}/")
    reviewer.click("[data-testid=approve]")
    reviewer.wait_for_load_state()

    page.reload()
    assert page.locator("[data-testid=application-status]").inner_text() == "已通过"
    page.goto(daphne_url + "/")
    assert page.locator("[data-testid=not-approved]").count() == 0
