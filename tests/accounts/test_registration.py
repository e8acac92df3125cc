"""Self-registration (主体注册): register → verify the email → returned → fixed → approved → trades."""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest
import time_machine
from django.core import mail
from django.http import StreamingHttpResponse
from django.test import Client

from accounts import registration
from accounts.actors import Actor
from accounts.models import (
    Organization,
    OrganizationApplication,
    OrganizationVersion,
    OrgRole,
    User,
)
from accounts.services import OrganizationNotApproved, ensure_may_trade, has_org_role
from accounts.tokens import TOKEN_MAX_AGE
from audit.models import AuditEvent
from notifications.delivery import send_due
from tests.accounts.registration_helpers import (
    license_file,
    registration_body,
    token_in_mail,
)
from tests.trading.factories import published
from trading import services as trading

pytestmark = pytest.mark.django_db

API = "/api/v1/organization-registrations/"


def register_through_api(api, mails, **overrides):
    # The verification mail leaves once the registration commits.
    with mails(execute=True):
        response = api().post(API, registration_body(**overrides), format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_whole_journey_through_the_api(api, agent, staff, mails):
    project = published(agent, staff)
    lot = project.lots.get()
    opens = project.documents_from
    assert opens is not None

    created = register_through_api(api, mails)
    assert created["status"] == "draft"
    assert created["email_verified"] is False
    org = Organization.objects.get(pk=created["organization_id"])
    applicant = User.objects.get(username="selfreg")
    assert applicant.organization == org and applicant.role == "supplier"
    assert has_org_role(applicant, OrgRole.ADMIN)

    # Not approved yet: the integrity gate refuses it, even for 报名 once registration opens.
    with (
        time_machine.travel(opens + dt.timedelta(minutes=1), tick=False),
        pytest.raises(OrganizationNotApproved) as refused,
    ):
        trading.register(Actor.for_user(applicant), lot)
    assert refused.value.code == "ORGANIZATION_NOT_APPROVED"

    token = token_in_mail("contact@example.cn", "/accounts/verify-email/")
    verified = api().post(API + "verify-email/", {"token": token}, format="json")
    assert verified.status_code == 200
    assert verified.json()["status"] == "submitted"
    assert [v["number"] for v in verified.json()["versions"]] == [1]

    with mails(execute=True):
        returned = api(staff).post(
            f"{API}{created['id']}/return/",
            {"reasons": "营业执照不清晰；开户行写全称"},
            format="json",
        )
    assert returned.status_code == 200
    seen = api(applicant).get(f"{API}{created['id']}/").json()
    assert seen["status"] == "returned"
    assert seen["return_reasons"] == "营业执照不清晰；开户行写全称"
    # The applicant is told by a notice whose email the clock sends.
    send_due()
    assert any("营业执照不清晰" in m.body for m in mail.outbox if "contact@example.cn" in m.to)

    fixed = dict(registration_body(), basic_account_bank="中国工商银行股份有限公司珠海分行")
    fixed["license"] = license_file("clear.png", b"\x89PNG\r\n\x1a\n clearer scan")
    resubmitted = api(applicant).post(f"{API}{created['id']}/versions/", fixed, format="multipart")
    assert resubmitted.status_code == 201, resubmitted.json()
    assert resubmitted.json()["status"] == "submitted"

    approved = api(staff).post(f"{API}{created['id']}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    versions = {v["number"]: v for v in approved.json()["versions"]}
    assert versions[1]["decision"] == "returned"
    assert versions[1]["reasons"] == "营业执照不清晰；开户行写全称"
    assert versions[2]["decision"] == "approved"

    org.refresh_from_db()
    assert org.approved_at is not None
    assert org.basic_account_bank == "中国工商银行股份有限公司珠海分行"
    with time_machine.travel(opens + dt.timedelta(minutes=1), tick=False):
        # Signed in afresh, as the next request would be.
        registered = trading.register(Actor.for_user(User.objects.get(pk=applicant.pk)), lot)
    assert registered.organization == org


def test_the_journey_through_the_pages(staff, mails):
    visitor = Client()
    home = visitor.get("/")
    assert b'href="/accounts/register/"' in home.content
    assert visitor.get("/accounts/register/").status_code == 200
    body = registration_body(username="pageuser")
    body["password1"] = body["password2"] = body.pop("password")
    with mails(execute=True):
        response = visitor.post("/accounts/register/", body)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/accounts/register/done/"

    token = token_in_mail("contact@example.cn", "/accounts/verify-email/")
    page = visitor.get("/accounts/verify-email/", {"token": token})
    assert page.status_code == 200
    application = OrganizationApplication.objects.get()
    assert application.status == "draft"  # opening the link changes nothing; the button does
    assert visitor.post("/accounts/verify-email/", {"token": token}).status_code == 302
    application.refresh_from_db()
    assert application.status == "submitted"

    reviewer = Client()
    reviewer.force_login(staff)
    listing = reviewer.get("/accounts/applications/")
    assert "珠海自助建设有限公司" in listing.content.decode()
    detail = reviewer.get(f"/accounts/applications/{application.pk}/")
    version = application.versions.get()
    assert f"/accounts/application-versions/{version.pk}/license/" in detail.content.decode()
    licence = reviewer.get(f"/accounts/application-versions/{version.pk}/license/")
    assert cast(StreamingHttpResponse, licence).getvalue().startswith(b"%PDF-")
    reviewer.post(
        f"/accounts/applications/{application.pk}/return/", {"reasons": "法定代表人姓名有误"}
    )

    mine = visitor.get("/accounts/application/")
    assert "法定代表人姓名有误" in mine.content.decode()
    fix = {k: v for k, v in registration_body().items() if k in registration.DATA_FIELDS}
    fix["legal_representative"] = "王正确"
    assert visitor.post("/accounts/application/", fix).status_code == 302
    reviewer.post(f"/accounts/applications/{application.pk}/approve/")
    application.refresh_from_db()
    assert application.status == "approved"
    assert application.organization.legal_representative == "王正确"
    assert "not-approved" not in visitor.get("/").content.decode()


def test_an_invalid_or_taken_uscc_is_refused(api, supplier):
    invalid = api().post(API, registration_body(uscc="91440400MA4W1A0146"), format="multipart")
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "INVALID_USCC"

    taken = api().post(API, registration_body(uscc=supplier.organization.uscc), format="multipart")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "USCC_TAKEN"
    assert not OrganizationApplication.objects.exists()
    assert not User.objects.filter(username="selfreg").exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"license": license_file("x.exe", b"MZ\x90\x00 not a licence")}, "FILE_TYPE"),
        ({"password": "12345678"}, "WEAK_PASSWORD"),
        ({"kind": "center"}, "VALIDATION_ERROR"),
        ({"basic_account_number": "6222-0202"}, "VALIDATION_ERROR"),
    ],
)
def test_bad_registrations_are_refused_with_their_code(api, overrides, code):
    response = api().post(API, registration_body(**overrides), format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Organization.objects.exists()


def test_a_large_licence_is_refused(api, settings):
    settings.LICENSE_MAX_BYTES = 1024
    response = api().post(
        API,
        registration_body(license=license_file(content=b"%PDF-" + b"0" * 2000)),
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"


def test_an_expired_verification_link_is_refused(api, monkeypatch, mails):
    register_through_api(api, mails)
    token = token_in_mail("contact@example.cn", "/accounts/verify-email/")
    monkeypatch.setitem(TOKEN_MAX_AGE, "email", -1)
    response = api().post(API + "verify-email/", {"token": token}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TOKEN_EXPIRED"
    forged = api().post(API + "verify-email/", {"token": token[:-2] + "xx"}, format="json")
    assert forged.json()["error"]["code"] == "TOKEN_INVALID"
    assert OrganizationApplication.objects.get().status == "draft"


def _approved_self_registered(api, staff, mails):
    created = register_through_api(api, mails)
    api().post(
        API + "verify-email/",
        {"token": token_in_mail("contact@example.cn", "/accounts/verify-email/")},
        format="json",
    )
    api(staff).post(f"{API}{created['id']}/approve/")
    return OrganizationApplication.objects.get(pk=created["id"]), User.objects.get(
        username="selfreg"
    )


def test_a_change_of_legal_data_waits_for_review_and_every_version_is_kept(api, staff, mails):
    application, admin = _approved_self_registered(api, staff, mails)
    org = application.organization
    change = {k: v for k, v in registration_body().items() if k in registration.DATA_FIELDS}
    change.update(name="珠海自助建设集团有限公司", legal_representative="赵新法人")
    response = api(admin).post(f"{API}{application.pk}/versions/", change, format="multipart")
    assert response.status_code == 201

    org.refresh_from_db()
    assert org.name == "珠海自助建设有限公司"  # live data unchanged until approval
    ensure_may_trade(org, dt.datetime.now(dt.UTC))  # and it keeps trading meanwhile
    again = api(admin).post(f"{API}{application.pk}/versions/", change, format="multipart")
    assert again.json()["error"]["code"] == "APPLICATION_UNDER_REVIEW"

    api(staff).post(f"{API}{application.pk}/approve/")
    org.refresh_from_db()
    assert (org.name, org.legal_representative) == ("珠海自助建设集团有限公司", "赵新法人")
    versions = list(OrganizationVersion.objects.filter(application=application).order_by("number"))
    assert [(v.number, v.data["name"], v.decision) for v in versions] == [
        (1, "珠海自助建设有限公司", "approved"),
        (2, "珠海自助建设集团有限公司", "approved"),
    ]
    assert all(registration.version_hash(v) == v.sha256 for v in versions)
    # The second version kept the first one's licence: no new file was sent.
    assert versions[1].license.name == versions[0].license.name
    approvals = AuditEvent.objects.filter(action="accounts.registration.approved")
    assert approvals.count() == 2


def test_a_kind_change_moves_the_members_platform_role(api, staff, mails):
    application, admin = _approved_self_registered(api, staff, mails)
    change = {k: v for k, v in registration_body().items() if k in registration.DATA_FIELDS}
    change["kind"] = "agent"
    api(admin).post(f"{API}{application.pk}/versions/", change, format="multipart")
    api(staff).post(f"{API}{application.pk}/approve/")
    admin = User.objects.get(pk=admin.pk)
    assert admin.role == "agent"


def test_organizations_created_by_staff_count_as_approved(supplier):
    assert supplier.organization.approved_at is not None
    ensure_may_trade(supplier.organization, dt.datetime.now(dt.UTC))


def test_only_an_administrator_of_the_organization_submits_its_data(api, staff, supplier, mails):
    application, _admin = _approved_self_registered(api, staff, mails)
    change = {k: v for k, v in registration_body().items() if k in registration.DATA_FIELDS}
    # Another organization's user does not even see the application.
    response = api(supplier).post(f"{API}{application.pk}/versions/", change, format="multipart")
    assert response.status_code == 404


def test_a_submitted_version_cannot_be_rewritten(api, staff, mails):
    application, _admin = _approved_self_registered(api, staff, mails)
    version = application.versions.get()
    version.data = {**version.data, "name": "改写的名称"}
    with pytest.raises(RuntimeError):
        version.save()
    with pytest.raises(RuntimeError):
        version.delete()
    version.refresh_from_db()
    assert version.data["name"] == "珠海自助建设有限公司"
