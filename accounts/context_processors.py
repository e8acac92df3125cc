from __future__ import annotations

from typing import Any

from accounts.models import Role


def current_actor(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    return {"current_role": role, "Role": Role}
