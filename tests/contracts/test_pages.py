"""The contract pages: drafting, signing and performance from the browser's forms (POST/redirect/GET)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from contracts.models import Contract
from tests.contracts.conftest import PRICE, TERMS, pdf, travel

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_draft_sign_and_perform_through_the_pages(agent, supplier, other_supplier, gp):
    at = gp.awarded_at + dt.timedelta(days=1)
    with travel(at):
        as_agent, as_supplier = client_for(agent), client_for(supplier)
        listing = as_agent.get("/contracts/").content.decode()
        assert f"/contracts/new/{gp.lot.pk}/" in listing
        page = as_agent.get(f"/contracts/new/{gp.lot.pk}/")
        assert page.status_code == 200 and PRICE in page.content.decode()
        refused = as_agent.post(f"/contracts/new/{gp.lot.pk}/", {"price": "1.00", "terms": TERMS})
        assert refused.status_code == 400
        assert 'data-code="CONTRACT_PRICE_MISMATCH"' in refused.content.decode()
        done = as_agent.post(
            f"/contracts/new/{gp.lot.pk}/", {"price": PRICE, "terms": TERMS, "files": [pdf()]}
        )
        contract = Contract.objects.get()
        assert done.status_code == 302 and done["Location"] == f"/contracts/{contract.pk}/"
        detail = as_supplier.get(f"/contracts/{contract.pk}/").content.decode()
        assert 'data-testid="sign-form"' in detail and 'data-sign-act="contract.sign"' in detail
        for client in (as_agent, as_supplier):
            response = client.post(f"/contracts/{contract.pk}/sign/")
            assert response.status_code == 302
        contract.refresh_from_db()
        assert contract.status == Contract.Status.PUBLISHED
        response = as_agent.post(
            f"/contracts/{contract.pk}/milestone/",
            {"description": "全部交付", "due_on": "2026-05-20", "amount": PRICE},
        )
        assert response.status_code == 302
        milestone = contract.milestones.get()
        response = as_supplier.post(
            f"/contracts/{contract.pk}/deliver/", {"milestone": milestone.pk}
        )
        assert response.status_code == 302
        bad = as_agent.post(
            f"/contracts/{contract.pk}/acceptance/",
            {"accepted_on": "tomorrow", "result": "passed"},
        )
        assert bad.status_code == 400 and 'data-code="INVALID_DATE"' in bad.content.decode()
        response = as_agent.post(
            f"/contracts/{contract.pk}/acceptance/",
            {"accepted_on": at.date().isoformat(), "result": "passed", "remarks": "合格"},
        )
        assert response.status_code == 302
        contract.refresh_from_db()
        assert contract.status == Contract.Status.ACCEPTED
        document = contract.documents.get()
        download = as_supplier.get(f"/contracts/documents/{document.pk}/")
        assert download["X-Content-SHA256"] == document.sha256
        assert client_for(other_supplier).get(f"/contracts/{contract.pk}/").status_code == 404
        assert (
            client_for(other_supplier).get(f"/contracts/documents/{document.pk}/").status_code
            == 404
        )
        assert client_for(supplier).get(f"/contracts/new/{gp.lot.pk}/").status_code == 404
