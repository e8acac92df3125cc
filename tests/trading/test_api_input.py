"""What the projects API refuses: a minimum price, money that is not the documented string (lib.money),
times without an offset."""

from __future__ import annotations

import pytest
import time_machine

from accounts.models import Organization
from audit.models import AuditEvent
from tests.amounts import REFUSED
from tests.conftest import make_org
from tests.trading.factories import draft
from tests.trading.test_api import START, T0, assert_error, project_body
from trading.models import Lot, Project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(T0, tick=False) as moving:
        yield moving


@pytest.fixture
def owner(db) -> Organization:
    return make_org(Organization.Kind.OWNER, "珠海市教育局")


def lot(**fields) -> dict:
    return {"name": "施工总承包", "estimate": "1000000.00", **fields}


def assert_nothing_created() -> None:
    assert not Project.objects.exists()
    assert not AuditEvent.objects.filter(action="trading.project.created").exists()


@pytest.mark.parametrize(
    "field", ["minimum_price", "min_price", "floor_price", "lowest_price", "minimum_bid_price"]
)
def test_a_minimum_price_on_the_project_is_forbidden(api, agent, owner, field):
    body = project_body(owner, **{field: "30000000.00"})
    response = api(agent).post("/api/v1/projects/", body, format="json")
    assert_error(response, 400, "MINIMUM_PRICE_FORBIDDEN")
    assert_nothing_created()


def test_a_minimum_price_on_a_lot_is_forbidden(api, agent, owner):
    body = project_body(owner, lots=[lot(floor_price="900000.00")])
    response = api(agent).post("/api/v1/projects/", body, format="json")
    error = assert_error(response, 400, "MINIMUM_PRICE_FORBIDDEN")
    assert "二十七" in error["message"]
    assert_nothing_created()


def test_a_minimum_price_cannot_be_added_later(api, agent):
    project = draft(agent, start=START)
    for body in (
        {"minimum_price": "1"},
        {"lots": [lot(minimum_price="1")]},
    ):
        response = api(agent).patch(f"/api/v1/projects/{project.pk}/", body, format="json")
        assert_error(response, 400, "MINIMUM_PRICE_FORBIDDEN")
    assert not Lot.objects.filter(project=project, estimate=1000000).exists()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("estimate", 1500000.5, "AMOUNT_NOT_STRING"),
        ("estimate", 1000000, "AMOUNT_NOT_STRING"),
        ("estimate", "1000000.005", "AMOUNT_INVALID"),
        ("estimate", "-1", "AMOUNT_INVALID"),
        ("estimate", "0", "AMOUNT_OUT_OF_RANGE"),
        ("estimate", "一百万", "AMOUNT_INVALID"),
        ("estimate", "NaN", "AMOUNT_INVALID"),
        ("ceiling_price", 900000.25, "AMOUNT_NOT_STRING"),
        ("ceiling_price", "900000.123", "AMOUNT_INVALID"),
        ("ceiling_price", "0", "AMOUNT_OUT_OF_RANGE"),
        ("deposit_amount", "-0.01", "AMOUNT_INVALID"),
        ("deposit_amount", 100.5, "AMOUNT_NOT_STRING"),
        ("deposit_amount", None, "VALIDATION_ERROR"),
    ],
)
def test_bad_money_is_refused_with_a_code_and_nothing_is_created(
    api, agent, owner, field, value, code
):
    body = project_body(owner, lots=[lot(**{field: value, "deposit_forms": ["cash"]})])
    response = api(agent).post("/api/v1/projects/", body, format="json")
    assert_error(response, 400, code)
    assert_nothing_created()


LOT_AMOUNT_CASES = [
    pytest.param(field, *case.values, id=f"{field}-{case.id}")
    for field in ("estimate", "ceiling_price", "deposit_amount")
    for case in REFUSED
    # A lot may ask for no deposit.
    if not (field == "deposit_amount" and case.values[0] == "0")
]


