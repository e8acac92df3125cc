"""Organizations: USCC validation, creation, who sees which, through services, API and pages."""

from __future__ import annotations

import pytest
from guardian.shortcuts import get_objects_for_user

from accounts import services
from accounts.actors import Actor
from accounts.models import Organization, Role, User
from audit.models import AuditEvent
from lib.errors import DomainError, NotPermitted
from tests.conftest import make_uscc

pytestmark = pytest.mark.django_db


def test_it_creates_an_organization_with_its_members_group_and_an_audit_event(staff):
    code = make_uscc()
    org = services.create_organization(
        Actor.for_user(staff, ip="10.0.0.8"),
        uscc=code,
        name="丙公司",
        kind=Organization.Kind.SUPPLIER,
    )
    assert org.uscc == code
    assert org.members_group.name == f"org-{code}"
    event = AuditEvent.objects.get(action="accounts.organization.created", object_id=str(org.pk))
    assert event.payload["uscc"] == code
    assert event.ip == "10.0.0.8"
    assert event.organization_id == staff.organization_id


@pytest.mark.parametrize("bad", ["91440400MA4W1A0146", "123", "", "91440400MA4W1A01I5"])
def test_an_invalid_credit_code_is_refused_and_leaves_nothing(staff, bad):
    before = (Organization.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DomainError) as refused:
        services.create_organization(
            Actor.for_user(staff), uscc=bad, name="无效公司", kind=Organization.Kind.SUPPLIER
        )
    assert refused.value.code == "INVALID_USCC"
    assert (Organization.objects.count(), AuditEvent.objects.count()) == before


def test_spaces_and_lowercase_in_the_code_are_normalized(staff):
    org = services.create_organization(
        Actor.for_user(staff), uscc=" 91440400ma4w1a0145 ", name="丁公司", kind="supplier"
    )
    assert org.uscc == "91440400MA4W1A0145"


def test_a_credit_code_is_registered_once(staff):
    services.create_organization(
        Actor.for_user(staff), uscc="91440400MA4W1A0145", name="甲", kind="supplier"
    )
    with pytest.raises(DomainError) as refused:
        services.create_organization(
            Actor.for_user(staff), uscc="91440400MA4W1A0145", name="甲二", kind="supplier"
        )
    assert refused.value.code == "USCC_TAKEN"


def test_only_staff_may_register_organizations(supplier, supervisor, agent):
    for user in (supplier, supervisor, agent):
        with pytest.raises(NotPermitted):
            services.create_organization(
                Actor.for_user(user), uscc=make_uscc(), name="戊公司", kind="supplier"
            )


def test_members_see_their_own_organization_and_staff_and_supervisors_see_all(
    staff, supervisor, supplier, other_supplier, agent
):
    everyone = set(Organization.objects.values_list("pk", flat=True))
    visible = {
        user: set(
            get_objects_for_user(user, "accounts.view_organization", Organization).values_list(
                "pk", flat=True
            )
        )
        for user in (staff, supervisor, supplier, agent)
    }
    assert visible[staff] == everyone
    assert visible[supervisor] == everyone
    assert visible[supplier] == {supplier.organization_id}
    assert visible[agent] == {agent.organization_id}


def test_a_user_gets_one_role_and_one_organization(staff, supplier):
    user = services.create_user(
        Actor.for_user(staff),
        organization=supplier.organization,
        username="new",
        role=Role.SUPPLIER,
    )
    assert user.role == Role.SUPPLIER
    assert user.organization == supplier.organization
    assert supplier.organization.members_group in user.groups.all()
    assert not user.has_usable_password()


def test_a_role_must_fit_its_organization(staff, supplier):
    with pytest.raises(DomainError) as refused:
        services.create_user(
            Actor.for_user(staff),
            organization=supplier.organization,
            username="x",
            role=Role.CENTER_STAFF,
        )
    assert refused.value.code == "ROLE_ORG_MISMATCH"
    assert not User.objects.filter(username="x").exists()


# --- API ------------------------------------------------------------------------------------------


def test_api_lists_only_what_the_caller_may_see(api, supplier, other_supplier, staff):
    mine = api(supplier).get("/api/v1/organizations/")
    assert mine.status_code == 200
    assert [row["id"] for row in mine.json()["results"]] == [supplier.organization_id]
    everything = api(staff).get("/api/v1/organizations/")
    assert everything.json()["count"] == Organization.objects.count()


