"""Password guessing: after LOGIN_FAILURE_LIMIT failures for one username from one address, that pair
is locked out for LOGIN_LOCKOUT_MINUTES — even the right password is refused — on the login page and
on the token endpoint alike, counted together. Another address, or another username, is not locked."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 5


def page_login(client: Client, username: str, password: str, **extra: str):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def token_login(client: APIClient, username: str, password: str, **extra: str):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra
    )


def test_the_right_password_is_refused_after_repeated_failures_on_the_page(supplier, settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    client = Client()
    for _ in range(LIMIT - 1):
        assert page_login(client, "supplier", "wrong").status_code == 200
    locked = page_login(client, "supplier", "wrong")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 14 * 60
    assert "登录失败次数过多" in locked.content.decode()
    assert 'data-testid="locked-out"' in locked.content.decode()

    refused = page_login(client, "supplier", PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_message_follows_the_readers_language(supplier):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(LIMIT):
        response = page_login(client, "supplier", "wrong")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


def test_the_token_endpoint_locks_out_in_the_api_error_shape(supplier):
    client = APIClient()
    for _ in range(LIMIT - 1):
        response = token_login(client, "supplier", "wrong")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    for password in ("wrong", PASSWORD):
        response = token_login(client, "supplier", password)
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "LOGIN_LOCKED"
        assert response.json()["error"]["message"]
        assert int(response["Retry-After"]) > 0
    assert not Token.objects.filter(user=supplier).exists()


def test_page_and_token_failures_count_together(supplier):
    page, api = Client(), APIClient()
    for _ in range(LIMIT - 1):
        page_login(page, "supplier", "wrong")
    assert token_login(api, "supplier", "wrong").status_code == 429
    assert page_login(page, "supplier", PASSWORD).status_code == 429


def test_another_address_and_another_username_are_not_locked(supplier, other_supplier):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT):
        page_login(attacker, "supplier", "wrong")
    assert page_login(attacker, "supplier", PASSWORD).status_code == 429
    # The bidder at its own address still logs in: locking by username alone would let anyone lock
    # a bidder out just before an auction.
    bidder = Client(REMOTE_ADDR="198.51.100.20")
    assert page_login(bidder, "supplier", PASSWORD).status_code == 302
    # A colleague behind the attacker's address (one company NAT) is not locked either.
    colleague = Client(REMOTE_ADDR="203.0.113.7")
    assert page_login(colleague, "other", PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(supplier, settings):
    client = Client()
    for _ in range(LIMIT):
        page_login(client, "supplier", "wrong")
    assert page_login(client, "supplier", PASSWORD).status_code == 429
    later = timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert page_login(client, "supplier", PASSWORD).status_code == 302


def test_a_successful_login_clears_the_failures(supplier):
    client = APIClient()
    for _ in range(LIMIT - 1):
        token_login(client, "supplier", "wrong")
    assert token_login(client, "supplier", PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert token_login(client, "supplier", "wrong").status_code == 400
    assert token_login(client, "supplier", PASSWORD).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(supplier, settings):
    """The address is the audit chain's: X-Forwarded-For's last hop written by the trusted proxy.
    A client cannot escape the lockout by writing its own X-Forwarded-For entries further left."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for attempt in range(LIMIT):
        page_login(
            Client(REMOTE_ADDR=proxy),
            "supplier",
            "wrong",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}, 203.0.113.7",
        )
    spoofed = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")
    assert page_login(spoofed, "supplier", PASSWORD).status_code == 429
    # Another client behind the same proxy is another address.
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert page_login(other, "supplier", PASSWORD).status_code == 302


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(supplier):
    for attempt in range(LIMIT):
        page_login(Client(HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}"), "supplier", "wrong")
    assert page_login(Client(), "supplier", PASSWORD).status_code == 429
