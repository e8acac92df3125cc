from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, USERS
from accounts.models import Organization, Role, User
from audit.models import AuditEvent
from audit.services import verify_chain

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_every_login_works(client, capsys):
    call_command("seed_demo")
    counts = (Organization.objects.count(), User.objects.count(), AuditEvent.objects.count())
    call_command("seed_demo")
    assert (
        Organization.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
    ) == counts

    assert set(Organization.objects.values_list("kind", flat=True)) == set(Organization.Kind.values)
    assert {User.objects.get(username=u).role for u, *_ in USERS} == set(Role.values)
    for username, *_ in USERS:
        login = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert login.status_code == 302, username
        assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)
        client.post("/accounts/logout/")
    output = capsys.readouterr().out
    assert "staff" in output and DEMO_PASSWORD in output
    assert verify_chain().ok is True


def test_the_demo_has_a_barred_supplier(settings):
    from django.utils import timezone

    from accounts.services import OrganizationBarred, ensure_may_trade

    call_command("seed_demo")
    barred = User.objects.get(username="barred").organization
    with pytest.raises(OrganizationBarred):
        ensure_may_trade(barred, timezone.now())
    ensure_may_trade(User.objects.get(username="supplier").organization, timezone.now())
