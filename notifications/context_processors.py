"""The header's 通知 link and its unread badge (updated live: clock.consumers, static/js/server-clock.js)."""

from __future__ import annotations

from typing import Any

from notifications.services import unread_count


def unread(request: Any) -> dict[str, Any]:
    user: Any = getattr(request, "user", None)
    # A callable: a template asks for it (one query) only where it shows the badge.
    return {"unread_notices": lambda: unread_count(user) if user is not None else 0}
