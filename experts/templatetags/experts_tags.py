"""Template tags of the expert pages, and the one other pages may include.

`{% load experts_tags %}{% disclosed_committee project %}` renders the project's disclosed committee (the
seated members' names and specialties) for whoever reads the page, and nothing before disclosure — for
every reader: staff and supervisors see undisclosed committees on the draw pages, not on public ones.
`{% disclosed_committee project show_empty=True %}` says "not yet disclosed" instead of nothing.
"""

from __future__ import annotations

from typing import Any

from django import template

from experts import access
from experts.rules import EXCLUSION_REASONS

register = template.Library()


@register.inclusion_tag("experts/_committee.html", takes_context=True)
def disclosed_committee(context: Any, project: Any, show_empty: bool = False) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"committees": access.disclosed_members(user, project), "show_empty": show_empty}


@register.filter
def exclusion_label(code: str) -> str:
    return str(EXCLUSION_REASONS.get(code, code))