@pytest.mark.parametrize(("field", "value", "code"), LOT_AMOUNT_CASES)
def test_every_lot_amount_is_held_to_the_one_contract_on_create(
    api, agent, owner, field, value, code
):
    body = project_body(owner, lots=[lot(**{field: value, "deposit_forms": ["cash"]})])
    response = api(agent).post("/api/v1/projects/", body, format="json")
    error = assert_error(response, 400, code)
    assert field in error["message"]
    assert_nothing_created()


@pytest.mark.parametrize(("value", "code"), REFUSED)
def test_every_lot_amount_is_held_to_the_one_contract_on_update(api, agent, value, code):
    project = draft(agent, start=START)
    response = api(agent).patch(
        f"/api/v1/projects/{project.pk}/",
        {"title": "新名称", "lots": [lot(ceiling_price=value)]},
        format="json",
    )
    assert_error(response, 400, code)
    project.refresh_from_db()
    assert project.title != "新名称"
    assert project.lots.get().ceiling_price == 36500000


def test_money_as_a_string_is_exact_and_comes_back_with_two_decimals(api, agent, owner):
    body = project_body(
        owner,
        lots=[
            lot(estimate="1000000", ceiling_price="999999.99"),
            lot(name="二标段", estimate="2500000.5", deposit_amount="0"),
        ],
    )
    response = api(agent).post("/api/v1/projects/", body, format="json")
    assert response.status_code == 201, response.json()
    lots = response.json()["lots"]
    assert [(x["estimate"], x["ceiling_price"], x["deposit_amount"]) for x in lots] == [
        ("1000000.00", "999999.99", "0.00"),
        ("2500000.50", None, "0.00"),
    ]


def test_bad_money_in_an_edit_changes_nothing(api, agent):
    project = draft(agent, start=START)
    response = api(agent).patch(
        f"/api/v1/projects/{project.pk}/",
        {"title": "新名称", "lots": [lot(estimate=12.5)]},
        format="json",
    )
    assert_error(response, 400, "AMOUNT_NOT_STRING")
    project.refresh_from_db()
    assert project.title != "新名称"
    assert project.lots.get().estimate == 38000000


def test_a_time_without_an_offset_is_refused(api, agent, owner):
    body = project_body(owner, bid_deadline="2026-03-27T10:00:00")
    response = api(agent).post("/api/v1/projects/", body, format="json")
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "时区" in error["details"]["bid_deadline"][0]
    assert_nothing_created()


def test_times_in_any_offset_are_stored_as_the_same_instant(api, agent, owner):
    body = project_body(owner, bid_deadline="2026-03-27T02:00:00Z")
    response = api(agent).post("/api/v1/projects/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["bid_deadline"] == "2026-03-27T10:00:00+08:00"


def test_missing_and_malformed_fields_are_validation_errors(api, agent, owner):
    response = api(agent).post("/api/v1/projects/", {"title": "x"}, format="json")
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert {"owner", "lots"} <= set(error["details"])
    response = api(agent).post(
        "/api/v1/projects/", project_body(owner, kind="spaceship"), format="json"
    )
    assert "kind" in assert_error(response, 400, "VALIDATION_ERROR")["details"]
    response = api(agent).post(
        "/api/v1/projects/", project_body(owner, documents_from="next monday"), format="json"
    )
    assert "documents_from" in assert_error(response, 400, "VALIDATION_ERROR")["details"]
    assert_nothing_created()


def test_a_supplier_cannot_be_the_owner(api, agent, supplier):
    body = project_body(supplier.organization)
    assert_error(api(agent).post("/api/v1/projects/", body, format="json"), 400, "INVALID_OWNER")


def test_absurd_numbers_are_validation_errors_not_database_errors(api, agent, owner):
    huge = 10**30
    for field, body in (
        ("invitees", project_body(owner, invitees=[huge])),
        ("owner", {**project_body(owner), "owner": huge}),
    ):
        response = api(agent).post("/api/v1/projects/", body, format="json")
        assert field in assert_error(response, 400, "NUMBER_OUT_OF_RANGE")["details"]
    for query in (f"?project={huge}", "?project=²"):
        assert_error(api(agent).get(f"/api/v1/registrations/{query}"), 400, "INVALID_PARAMETER")
    assert_error(api(agent).get(f"/api/v1/projects/{huge}/"), 404, "NOT_FOUND")
    assert_nothing_created()
