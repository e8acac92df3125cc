"""Every route has a name of its own: `reverse()` with a name two apps both use resolves to one of
them, silently, and a page or an API client is sent to the wrong place (a contracts route once took
bidding's `api_contract`)."""

from __future__ import annotations

from collections import Counter

from django.urls import URLPattern, URLResolver, get_resolver


def route_names(resolver: URLResolver, namespace: str = "") -> list[str]:
    """Every route's name as `reverse()` knows it (with its namespace, e.g. "admin:login")."""
    names: list[str] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names += route_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.append(namespace + entry.name)
    return names


def test_no_two_routes_share_a_name():
    counts = Counter(route_names(get_resolver()))
    assert [name for name, count in counts.items() if count > 1] == []