def test_api_hides_other_organizations(api, supplier, other_supplier):
    response = api(supplier).get(f"/api/v1/organizations/{other_supplier.organization_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_api_staff_registers_an_organization(api, staff):
    code = make_uscc()
    response = api(staff).post(
        "/api/v1/organizations/",
        {"uscc": code, "name": "己公司", "kind": "supplier"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["uscc"] == code


def test_api_refuses_a_supplier_registering_an_organization(api, supplier):
    response = api(supplier).post(
        "/api/v1/organizations/",
        {"uscc": make_uscc(), "name": "庚", "kind": "supplier"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_api_bad_credit_code_gets_a_clear_error(api, staff):
    response = api(staff).post(
        "/api/v1/organizations/",
        {"uscc": "91440400MA4W1A0146", "name": "辛", "kind": "supplier"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_USCC"
    assert "统一社会信用代码" in response.json()["error"]["message"]


def test_api_bar_and_lift(api, staff, supplier):
    org_id = supplier.organization_id
    created = api(staff).post(
        f"/api/v1/organizations/{org_id}/bars/",
        {
            "category": "bad_conduct",
            "source": "regulator",
            "reason": "围标",
            "barred_from": "2026-01-01",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    listing = api(supplier).get(f"/api/v1/organizations/{org_id}/bars/")
    assert listing.status_code == 200
    assert listing.json()[0]["active_today"] is True
    lifted = api(staff).post(
        f"/api/v1/integrity-records/{created.json()['id']}/lift/", {"reason": "撤销"}, format="json"
    )
    assert lifted.status_code == 200
    assert lifted.json()["lifted_at"] is not None
    # Every answer says whether the bar holds today, as a boolean (it was null after a lift).
    assert created.json()["active_today"] is True
    assert lifted.json()["active_today"] is False


def test_api_a_supplier_may_not_bar_itself_or_others(api, supplier, other_supplier):
    for org_id in (supplier.organization_id, other_supplier.organization_id):
        response = api(supplier).post(
            f"/api/v1/organizations/{org_id}/bars/",
            {
                "category": "bad_conduct",
                "source": "center",
                "reason": "x",
                "barred_from": "2026-01-01",
            },
            format="json",
        )
        assert response.status_code in (403, 404)


# --- Pages ----------------------------------------------------------------------------------------


def test_staff_page_lists_organizations_with_their_status(client, staff, supplier):
    client.force_login(staff)
    page = client.get("/organizations/")
    assert page.status_code == 200
    assert "甲建设公司" in page.content.decode()


def test_organization_page_is_hidden_from_other_suppliers(client, supplier, other_supplier):
    client.force_login(supplier)
    assert client.get(f"/organizations/{supplier.organization_id}/").status_code == 200
    assert client.get(f"/organizations/{other_supplier.organization_id}/").status_code == 404


def test_staff_bars_an_organization_through_the_page(client, staff, supplier):
    client.force_login(staff)
    response = client.post(
        f"/organizations/{supplier.organization_id}/bar/",
        {
            "category": "bad_conduct",
            "source": "regulator",
            "reason": "虚假材料",
            "barred_from": "2026-01-01",
        },
    )
    assert response.status_code == 302
    assert supplier.organization.integrity_records.count() == 1


def test_a_supplier_cannot_bar_through_the_page(client, supplier):
    client.force_login(supplier)
    client.post(
        f"/organizations/{supplier.organization_id}/bar/",
        {"category": "bad_conduct", "source": "center", "reason": "x", "barred_from": "2026-01-01"},
    )
    assert supplier.organization.integrity_records.count() == 0


def test_api_answers_match_the_openapi_schema(api, staff, supplier):
    """Regression for schemathesis' response_schema_conformance: the organizations list is a page,
    created rows are 201, a lifted bar's `active_today` is a boolean."""
    from tests.config.test_edge import assert_matches_schema

    org_id = supplier.organization_id
    listing = api(staff).get("/api/v1/organizations/")
    assert_matches_schema(listing, "/api/v1/organizations/", "get")
    bar = api(staff).post(
        f"/api/v1/organizations/{org_id}/bars/",
        {
            "category": "bad_conduct",
            "source": "regulator",
            "reason": "围标",
            "barred_from": "2026-01-01",
        },
        format="json",
    )
    assert_matches_schema(bar, "/api/v1/organizations/{id}/bars/", "post")
    lifted = api(staff).post(
        f"/api/v1/integrity-records/{bar.json()['id']}/lift/", {"reason": "撤销"}, format="json"
    )
    assert_matches_schema(lifted, "/api/v1/integrity-records/{id}/lift/", "post")
    refused = api(staff).get("/api/v1/organizations/", {"kind": "alien"})
    assert_matches_schema(refused, "/api/v1/organizations/", "get")
