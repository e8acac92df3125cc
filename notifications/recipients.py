"""Who is concerned. Each function answers active users only; `notify` takes any iterable of users."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import Organization, OrgRole, Role, User


def members(organization: Organization | None, *org_roles: str) -> QuerySet[User]:
    """An organization's active users holding any of `org_roles` (all of them when none is named).

    Its administrators are always included: they answer for the organization and can pass work on."""
    if organization is None:
        return User.objects.none()
    users = User.objects.filter(organization=organization, is_active=True)
    if org_roles:
        users = users.filter(org_role_grants__role__in={*org_roles, OrgRole.ADMIN})
    return users.distinct().order_by("pk")


def bidders(organization: Organization | None) -> QuerySet[User]:
    """Who acts for a bidder in a tender, auction or land sale."""
    return members(organization, OrgRole.BID_OPERATOR)


def finance(organization: Organization | None) -> QuerySet[User]:
    """Who handles a bidder's deposits."""
    return members(organization, OrgRole.FINANCE)


def with_role(role: Role | str) -> QuerySet[User]:
    """Every active user holding a platform role (center staff, supervisors)."""
    return User.objects.filter(groups__name=str(role), is_active=True).distinct().order_by("pk")


def supervisors() -> QuerySet[User]:
    return with_role(Role.SUPERVISOR)


def center_staff() -> QuerySet[User]:
    return with_role(Role.CENTER_STAFF)


def bidders_of(organizations: Iterable[Organization]) -> list[User]:
    """The bid operators and administrators of several bidders, in one list."""
    return [user for org in organizations for user in bidders(org)]
