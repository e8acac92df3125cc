"""API throttles (DRF): per user when logged in, per client address otherwise, and the stricter `auth`
scope of the token endpoint. Counts live in the default cache — Redis, shared by every daphne
process, when REDIS_URL is set.

Two things differ from DRF's own classes: the client address is the one the audit chain records
(`lib.addresses.client_ip`: X-Forwarded-For only from TRUSTED_PROXY_COUNT proxies; DRF's default
believes any X-Forwarded-For, so a client could change its address on every request), and the rates
are read from the settings at each request rather than once at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from lib.addresses import client_ip

if TYPE_CHECKING:
    # Only annotations: rest_framework.views imports the throttle classes named in the settings.
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _ProjectThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        if self.scope is None:
            return None
        # A rate is "N/period" (or None: unthrottled); djangorestframework-stubs types them as numbers.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return None if rate is None else str(rate)

    def get_ident(self, request: Request) -> str:
        return client_ip(request.META) or ""


class UserThrottle(_ProjectThrottle, UserRateThrottle):
    """Every caller: per user when authenticated, per address when not."""


class AnonThrottle(_ProjectThrottle, AnonRateThrottle):
    """Anonymous callers, per address (a lower rate than a user's)."""


class AuthThrottle(_ProjectThrottle):
    """Password guessing through the token endpoint, per address, whoever the caller claims to be."""

    scope = "auth"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
