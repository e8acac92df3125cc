"""The demo seeds one contract in performance — signed, published, a milestone delivered and one
due — idempotently, and its OCDS package validates."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from contracts.models import Contract
from tests.trading.test_ocds import assert_valid
from trading import ocds

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_contract_in_performance(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    contract = Contract.objects.get()
    assert contract.status == Contract.Status.PERFORMING
    assert contract.published_at is not None and contract.effective_version == 1
    delivered, due = contract.milestones.order_by("number")
    assert delivered.delivered_at is not None and delivered.paid_at is not None
    assert due.delivered_at is None
    assert contract.versions.count() == 1 and contract.number in out.getvalue()
    assert_valid(ocds.project_release_package(contract.lot.project))
