"""The browser signer in chromium: enrol (a non-extractable WebCrypto key, a simulator certificate),
sign the self-test act after reading the statement, and hash a chosen file into the statement —
on a phone-sized screen, under the site's Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from signing.models import Certificate, SignedAct, SigningChallenge
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until
from tests.signing.support import enrol

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_enrol_in_the_browser_then_sign_a_test_act(browser, daphne_url, supplier):
    base = daphne_url
    page: Any = chinese_page(browser, viewport=PHONE)
    errors: list[str] = []

    def keep_csp_refusal(message: Any) -> None:
        if "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(str(error)))  # script errors
    page.on("console", keep_csp_refusal)
    log_in(page, base, "supplier")

    page.goto(f"{base}/signing/certificates/")
    wait_until(
        page, "document.querySelector('[data-sign-key-status]').textContent.includes('尚未保存')"
    )
    with page.expect_navigation():  # the page reloads once the certificate is registered
        page.click("[data-testid=sign-enrol]")
    wait_until(page, "document.querySelectorAll('[data-testid=certificate]').length === 1")
    wait_until(page, "!document.querySelector('[data-key-here]').hidden")
    certificate = Certificate.objects.get(holder=supplier)
    assert certificate.kind == Certificate.Kind.ORGANIZATION
    assert certificate.algorithm == "p256"
    # The key stays in the browser and cannot be read out of it.
    extractable = page.evaluate(
        "window.BidhallSigning.loadKey().then(r => [r.privateKey.extractable, r.certificate])"
    )
    assert extractable == [False, certificate.sha256]
    fits_the_phone(page)

    page.click("[data-testid=sign-test] button[type=submit]")
    page.wait_for_selector("[data-testid=sign-dialog]")
    dialog = page.inner_text("[data-testid=sign-dialog]")
    assert "您将签署：测试签名" in dialog and certificate.sha256 in dialog
    fits_the_phone(page)
    page.click("[data-sign-confirm]")
    page.wait_for_url(f"{base}/signing/acts/*/")
    assert "签名有效" in page.inner_text("[data-testid=verification]")
    act = SignedAct.objects.get()
    assert act.act == "certificate.test" and act.certificate == certificate
    assert len(base64.b64decode(act.signature)) == 64  # WebCrypto's raw r||s
    fits_the_phone(page)

    # A form that signs a file: its SHA-256 is computed in the browser and goes into the statement.
    # (The self-test endpoint then refuses it as another act: the statement is what is checked.)
    page.goto(f"{base}/signing/certificates/")
    wait_until(page, "!document.querySelector('[data-key-here]').hidden")
    page.evaluate(
        """(id) => {
            const form = document.querySelector('[data-testid=sign-test]');
            form.setAttribute('data-sign-act', 'bid.submit');
            form.setAttribute('data-sign-target-type', 'trading.lot');
            form.setAttribute('data-sign-target-id', '42');
            form.setAttribute('data-sign-file', 'document');
            form.setAttribute('data-sign-detail-text', 'remark');
            form.setAttribute('enctype', 'multipart/form-data');
            const file = document.createElement('input');
            file.type = 'file'; file.name = 'document';
            const remark = document.createElement('textarea');
            remark.name = 'remark'; remark.value = '第一行\\n第二行';
            form.append(file, remark);
        }""",
        certificate.pk,
    )
    content = "投标文件内容".encode() * 1000
    page.set_input_files(
        "input[name=document]",
        files=[{"name": "bid.pdf", "mimeType": "application/pdf", "buffer": content}],
    )
    page.click("[data-testid=sign-test] button[type=submit]")
    page.wait_for_selector("[data-testid=sign-dialog]")
    dialog = page.inner_text("[data-testid=sign-dialog]")
    assert hashlib.sha256(content).hexdigest() in dialog and "提交投标文件" in dialog
    challenge = SigningChallenge.objects.get(act="bid.submit")
    assert challenge.digest == hashlib.sha256(content).hexdigest()
    assert json.loads(challenge.statement)["details"] == {"text": "第一行\n第二行"}
    page.click("[data-sign-confirm]")
    page.wait_for_url(f"{base}/signing/certificates/")
    assert "签名内容与本次操作不一致" in page.inner_text(".messages")
    assert SignedAct.objects.count() == 1
    assert not errors, errors


def test_signing_without_a_key_says_so(browser, daphne_url, supplier):
    enrol(supplier)  # a certificate whose key is not in this browser
    page: Any = chinese_page(browser, viewport=PHONE)
    log_in(page, daphne_url, "supplier")
    page.goto(f"{daphne_url}/signing/certificates/")
    page.click("[data-testid=sign-test] button[type=submit]")
    wait_until(page, "document.querySelector('[data-testid=sign-test] .sign-error')")
    assert "没有您的签名密钥" in page.inner_text("[data-testid=sign-test] .sign-error")
    assert not SignedAct.objects.exists()
