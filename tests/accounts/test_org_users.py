"""An organization's users: invitations, roles inside the organization, the last administrator,
disabling (sessions end), password reset that reveals nothing, sessions listed and ended."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from accounts import members
from accounts.actors import Actor
from accounts.models import Invitation, LoginSession, OrgRole, Role, User
from accounts.services import OrgRoleRequired, has_org_role, require_org_role
from tests.accounts.registration_helpers import token_in_mail
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Caiwu-mima-2026-xyz"


def logged_in(user: User, ip: str = "203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT="Mozilla/5.0 (test)")
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})[
        "Location"
    ]
    return client


def invite(api, admin, mails, email="finance@example.cn", roles=("finance",)):
    with mails(execute=True):
        response = api(admin).post(
            "/api/v1/org/invitations/",
            {"email": email, "roles": list(roles), "display_name": "钱财务"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    return token_in_mail(email, "/accounts/invitation/")


def test_an_invitee_joins_with_the_roles_the_administrator_chose(api, supplier, mails):
    token = invite(api, supplier, mails)
    joined = api().post(
        "/api/v1/invitations/accept/",
        {"token": token, "username": "qiancaiwu", "password": NEW_PASSWORD},
        format="json",
    )
    assert joined.status_code == 201, joined.json()
    assert joined.json()["org_roles"] == ["finance"]
    user = User.objects.get(username="qiancaiwu")
    assert user.organization == supplier.organization
    assert user.role == Role.SUPPLIER
    assert user.email_verified_at is not None
    # Used once.
    again = api().post(
        "/api/v1/invitations/accept/",
        {"token": token, "username": "another", "password": NEW_PASSWORD},
        format="json",
    )
    assert again.json()["error"]["code"] == "INVITATION_USED"


def test_an_invitation_needs_a_strong_password(api, supplier, mails):
    token = invite(api, supplier, mails)
    weak = api().post(
        "/api/v1/invitations/accept/",
        {"token": token, "username": "weak", "password": "password"},
        format="json",
    )
    assert weak.status_code == 400
    assert weak.json()["error"]["code"] == "WEAK_PASSWORD"
    assert Invitation.objects.get().accepted_at is None


def test_org_roles_decide_what_require_org_role_lets_through(supplier, staff, expert):
    operator = make_user("operator", Role.SUPPLIER, supplier.organization)
    members.set_org_roles(Actor.for_user(supplier), operator, [OrgRole.BID_OPERATOR])
    require_org_role(Actor.for_user(operator), OrgRole.BID_OPERATOR, OrgRole.ADMIN)
    with pytest.raises(OrgRoleRequired) as refused:
        require_org_role(Actor.for_user(operator), OrgRole.FINANCE, OrgRole.ADMIN)
    assert refused.value.code == "ORG_ROLE_REQUIRED"
    # Center staff and experts act in their platform role: they pass.
    require_org_role(Actor.for_user(staff), OrgRole.FINANCE)
    require_org_role(Actor.for_user(expert), OrgRole.FINANCE)
    require_org_role(Actor.system("test"), OrgRole.FINANCE)
    assert has_org_role(supplier, OrgRole.ADMIN)  # users staff create are administrators


def test_the_last_administrator_cannot_be_removed(api, supplier):
    refused = api(supplier).post(
        f"/api/v1/org/users/{supplier.pk}/roles/", {"roles": ["viewer"]}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "LAST_ADMIN"
    disabled = api(supplier).post(
        f"/api/v1/org/users/{supplier.pk}/active/", {"active": False}, format="json"
    )
    assert disabled.json()["error"]["code"] == "LAST_ADMIN"

    second = make_user("second-admin", Role.SUPPLIER, supplier.organization)
    handed_over = api(supplier).post(
        f"/api/v1/org/users/{supplier.pk}/roles/", {"roles": ["viewer"]}, format="json"
    )
    assert handed_over.status_code == 200
    assert handed_over.json()["org_roles"] == ["viewer"]
    assert has_org_role(second, OrgRole.ADMIN)


def test_disabling_a_user_ends_their_sessions_at_once(api, supplier):
    operator = make_user("operator", Role.SUPPLIER, supplier.organization)
    browser = logged_in(operator)
    assert browser.get("/accounts/sessions/").status_code == 200
    recorded = LoginSession.objects.get(user=operator)
    assert Session.objects.filter(session_key=recorded.session_key).exists()

    response = api(supplier).post(
        f"/api/v1/org/users/{operator.pk}/active/", {"active": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert not Session.objects.filter(session_key=recorded.session_key).exists()
    assert browser.get("/accounts/sessions/").status_code == 302  # back to the login page


def test_an_administrator_manages_only_its_own_organization(api, supplier, other_supplier):
    for path, body in [
        (f"/api/v1/org/users/{other_supplier.pk}/roles/", {"roles": ["viewer"]}),
        (f"/api/v1/org/users/{other_supplier.pk}/active/", {"active": False}),
    ]:
        assert api(supplier).post(path, body, format="json").status_code == 404
    viewer = make_user("viewer", Role.SUPPLIER, supplier.organization)
    members.set_org_roles(Actor.for_user(supplier), viewer, [OrgRole.VIEWER])
    assert api(viewer).get("/api/v1/org/users/").status_code == 403
    assert [u["username"] for u in api(supplier).get("/api/v1/org/users/").json()] == [
        "supplier",
        "viewer",
    ]


def test_the_org_users_page_invites_and_changes_roles(supplier, mails):
    page = logged_in(supplier)
    assert "supplier" in page.get("/accounts/users/").content.decode()
    with mails(execute=True):
        page.post(
            "/accounts/users/",
            {"email": "bid@example.cn", "roles": ["bid_operator"], "display_name": "孙投标"},
        )
    token = token_in_mail("bid@example.cn", "/accounts/invitation/")
    invitee = Client()
    shown = invitee.get("/accounts/invitation/", {"token": token}).content.decode()
    assert supplier.organization.name in shown
    created = invitee.post(
        "/accounts/invitation/",
        {
            "token": token,
            "username": "suntoubiao",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert created.status_code == 302
    user = User.objects.get(username="suntoubiao")
    assert user.org_roles == ["bid_operator"]
    page.post(f"/accounts/users/{user.pk}/roles/", {"roles": ["bid_operator", "finance"]})
    assert User.objects.get(pk=user.pk).org_roles == ["bid_operator", "finance"]


def test_password_reset_never_tells_whether_an_email_exists(supplier, mails):
    supplier.email = "zhang@example.cn"
    supplier.save(update_fields=["email"])
    known, unknown = Client(), Client()
    with mails(execute=True):
        first = known.post("/accounts/password-reset/", {"email": "zhang@example.cn"})
        second = unknown.post("/accounts/password-reset/", {"email": "nobody@example.cn"})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == "/accounts/password-reset/done/"
    assert [m.to for m in mail.outbox] == [["zhang@example.cn"]]

    link = next(m.body for m in mail.outbox).split("/accounts/reset/")[1].split()[0]
    page = Client()
    form = page.get(f"/accounts/reset/{link}", follow=True)
    assert form.status_code == 200
    done = page.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert User.objects.get(pk=supplier.pk).check_password(NEW_PASSWORD)


def test_password_reset_is_throttled_per_address(settings, supplier, mails):
    settings.PASSWORD_RESET_RATE = 2
    client = Client(REMOTE_ADDR="198.51.100.9")
    answers = [
        client.post("/accounts/password-reset/", {"email": f"x{i}@example.cn"}).status_code
        for i in range(3)
    ]
    assert answers == [302, 302, 429]


def test_sessions_are_listed_and_ended_by_their_user_only(api, supplier, other_supplier):
    phone = logged_in(supplier, ip="203.0.113.8")
    laptop = logged_in(supplier, ip="203.0.113.9")
    listed = api(supplier).get("/api/v1/sessions/").json()
    assert sorted(s["ip"] for s in listed) == ["203.0.113.8", "203.0.113.9"]
    assert all(s["user_agent"] == "Mozilla/5.0 (test)" for s in listed)
    phone_session = next(s for s in listed if s["ip"] == "203.0.113.8")

    assert (
        api(other_supplier).post(f"/api/v1/sessions/{phone_session['id']}/end/").status_code == 404
    )
    page = laptop.get("/accounts/sessions/")
    assert "203.0.113.8" in page.content.decode()
    assert laptop.post(f"/accounts/sessions/{phone_session['id']}/end/").status_code == 302
    assert phone.get("/accounts/sessions/").status_code == 302  # logged out
    assert laptop.get("/accounts/sessions/").status_code == 200
    assert [s["ip"] for s in api(supplier).get("/api/v1/sessions/").json()] == ["203.0.113.9"]


def test_an_expired_invitation_is_refused(api, supplier, mails):
    token = invite(api, supplier, mails)
    invitation = Invitation.objects.get()
    invitation.expires_at = invitation.created_at
    invitation.save(update_fields=["expires_at"])
    response = api().post(
        "/api/v1/invitations/accept/",
        {"token": token, "username": "late", "password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert not User.objects.filter(username="late").exists()


def test_the_registration_page_reads_in_english(client):
    page = client.get("/accounts/register/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "Register an organization" in text
    assert "Business licence" in text


def test_a_session_shows_when_it_was_last_used_without_being_rewritten(api, supplier, time_machine):
    time_machine.move_to("2026-12-07T09:00:00+08:00", tick=False)
    phone = logged_in(supplier, ip="203.0.113.8")
    session = Session.objects.get(session_key=phone.cookies["sessionid"].value)
    expires = session.expire_date
    time_machine.move_to("2026-12-07T09:30:00+08:00", tick=False)
    assert phone.get("/accounts/sessions/").status_code == 200
    time_machine.move_to("2026-12-07T09:30:40+08:00", tick=False)
    phone.get("/accounts/sessions/")  # within the minute: not noted again
    (listed,) = api(supplier).get("/api/v1/sessions/").json()
    assert listed["last_seen"].startswith("2026-12-07T09:30:00")
    # Reading pages never rewrote the session: its expiry is the one the login gave it.
    assert Session.objects.get(pk=session.pk).expire_date == expires


def test_a_visit_from_the_past_does_not_log_the_user_out(supplier, time_machine):
    """Test clocks travel backwards; a visit there must not shorten the real session."""
    browser = logged_in(supplier)
    time_machine.move_to("2026-03-30T10:00:00+08:00", tick=False)
    assert browser.get("/accounts/sessions/").status_code == 200
    time_machine.move_to("2026-12-07T10:00:00+08:00", tick=False)
    assert browser.get("/accounts/sessions/").status_code == 200
