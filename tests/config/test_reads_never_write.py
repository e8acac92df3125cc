"""Reads never write: every GET route, as every role, leaves the database as it found it.

Time-driven transitions (openings, auction rounds, land phases, publicity ends, refunds) belong to
the clock (`clock/`); a page or API read that ran one would make the outcome depend on who happened
to look, and when. The demo data is read at seeding time and again a month later, when every
scheduled step is overdue and a lazy "catch up on read" would show itself as a write.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import User
from tests.bidding.world import travel

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "staff", "supervisor", "agent", "supplier", "landbidder", "expert")
# Sessions and login bookkeeping are the framework's, not the platform's state.
IGNORED_TABLES = ("django_session", "axes_")
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _paths() -> list[str]:
    """Every concrete GET path: ids filled with 1 (the demo's first object of each kind)."""
    paths = []
    for route in _routes(get_resolver()):
        if route.startswith("admin/") or route.startswith("^") or "(?P" in route:
            continue
        converters = {name for name, _ in PARAMETER.findall(route)}
        if converters - {"id", "int"}:
            continue  # the two <str:…> routes (OCDS ocid, calendar day) read by key, tested in their apps
        paths.append("/" + PARAMETER.sub("1", route))
    return paths


def _writes(queries: list[dict[str, str]]) -> list[str]:
    return [
        query["sql"][:160]
        for query in queries
        if WRITE.match(query["sql"]) and not any(table in query["sql"] for table in IGNORED_TABLES)
    ]


def _read_everything(paths: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(User.objects.get(username=role))
        for path in paths:
            # A fresh log each time: once the log holds its 9,000 entries a capture would be empty.
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code < 500, (role, path, response.status_code)
            writes = _writes(queries.captured_queries)
            if writes:
                found[f"{role} GET {path}"] = writes
    return found


def test_no_get_route_writes_for_any_role_now_or_when_every_step_is_overdue():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    paths = _paths()
    assert len(paths) > 100  # the walk found the platform's routes
    assert _read_everything(paths) == {}
    with travel(timezone.now() + dt.timedelta(days=40)):
        assert _read_everything(paths) == {}
