"""The certificates page and a signed act's page."""

from __future__ import annotations

import pytest
from django.test import Client

from signing.models import Certificate, SignedAct
from tests.signing.support import enrol, signed_fields

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_certificates_page_lists_mine_and_offers_the_simulator(supplier, other_supplier):
    enrol(supplier)
    mine = Certificate.objects.get(holder=supplier)
    page = client_for(supplier).get("/signing/certificates/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的数字证书" in html and mine.sha256 in html
    assert 'data-testid="sign-enrol"' in html
    assert 'data-sign-act="certificate.test"' in html
    assert (
        mine.sha256 not in client_for(other_supplier).get("/signing/certificates/").content.decode()
    )


def test_no_simulator_button_when_it_is_off(supplier, settings):
    settings.CA_SIMULATOR = False
    assert (
        'data-testid="sign-enrol"'
        not in client_for(supplier).get("/signing/certificates/").content.decode()
    )


def test_a_test_signature_leads_to_its_verified_record(supplier, other_supplier, staff, supervisor):
    key = enrol(supplier)
    certificate = Certificate.objects.get(holder=supplier)
    fields = signed_fields(supplier, key, "certificate.test", "signing.certificate", certificate.pk)
    answer = client_for(supplier).post(f"/signing/certificates/{certificate.pk}/test/", fields)
    act = SignedAct.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/signing/acts/{act.pk}/"
    page = client_for(supplier).get(answer["Location"])
    html = page.content.decode()
    assert "签名有效" in html and act.signature in html and "BEGIN CERTIFICATE" in html
    assert client_for(staff).get(answer["Location"]).status_code == 200
    assert client_for(supervisor).get(answer["Location"]).status_code == 200
    assert client_for(other_supplier).get(answer["Location"]).status_code == 404


def test_an_unsigned_test_is_refused_on_the_page(supplier):
    enrol(supplier)
    certificate = Certificate.objects.get(holder=supplier)
    answer = client_for(supplier).post(f"/signing/certificates/{certificate.pk}/test/", follow=True)
    assert "须使用数字证书签名" in answer.content.decode()
    assert not SignedAct.objects.exists()


def test_withdraw_and_register_from_the_page(supplier, other_supplier):
    enrol(supplier)
    certificate = Certificate.objects.get(holder=supplier)
    assert (
        client_for(other_supplier)
        .post(f"/signing/certificates/{certificate.pk}/withdraw/")
        .status_code
        == 404
    )
    client_for(supplier).post(f"/signing/certificates/{certificate.pk}/withdraw/")
    certificate.refresh_from_db()
    assert certificate.withdrawn_at is not None
    answer = client_for(supplier).post(
        "/signing/certificates/register/", {"pem": "not a certificate"}, follow=True
    )
    assert "证书无法解析" in answer.content.decode()
