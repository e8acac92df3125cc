"""The demo seeds a complaint case in progress and one waiting for acceptance, idempotently."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from complaints.models import Complaint, MaterialRequest

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_case_under_investigation_and_one_to_accept():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    cases = {c.complainant.name: c for c in Complaint.objects.all()}
    assert len(cases) == 2
    accepted = cases["珠海华信建设工程有限公司"]
    assert accepted.status == Complaint.Status.ACCEPTED
    explain = accepted.requests.get()
    assert explain.party == MaterialRequest.Party.RESPONDENT and explain.answered_at is None
    assert cases["横琴新区宏达科技有限公司"].status == Complaint.Status.FILED
