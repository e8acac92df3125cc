"""Who may do what with registrations: anonymous, the applicant, another organization, center staff,
supervisors (read-only) — over the API and the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import OrganizationApplication, User
from tests.accounts.registration_helpers import registration_body, token_in_mail

pytestmark = pytest.mark.django_db

API = "/api/v1/organization-registrations/"


@pytest.fixture
def submitted(api, mails) -> OrganizationApplication:
    with mails(execute=True):
        api().post(API, registration_body(), format="multipart")
    api().post(
        API + "verify-email/",
        {"token": token_in_mail("contact@example.cn", "/accounts/verify-email/")},
        format="json",
    )
    return OrganizationApplication.objects.get()


def people(staff, supervisor, other_supplier) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "applicant": User.objects.get(username="selfreg"),
        "other": other_supplier,
        "staff": staff,
        "supervisor": supervisor,
    }


def test_reading_registrations(api, submitted, staff, supervisor, other_supplier):
    expected_detail = {
        "anonymous": 403,
        "applicant": 200,
        "other": 404,
        "staff": 200,
        "supervisor": 200,
    }
    expected_count = {"applicant": 1, "other": 0, "staff": 1, "supervisor": 1}
    version = submitted.versions.get()
    for who, user in people(staff, supervisor, other_supplier).items():
        client = api(user)
        detail = client.get(f"{API}{submitted.pk}/")
        assert detail.status_code == expected_detail[who], who
        licence = client.get(f"{API}versions/{version.pk}/license/")
        assert licence.status_code == expected_detail[who], who
        listing = client.get(API)
        if who == "anonymous":
            assert listing.status_code == 403
        else:
            assert listing.json()["count"] == expected_count[who], who


def test_deciding_registrations(api, submitted, staff, supervisor, other_supplier):
    for who, user in people(staff, supervisor, other_supplier).items():
        if who == "staff":
            continue
        for action, body in [("approve/", {}), ("return/", {"reasons": "不行"})]:
            response = api(user).post(f"{API}{submitted.pk}/{action}", body, format="json")
            assert response.status_code in (403, 404), (who, action, response.status_code)
    submitted.refresh_from_db()
    assert submitted.status == "submitted"
    assert api(staff).post(f"{API}{submitted.pk}/approve/").status_code == 200


def test_the_review_pages(submitted, staff, supervisor, other_supplier):
    expected = {"anonymous": 302, "applicant": 200, "other": 404, "staff": 200, "supervisor": 200}
    list_expected = {
        "anonymous": 302,
        "applicant": 404,
        "other": 404,
        "staff": 200,
        "supervisor": 200,
    }
    for who, user in people(staff, supervisor, other_supplier).items():
        client = Client()
        if user is not None:
            client.force_login(user)
        detail = client.get(f"/accounts/applications/{submitted.pk}/")
        assert detail.status_code == expected[who], who
        assert client.get("/accounts/applications/").status_code == list_expected[who], who
        if who in ("staff", "supervisor"):
            # Only staff are offered the decision.
            assert ('data-testid="approve"' in detail.content.decode()) == (who == "staff")
    for who in ("supervisor", "applicant"):
        client = Client()
        user = people(staff, supervisor, other_supplier)[who]
        assert user is not None
        client.force_login(user)
        client.post(f"/accounts/applications/{submitted.pk}/approve/")
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_only_the_organizations_administrator_submits_a_new_version(
    api, submitted, staff, supervisor, other_supplier
):
    api(staff).post(f"{API}{submitted.pk}/return/", {"reasons": "补充材料"}, format="json")
    body = registration_body()
    for who, user in people(staff, supervisor, other_supplier).items():
        response = api(user).post(f"{API}{submitted.pk}/versions/", body, format="multipart")
        if who == "applicant":
            assert response.status_code == 201, response.json()
        else:
            assert response.status_code in (403, 404), (who, response.status_code)
        body = registration_body()
