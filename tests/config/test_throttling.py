"""API throttling: per user, per address for anonymous callers, stricter for the token endpoint; over
the rate a 429 in the API's error shape with Retry-After. (The suite's own settings raise the rates so
other tests are never throttled; these tests set rates as production does.)"""

from __future__ import annotations

import importlib

import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**scopes: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": "1000/minute", "anon": "1000/minute"} | scopes,
        }

    return set_rates


def test_production_throttles_every_api_call():
    production = importlib.import_module("config.settings").REST_FRAMEWORK
    assert production["DEFAULT_THROTTLE_CLASSES"] == [
        "lib.throttling.UserThrottle",
        "lib.throttling.AnonThrottle",
    ]
    assert production["DEFAULT_THROTTLE_RATES"] == {
        "user": "1200/minute",
        "anon": "300/minute",
        "auth": "20/minute",
    }


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "THROTTLED"
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    assert f"{seconds} 秒后再试" in error["message"]


def test_a_user_over_the_rate_gets_429_and_others_do_not(rates, api, supplier, other_supplier):
    rates(user="3/minute")
    client = api(supplier)
    for _ in range(3):
        assert client.get("/api/v1/me/").status_code == 200
    assert_throttled(client.get("/api/v1/me/"))
    assert api(other_supplier).get("/api/v1/me/").status_code == 200


def test_anonymous_callers_are_throttled_per_address(rates):
    rates(anon="2/minute")
    for _ in range(2):
        assert APIClient().get("/api/v1/audit/head/").status_code == 200
    assert_throttled(APIClient().get("/api/v1/audit/head/"))
    # Without a trusted proxy a forged X-Forwarded-For changes nothing.
    assert_throttled(APIClient().get("/api/v1/audit/head/", HTTP_X_FORWARDED_FOR="192.0.2.9"))
    assert APIClient(REMOTE_ADDR="198.51.100.20").get("/api/v1/audit/head/").status_code == 200


def test_the_token_endpoint_has_its_own_stricter_rate(rates, supplier):
    rates(auth="2/minute")
    client = APIClient()
    for username in ("nobody-1", "nobody-2"):
        response = client.post(
            "/api/v1/auth/token/", {"username": username, "password": "x"}, format="json"
        )
        assert response.status_code == 400
    # Whoever the caller names next, the address has used its share.
    assert_throttled(
        client.post(
            "/api/v1/auth/token/", {"username": "supplier", "password": PASSWORD}, format="json"
        )
    )
    # Other API calls from the address are not affected by the token endpoint's rate.
    assert client.get("/api/v1/audit/head/").status_code == 200


def test_messages_follow_the_readers_language(rates, api, supplier):
    rates(user="1/minute")
    client = api(supplier)
    client.get("/api/v1/me/")
    response = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert response.json()["error"]["message"].startswith("Too many requests")
