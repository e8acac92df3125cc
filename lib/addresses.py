"""The client's address as the platform records it (audit chain, throttles, login lockout): shared by
`accounts.actors` and `lib.throttling`, so it lives below both."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def normalize_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(meta: dict[str, Any]) -> str | None:
    """REMOTE_ADDR, or the client named by a trusted reverse proxy in X-Forwarded-For.

    Only the last TRUSTED_PROXY_COUNT hops are believed: anything further left was written by the
    client and could be forged to blame someone else's address.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return normalize_ip(hops[-proxies])
    return normalize_ip(meta.get("REMOTE_ADDR"))
