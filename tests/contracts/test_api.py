"""The contracts REST API (/api/v1/contracts/): the flow over HTTP, strict input, and who may do what."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Organization, Role
from contracts.models import Contract
from tests.conftest import make_user
from tests.contracts.conftest import PRICE, TERMS, Awarded, travel

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


def drafted(api, agent, gp: Awarded) -> int:
    with travel(gp.awarded_at + dt.timedelta(hours=2)):
        response = api(agent).post(
            "/api/v1/contracts/",
            {"lot": gp.lot.pk, "price": PRICE, "terms": TERMS, "performance_bond": "49000.00"},
            format="json",
        )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def test_the_flow_over_http(api, agent, supplier, gp):
    pk = drafted(api, agent, gp)
    at = gp.awarded_at + dt.timedelta(days=1)
    with travel(at):
        body = api(supplier).get(f"/api/v1/contracts/{pk}/").json()
        assert body["status"] == "draft" and body["price"] == PRICE
        assert body["pending_version"]["act"] == "contract.sign"
        assert len(body["pending_version"]["sha256"]) == 64
        for user in (agent, supplier):
            response = api(user).post(f"/api/v1/contracts/{pk}/sign/", {}, format="json")
            assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "published" and body["pending_version"] is None
        response = api(agent).post(
            f"/api/v1/contracts/{pk}/milestones/",
            {"description": "全部设备交付安装", "due_on": "2026-05-30", "amount": PRICE},
            format="json",
        )
        assert response.status_code == 201, response.content
        milestone = response.json()["id"]
        response = api(supplier).post(f"/api/v1/contracts/{pk}/milestones/{milestone}/deliver/")
        assert response.status_code == 200 and response.json()["late"] is False
        response = api(agent).post(f"/api/v1/contracts/{pk}/milestones/{milestone}/pay/")
        assert response.status_code == 200 and response.json()["paid_at"]
        response = api(agent).post(
            f"/api/v1/contracts/{pk}/acceptance/",
            {"accepted_on": at.date().isoformat(), "result": "passed", "remarks": "合格"},
            format="json",
        )
        assert response.status_code == 201 and response.json()["status"] == "accepted"
        listed = api(supplier).get("/api/v1/contracts/?status=accepted").json()
        assert [row["id"] for row in listed["results"]] == [pk]


def test_input_is_strict(api, agent, gp):
    with travel(gp.awarded_at + dt.timedelta(hours=2)):
        client = api(agent)
        assert_error(
            client.post(
                "/api/v1/contracts/",
                {"lot": gp.lot.pk, "price": PRICE, "terms": TERMS, "prise": "1"},
                format="json",
            ),
            400,
            "UNKNOWN_FIELD",
        )
        assert_error(
            client.post(
                "/api/v1/contracts/",
                {"lot": gp.lot.pk, "price": 980000, "terms": TERMS},
                format="json",
            ),
            400,
            "AMOUNT_NOT_STRING",
        )
        assert_error(
            client.post(
                "/api/v1/contracts/",
                {"lot": gp.lot.pk, "price": "980000.01", "terms": TERMS},
                format="json",
            ),
            400,
            "CONTRACT_PRICE_MISMATCH",
        )
        assert_error(
            client.post(
                "/api/v1/contracts/", {"lot": 999999, "price": PRICE, "terms": TERMS}, format="json"
            ),
            404,
            "NOT_FOUND",
        )
    assert not Contract.objects.exists()


# --- Who may do what ------------------------------------------------------------------------------

OK = {200, 201}


@pytest.fixture
def people(agent, supplier, other_supplier, staff, supervisor, gp):
    owner = make_user("owner", Role.AGENT, gp.project.owner)
    return {
        "agent": agent,
        "supplier": supplier,
        "owner": owner,
        "other": other_supplier,
        "staff": staff,
        "supervisor": supervisor,
        "anonymous": None,
    }


# (who, endpoint) → status class: "ok", 403, 404
MATRIX = {
    "view": {
        "agent": "ok",
        "supplier": "ok",
        "owner": "ok",
        "staff": "ok",
        "supervisor": "ok",
        "other": 404,
        "anonymous": 403,
    },
    "amend": {
        "agent": "ok",
        "supplier": 403,
        "owner": 403,
        "staff": 403,
        "supervisor": 403,
        "other": 404,
        "anonymous": 403,
    },
    "sign": {
        "agent": "ok",
        "supplier": "ok",
        "owner": 403,
        "staff": 403,
        "supervisor": 403,
        "other": 404,
        "anonymous": 403,
    },
    "milestone": {
        "agent": "ok",
        "supplier": 403,
        "owner": 403,
        "staff": 403,
        "supervisor": 403,
        "other": 404,
        "anonymous": 403,
    },
    "terminate": {
        "agent": "ok",
        "supplier": 403,
        "owner": 403,
        "staff": 403,
        "supervisor": 403,
        "other": 404,
        "anonymous": 403,
    },
}


def _call(api, user, pk: int, what: str):
    client = api(user)
    if what == "view":
        return client.get(f"/api/v1/contracts/{pk}/")
    if what == "amend":
        return client.post(
            f"/api/v1/contracts/{pk}/amend/",
            {"reason": "补充质保条款", "terms": TERMS + "\n四、质保两年。"},
            format="json",
        )
    if what == "sign":
        return client.post(f"/api/v1/contracts/{pk}/sign/", {}, format="json")
    if what == "milestone":
        return client.post(
            f"/api/v1/contracts/{pk}/milestones/",
            {"description": "交付", "due_on": "2026-05-30", "amount": "1.00"},
            format="json",
        )
    return client.post(f"/api/v1/contracts/{pk}/terminate/", {"reason": "违约"}, format="json")


@pytest.mark.parametrize("what", sorted(MATRIX))
@pytest.mark.parametrize(
    "who", ["agent", "supplier", "owner", "staff", "supervisor", "other", "anonymous"]
)
def test_permission_matrix(api, agent, supplier, gp, people, who, what):
    pk = drafted(api, agent, gp)
    at = gp.awarded_at + dt.timedelta(days=1)
    if what == "terminate":
        with travel(at):  # only a contract in force can be terminated
            for user in (agent, supplier):
                api(user).post(f"/api/v1/contracts/{pk}/sign/", {}, format="json")
    with travel(at + dt.timedelta(hours=1)):
        response = _call(api, people[who], pk, what)
    expected = MATRIX[what][who]
    if expected == "ok":
        assert response.status_code in OK, response.content
    else:
        assert response.status_code == expected, response.content


def test_the_list_shows_only_ones_own(api, agent, supplier, other_supplier, gp):
    pk = drafted(api, agent, gp)
    assert [r["id"] for r in api(supplier).get("/api/v1/contracts/").json()["results"]] == [pk]
    assert api(other_supplier).get("/api/v1/contracts/").json()["results"] == []
    assert Organization.objects.filter(pk=gp.project.owner_id).exists()
