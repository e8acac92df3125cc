"""Shared personas and helpers.

Personas (healthchecks' alice/bob/charlie, for a trading center): `staff` (center), `supervisor`,
`agent`, `supplier` and `other_supplier` (two supplier organizations), `expert`. Each is a real user
created through the services, so role groups and object permissions are the production ones.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts import services
from accounts.actors import Actor
from accounts.models import Organization, Role, User

# Fixtures shared across apps: `browser` (Playwright on chromium) and `daphne_url` (a live daphne).
pytest_plugins = ["tests.browser"]

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_cache(settings: Any) -> Iterator[None]:
    """Each test its own cache: API throttle counts, cached counts and PDFs never leak between tests.

    A fresh key prefix (a fresh local-memory store without Redis) rather than a flush, which on Redis
    would empty the database the channel layer shares."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": prefix, "LOCATION": prefix}
        if "locmem" in settings.CACHES["default"]["BACKEND"]
        else {**settings.CACHES["default"], "KEY_PREFIX": prefix}
    }
    yield
    from django.core.cache import cache

    if "redis" in settings.CACHES["default"]["BACKEND"]:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)


SYSTEM = Actor.system("test")

_USCC_BODIES = iter(range(1, 10_000))


def make_uscc(prefix: str = "91440400") -> str:
    from stdnum.cn import uscc as uscc_number

    body = f"MA{next(_USCC_BODIES):06d}"
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    check = 11 - sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True)) % 11
    org_code = body + {10: "X", 11: "0"}.get(check, str(check))
    base = prefix + org_code
    return base + uscc_number.calc_check_digit(base)


def make_org(kind: str = Organization.Kind.SUPPLIER, name: str | None = None) -> Organization:
    return services.create_organization(
        SYSTEM, uscc=make_uscc(), name=name or f"{kind} {next(_USCC_BODIES)}", kind=kind
    )


def make_user(username: str, role: str, org: Organization) -> User:
    user = services.create_user(SYSTEM, organization=org, username=username, role=role)
    user.password = make_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def center(db: Any) -> Organization:
    return make_org(Organization.Kind.CENTER, "测试交易中心")


@pytest.fixture
def staff(center: Organization) -> User:
    return make_user("staff", Role.CENTER_STAFF, center)


@pytest.fixture
def supervisor(db: Any) -> User:
    return make_user(
        "supervisor", Role.SUPERVISOR, make_org(Organization.Kind.REGULATOR, "测试发改局")
    )


@pytest.fixture
def agent(db: Any) -> User:
    return make_user("agent", Role.AGENT, make_org(Organization.Kind.AGENT, "测试招标代理"))


@pytest.fixture
def supplier(db: Any) -> User:
    return make_user("supplier", Role.SUPPLIER, make_org(Organization.Kind.SUPPLIER, "甲建设公司"))


@pytest.fixture
def other_supplier(db: Any) -> User:
    return make_user("other", Role.SUPPLIER, make_org(Organization.Kind.SUPPLIER, "乙建设公司"))


@pytest.fixture
def expert(db: Any) -> User:
    return make_user("expert", Role.EXPERT, make_org(Organization.Kind.SUPPLIER, "设计院"))


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    def client_for(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


def run_concurrently(
    func: Callable[..., Any], args_list: list[tuple], timeout: float = 60
) -> list[Any]:
    """Run func(*args) in one thread per args tuple, all released at once (Oscar's helper).

    Each thread closes its own database connection, so the threads really are separate transactions.
    Returns each call's result or the exception it raised.
    """
    results: list[Any] = [None] * len(args_list)
    barrier = threading.Barrier(len(args_list))

    def worker(index: int, args: tuple) -> None:
        try:
            barrier.wait()
            results[index] = func(*args)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(args_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
)
