"""Supervisors see everything and change nothing: every route of the site and the API, called as a
supervisor with every writing method, writes nothing in the supervisor's name to the audit trail —
which every state change writes. The only writes a supervisor makes are alert notes and the draw
sign-offs they witness."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from audit.models import AuditEvent
from tests.bidding.auction_world import START, make_world
from tests.bidding.land_world import LISTING_START, make_land_world
from tests.bidding.world import build, people

pytestmark = pytest.mark.django_db

# Routes a supervisor may write through (each is its own audited, permission-checked service).
SUPERVISOR_WRITES = {
    "api_alert_handle",  # the supervisor's note on an alert
    "alert_handle",
    "draw_sign_off",  # witnessing an expert draw (issue 5)
    "api_draw_sign_off",
    "logout",
    "set_language",
    "notification_read",  # the user's own view state, deliberately not audited
    # The regulator's handling of complaints (投诉): accepting, refusing, asking for material,
    # suspending and resuming the procurement, deciding, and adding to the case file. Covered by
    # tests/complaints (test_permission_matrix.py, test_pages.py).
    *(
        f"{prefix}complaint_{act}"
        for prefix in ("", "api_")
        for act in ("accept", "refuse", "suspend", "resume", "decide")
    ),
    "complaint_request",
    "api_complaint_requests",
    "complaint_document_upload",
    "api_complaint_documents",
}
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def routes(resolver: URLResolver | None = None, prefix: str = ""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def concrete(route: str, ids: int) -> str | None:
    if route.startswith("^") or "(?P" in route:
        return None  # regex routes: static and media serving only
    url = PARAM.sub(lambda m: str(ids) if m["converter"] == "int" else "x", route)
    return "/" + url


@pytest.fixture
def busy_platform(staff, supervisor, agent, supplier, other_supplier, expert, settings, tmp_path):
    """A tender through its award, a finished reverse auction and a land listing, so that most ids
    in the routes below name real objects."""
    settings.MEDIA_ROOT = tmp_path / "media"
    build(people(staff, supervisor, agent, supplier, other_supplier, expert), "awarded")
    auction_world = make_world(agent, staff)
    with time_machine.travel(START + dt.timedelta(seconds=5), tick=False):
        from bidding.auction import services

        services.place_bid(
            auction_world.actor(auction_world.bidders[0]), auction_world.auction, "999000.00", "k1"
        )
    land = make_land_world(agent, staff, bidders=2)
    land.bid(land.bidders[0], "100000000.00", LISTING_START + dt.timedelta(days=2))


def test_no_route_lets_a_supervisor_change_anything(busy_platform, supervisor):
    client = Client()
    client.force_login(supervisor)
    checked, writable = 0, []
    for route, name in routes():
        if name in SUPERVISOR_WRITES or "<path:unknown>" in route:
            continue
        for ids in (1, 2):
            url = concrete(route, ids)
            if url is None:
                continue
            for method in ("post", "put", "patch", "delete"):
                before = AuditEvent.objects.count()
                response = getattr(client, method)(
                    url,
                    data={"note": "x", "reason": "x", "price": "1.00", "answer": True},
                    content_type="application/json",
                )
                assert response.status_code != 500, (method, url)
                # A write request may first run a transition that is overdue, as the system (the
                # listing's close here, the real clock being months past it); reads never do. What the
                # supervisor did is what counts.
                written = list(
                    AuditEvent.objects.filter(seq__gt=before, actor_id=supervisor.pk).values_list(
                        "action", flat=True
                    )
                )
                if written:
                    writable.append((method, url, written))
                checked += 1
    assert checked > 500  # the whole site was walked, not a corner of it
    assert writable == []


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.managed}


def test_audited_records_have_no_delete_path(busy_platform, staff, django_user_model):
    """Retention (AUDIT_RETENTION_YEARS): no route deletes anything, for center staff or a superuser,
    and the admin offers no delete for what it shows."""
    from django.contrib import admin
    from django.test import RequestFactory

    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    before = _row_counts()
    for user in (staff, root):
        client = Client()
        client.force_login(user)
        for route, name in routes():
            if name in ("logout",) or "<path:unknown>" in route:
                continue
            url = concrete(route, 1)
            if url is not None:
                # Pages that ignore the method answer 200; what matters is that nothing disappears.
                assert client.delete(url).status_code != 500, url
    after = _row_counts()
    assert {label: (before[label], n) for label, n in after.items() if n < before[label]} == {}
    request = RequestFactory().get("/")
    request.user = root
    for model, model_admin in admin.site._registry.items():
        if model._meta.label == "authtoken.TokenProxy":
            continue  # revoking an API token is a security action, not a record's deletion
        if model._meta.app_label == "axes":
            continue  # lifting a login lockout deletes its failed attempts: not a trading record
        assert not model_admin.has_delete_permission(request), model
