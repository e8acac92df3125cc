"""Template helpers of the pages that carry signed forms (every app's)."""

from __future__ import annotations

from django import template

from signing.services import fallback_allowed

register = template.Library()


@register.filter
def signing_fallback(act: str) -> bool:
    """Whether `act` may go unsigned here (the development fallback): its form then carries
    data-sign-optional, and a browser without a key sends it unsigned."""
    return fallback_allowed(act)
