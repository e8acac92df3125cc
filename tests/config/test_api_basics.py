"""The API's shared behaviour: one error shape, session and token auth, the OpenAPI schema."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.actors import Actor
from audit.services import record

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_anonymous_callers_get_the_error_shape():
    assert_error(APIClient().get("/api/v1/me/"), 403, "NOT_AUTHENTICATED")


def test_unknown_api_paths_answer_in_json():
    assert_error(APIClient().get("/api/v1/no-such-thing/"), 404, "NOT_FOUND")


def test_wrong_method(api, staff):
    assert_error(api(staff).delete("/api/v1/me/"), 405, "METHOD_NOT_ALLOWED")


def test_malformed_json(api, staff):
    response = api(staff).post(
        "/api/v1/organizations/", data="{not json", content_type="application/json"
    )
    assert_error(response, 400, "MALFORMED_REQUEST")


def test_validation_errors_name_the_fields(api, staff):
    response = api(staff).post("/api/v1/organizations/", {"kind": "alien"}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert {"uscc", "name", "kind"} <= set(response.json()["error"]["details"])


def test_messages_follow_the_readers_language(api, staff):
    chinese = APIClient().get("/api/v1/me/")
    english = APIClient().get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.json()["error"]["message"] == "请先登录。"
    assert english.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_token_authentication(supplier):
    token = Token.objects.create(user=supplier)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["role"] == "supplier"
    assert me.json()["organization"]["id"] == supplier.organization_id


def test_a_token_is_issued_for_a_username_and_password(supplier):
    from tests.conftest import PASSWORD

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "supplier", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert Token.objects.get(user=supplier).key == response.json()["token"]


def test_session_authentication(client, supplier):
    client.force_login(supplier)
    assert client.get("/api/v1/me/").json()["username"] == "supplier"


def test_openapi_schema_and_docs_page(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "openapi: 3" in text
    assert "/api/v1/organizations/" in text
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    # The docs page uses the vendored Swagger UI, never a CDN.
    assert "cdn" not in docs.content.decode().lower()


def test_the_audit_head_is_public_and_events_are_not(api, supplier, supervisor):
    from django.db import transaction

    with transaction.atomic():
        event = record(Actor.system("test"), "test.public", None, {})
    head = APIClient().get("/api/v1/audit/head/")
    assert head.status_code == 200
    assert head.json()["seq"] == event.seq
    assert head.json()["hash"] == event.hash
    assert_error(api(supplier).get("/api/v1/audit/events/"), 403, "FORBIDDEN")
    events = api(supervisor).get("/api/v1/audit/events/?action=test.public")
    assert [e["seq"] for e in events.json()] == [event.seq]


def test_audit_event_filters_refuse_bad_input(api, supervisor):
    assert_error(api(supervisor).get("/api/v1/audit/events/?since=yesterday"), 400, "INVALID_TIME")
    assert_error(
        api(supervisor).get("/api/v1/audit/events/?after_seq=-1"), 400, "INVALID_PARAMETER"
    )
