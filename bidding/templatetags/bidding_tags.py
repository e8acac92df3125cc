"""Display helpers of the bidding pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from bidding.access import STAGE_LABELS

register = template.Library()


@register.filter
def yuan(value: Any) -> str:
    """35800000.00 → 35,800,000.00 (exact: a Decimal or its string, never a float)."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount:,.2f}"


@register.filter
def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
