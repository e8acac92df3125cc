"""Expert applications (专家申请): apply → verify the email → returned → fixed → approved into the pool."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Role, User
from experts.models import Expert, ExpertApplication
from tests.accounts.registration_helpers import token_in_mail
from tests.experts.helpers import specialties

pytestmark = pytest.mark.django_db

API = "/api/v1/experts/applications/"
ID_NUMBER = "11010519491231002X"
PASSWORD = "Zhuanjia-mima-2026"


@pytest.fixture
def mails(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def body(**overrides):
    data = {
        "name": "钱学问",
        "id_number": ID_NUMBER,
        "title": "senior",
        "years_in_field": 12,
        "region": "440402",
        "employer": "珠海市建筑设计研究院有限公司",
        "specialties": ["A0801"],
        "email": "qian@example.cn",
        "phone": "13900139000",
    }
    data.update(overrides)
    return data


def test_the_whole_journey_through_the_api(api, staff, mails):
    specialties()
    with mails(execute=True):
        created = api().post(API, body(), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft"
    assert "id_number" not in created.json()  # the applicant's answer does not echo it

    token = token_in_mail("qian@example.cn", "/experts/apply/status/")
    assert (
        api().post(API + "verify-email/", {"token": token}, format="json").json()["status"]
        == "submitted"
    )

    pk = created.json()["id"]
    with mails(execute=True):
        api(staff).post(f"{API}{pk}/return/", {"reasons": "请补充专业"}, format="json")
    fixed = {**body(specialties=["A0801", "C01"]), "token": token}
    fixed.pop("email")
    resubmitted = api().post(API + "resubmit/", fixed, format="json")
    assert resubmitted.status_code == 200, resubmitted.json()
    assert resubmitted.json()["status"] == "submitted"

    with mails(execute=True):
        approved = api(staff).post(f"{API}{pk}/approve/", {"username": "qianxw"}, format="json")
    assert approved.status_code == 200, approved.json()
    expert = Expert.objects.get(pk=approved.json()["expert"])
    assert sorted(expert.specialties.values_list("code", flat=True)) == ["A0801", "C01"]
    user = User.objects.get(username="qianxw")
    assert expert.user == user and user.role == Role.EXPERT
    assert not user.has_usable_password()

    # The approval mail carries a link to set the password.
    message = next(m for m in reversed(mail.outbox) if "qian@example.cn" in m.to)
    found = re.search(r"/accounts/reset/\S+", str(message.body))
    assert found is not None
    path = found.group(0)
    browser = Client()
    form = browser.get(path, follow=True)
    browser.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"id_number": "110105194912310021"}, "INVALID_ID_NUMBER"),
        ({"years_in_field": 5}, "TOO_FEW_YEARS"),
        ({"specialties": ["Z99"]}, "INVALID_SPECIALTY"),
        ({"region": "44"}, "VALIDATION_ERROR"),
    ],
)
def test_bad_applications_are_refused(api, overrides, code):
    specialties()
    response = api().post(API, body(**overrides), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not ExpertApplication.objects.exists()


def test_only_staff_decide_and_only_staff_and_supervisors_read(
    api, staff, supervisor, supplier, expert, mails
):
    specialties()
    with mails(execute=True):
        pk = api().post(API, body(), format="json").json()["id"]
    api().post(
        API + "verify-email/",
        {"token": token_in_mail("qian@example.cn", "/experts/apply/status/")},
        format="json",
    )
    for user, status in [
        (None, 403),
        (supplier, 404),
        (expert, 404),
        (supervisor, 200),
        (staff, 200),
    ]:
        assert api(user).get(f"{API}{pk}/").status_code == status
    for user in (None, supplier, supervisor):
        response = api(user).post(f"{API}{pk}/approve/", {}, format="json")
        assert response.status_code in (403, 404)
    assert ExpertApplication.objects.get(pk=pk).status == "submitted"
    assert api(supervisor).get(API).json()["count"] == 1
    assert api(supplier).get(API).json()["count"] == 0


def test_the_pages(staff, mails):
    specialties()
    visitor = Client()
    assert b'href="/experts/apply/"' in visitor.get("/").content
    form = body()
    with mails(execute=True):
        done = visitor.post("/experts/apply/", form)
    assert done.status_code == 200, done.content.decode()[:3000]
    token = token_in_mail("qian@example.cn", "/experts/apply/status/")
    status_page = visitor.get("/experts/apply/status/", {"token": token})
    assert ExpertApplication.objects.get().status == "draft"
    assert status_page.status_code == 200
    visitor.post("/experts/apply/status/", {"token": token})
    application = ExpertApplication.objects.get()
    assert application.status == "submitted"

    reviewer = Client()
    reviewer.force_login(staff)
    assert "钱学问" in reviewer.get("/experts/applications/").content.decode()
    reviewer.post(f"/experts/applications/{application.pk}/approve/", {"username": ""})
    application.refresh_from_db()
    assert application.status == "approved"
    assert application.expert is not None and application.expert.user is not None
    assert application.expert.user.username == f"expert{application.pk:05d}"
