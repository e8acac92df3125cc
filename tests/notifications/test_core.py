"""The notification service's contract (notifications/services.py): one notice per person per cause, the
people an organization role names, the channels a user keeps, and reading only one's own notices."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Organization, OrgRole, Role
from accounts.services import create_user
from notifications import kinds, recipients
from notifications.models import Delivery, Notice, Preference
from notifications.services import MAX_PARAM_CHARS, mark_read, notify, unread_count
from tests.conftest import SYSTEM, make_org, make_user

pytestmark = pytest.mark.django_db


def tell(kind: str, users: Any, cause: str, **params: str) -> list[Notice]:
    with transaction.atomic():
        return notify(kind, users, cause=cause, params=params, url="/deposits/mine/")


@pytest.fixture
def firm() -> Organization:
    return make_org(Organization.Kind.SUPPLIER, "甲建设有限公司")


def member(firm: Organization, username: str, *org_roles: str, **fields: Any) -> Any:
    return create_user(
        SYSTEM,
        organization=firm,
        username=username,
        role=Role.SUPPLIER,
        org_roles=list(org_roles),
        **fields,
    )


def test_a_cause_reaches_each_person_once(firm):
    admin = member(firm, "admin", OrgRole.ADMIN)
    first = tell("deposit.refunded", [admin], "deposit.refunded:7", lot="一标段", amount="5000.00")
    again = tell("deposit.refunded", [admin], "deposit.refunded:7", lot="一标段", amount="5000.00")
    assert len(first) == 1 and again == []
    assert Notice.objects.filter(recipient=admin).count() == 1
    # Another cause is another notice.
    tell("deposit.refunded", [admin], "deposit.refunded:8", lot="二标段", amount="1.00")
    assert Notice.objects.filter(recipient=admin).count() == 2


def test_a_rolled_back_change_leaves_no_notice(firm):
    admin = member(firm, "admin", OrgRole.ADMIN)
    with pytest.raises(RuntimeError), transaction.atomic():
        notify("deposit.refunded", [admin], cause="x:1", params={"lot": "一标段"})
        raise RuntimeError("the change failed")
    assert not Notice.objects.exists() and not Delivery.objects.exists()


def test_organization_roles_choose_who_is_told(firm):
    admin = member(firm, "admin", OrgRole.ADMIN)
    operator = member(firm, "operator", OrgRole.BID_OPERATOR)
    cashier = member(firm, "cashier", OrgRole.FINANCE)
    viewer = member(firm, "viewer", OrgRole.VIEWER)
    gone = member(firm, "gone", OrgRole.BID_OPERATOR)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    other = make_user("other", Role.SUPPLIER, make_org())
    assert set(recipients.bidders(firm)) == {admin, operator}
    assert set(recipients.finance(firm)) == {admin, cashier}
    assert set(recipients.members(firm)) == {admin, operator, cashier, viewer}
    tell("bid.receipt", recipients.bidders(firm), "bid.receipt:1", lot="一标段", receipt="R1")
    assert set(Notice.objects.values_list("recipient__username", flat=True)) == {
        "admin",
        "operator",
    }
    assert other not in recipients.bidders(firm)


def test_channels_follow_address_verification_and_preferences(firm):
    now = timezone.now()
    both = member(
        firm,
        "both",
        OrgRole.ADMIN,
        email="both@example.cn",
        phone="13800000001",
    )
    both.phone_verified_at = now
    both.save(update_fields=["phone_verified_at"])
    unverified = member(firm, "unverified", OrgRole.ADMIN, phone="13800000002")
    tell("deposit.forfeited", [both, unverified], "deposit.forfeited:1", lot="一标段")
    channels = {
        (d.notice.recipient.username, d.channel, d.status)
        for d in Delivery.objects.select_related("notice__recipient")
    }
    assert channels == {
        ("both", "inapp", "sent"),
        ("both", "email", "queued"),
        ("both", "sms", "queued"),
        # No email address, and a number nobody proved is theirs: in-app only.
        ("unverified", "inapp", "sent"),
    }
    # A user who switched email off for a kind gets none of that kind.
    Preference.objects.create(user=both, kind="deposit.refunded", channel="email", enabled=False)
    tell("deposit.refunded", [both], "deposit.refunded:2", lot="一标段", amount="1.00")
    refunded = Delivery.objects.filter(notice__kind="deposit.refunded")
    assert set(refunded.values_list("channel", flat=True)) == {"inapp"}


def test_a_legal_deadline_keeps_an_outside_channel_whatever_the_rows_say(firm):
    user = member(firm, "u", OrgRole.ADMIN, email="u@example.cn")
    assert kinds.get("opening.started").legal
    for channel in ("email", "sms", "inapp"):
        Preference.objects.create(user=user, kind="opening.started", channel=channel, enabled=False)
    tell("opening.started", [user], "opening.started:1", lot="一标段", deadline="2026-12-05 10:30")
    assert set(Delivery.objects.values_list("channel", flat=True)) == {"inapp", "email"}


def test_notices_render_in_the_readers_language_and_params_are_bounded(firm):
    user = member(firm, "u", OrgRole.ADMIN)
    (notice,) = tell("deposit.refunded", [user], "r:1", lot="一标段" * 400, amount="5000.00")
    assert len(notice.params["lot"]) == MAX_PARAM_CHARS
    assert notice.title.startswith("保证金已退还：一标段")
    with translation.override("en"):
        assert "refunded" in Notice.objects.get().title.lower()


def test_each_user_reads_and_marks_only_their_own(client, firm):
    mine = member(firm, "mine", OrgRole.ADMIN)
    theirs = member(firm, "theirs", OrgRole.ADMIN)
    (notice,) = tell("message", [mine], "m:1", title="甲的通知", body="")
    (other,) = tell("message", [theirs], "m:2", title="乙的通知", body="")
    assert unread_count(mine) == 1
    client.force_login(mine)
    page = client.get("/notifications/").content.decode()
    assert "甲的通知" in page and "乙的通知" not in page
    api = client.get("/api/v1/notifications/").json()
    assert [n["title"] for n in api["results"]] == ["甲的通知"]
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    assert client.post(f"/api/v1/notifications/{other.pk}/read/").status_code == 404
    assert client.get("/api/v1/notifications/unread/").json() == {"unread": 1}
    assert client.post(f"/api/v1/notifications/{notice.pk}/read/").status_code == 204
    assert client.get("/api/v1/notifications/unread/").json() == {"unread": 0}
    assert Notice.objects.get(pk=other.pk).read_at is None
    mark_read(theirs)
    assert unread_count(theirs) == 0


def test_anonymous_callers_get_no_notices(client):
    assert client.get("/api/v1/notifications/").status_code in (401, 403)
    assert client.get("/notifications/").status_code == 302
