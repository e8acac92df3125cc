from __future__ import annotations

from typing import Any

from accounts.models import OrganizationApplication, OrgRole, Role
from accounts.services import ORGANIZATION_PARTY_ROLES, has_org_role


def current_actor(request: Any) -> dict[str, Any]:
    user: Any = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    role = user.role if signed_in else None
    party = signed_in and role in ORGANIZATION_PARTY_ROLES and user.organization_id is not None
    return {
        "current_role": role,
        "Role": Role,
        # The header's links to the organization's users and its registration: callables, which a
        # template calls (one query each) only where it asks.
        "is_org_admin": lambda: party and has_org_role(user, OrgRole.ADMIN),
        "has_application": lambda: (
            party
            and OrganizationApplication.objects.filter(
                organization_id=user.organization_id
            ).exists()
        ),
    }
