"""The one permission check every service, view and consumer uses.

A user may act on an object if their role grants the permission for the whole model, or the object's
creator granted it to them (or to their organization) on that object with django-guardian.
`user.has_perm` builds a fresh guardian checker on every call, so a revoked permission takes effect at
once, even for a long-lived WebSocket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import get_objects_for_user

from accounts.actors import Actor
from lib.errors import NotPermitted

if TYPE_CHECKING:
    from rest_framework.request import Request

    from accounts.models import User


def has_perm(user: Any, perm: str, obj: Model | None = None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm(perm):
        return True
    return obj is not None and user.has_perm(perm, obj)


def require_perm(actor: Actor, perm: str, obj: Model | None = None) -> None:
    """Raise NotPermitted unless the actor holds `perm` globally or on `obj`. The system always may."""
    if actor.is_system:
        return
    if not has_perm(actor.user, perm, obj):
        raise NotPermitted(_("您没有执行此操作的权限。"))


def visible_to(user: Any, perm: str, queryset: QuerySet) -> QuerySet:
    """The objects of `queryset` the user holds `perm` on (all of them with the role-wide permission)."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    return get_objects_for_user(user, perm, klass=queryset, accept_global_perms=True)


def signed_in_user(request: HttpRequest | Request) -> User:
    """The user of a request to a page behind `login_required` or an API endpoint behind
    `IsAuthenticated` (the type of `request.user` allows an anonymous one); an anonymous caller that
    reaches it anyway is refused (403)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user
