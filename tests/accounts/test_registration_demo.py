"""The demo shows self-registration in each state and an organization with its own users."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import OrganizationApplication, OrgRole, User
from accounts.services import OrganizationNotApproved, ensure_may_trade

pytestmark = pytest.mark.django_db


def test_the_demo_has_registered_pending_and_returned_organizations_and_org_users():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    states = {
        a.created_by.username: a
        for a in OrganizationApplication.objects.select_related("organization", "created_by")
    }
    assert {name: a.status for name, a in states.items()} == {
        "zizhu": "approved",
        "daishen": "submitted",
        "buzheng": "returned",
    }
    assert "营业执照" in states["buzheng"].return_reasons
    ensure_may_trade(states["zizhu"].organization, timezone.now())
    with pytest.raises(OrganizationNotApproved):
        ensure_may_trade(states["daishen"].organization, timezone.now())

    org = states["zizhu"].organization
    assert {u.username: u.org_roles for u in org.users.all()} == {
        "zizhu": [OrgRole.ADMIN],
        "zizhu_bid": [OrgRole.BID_OPERATOR],
        "zizhu_fin": [OrgRole.FINANCE],
    }
    client = Client()
    assert (
        client.post(
            "/accounts/login/", {"username": "zizhu_fin", "password": DEMO_PASSWORD}
        ).status_code
        == 302
    )
    assert User.objects.get(username="zizhu_fin").email_verified_at is not None
