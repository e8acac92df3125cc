"""An organization's own users, run by its administrators (机构管理员, `OrgRole.ADMIN`).

The first user of a self-registered organization is its administrator; users center staff create
are administrators too (accounts.services.create_user). An administrator invites users by email (a
signed link, accounts.tokens purpose "invitation", good for `TOKEN_MAX_AGE["invitation"]` and used
once: the invitee chooses a username and password and joins with the roles chosen), changes their
roles inside the organization, and disables or enables them — a disabled user's sessions end at
once. An organization always keeps an active administrator: the last one can neither lose the role
nor be disabled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Invitation, Organization, OrgRole, OrgRoleGrant, User
from accounts.registration import check_password_strength, role_for_kind
from accounts.services import ORGANIZATION_PARTY_ROLES, add_user_row, has_org_role
from accounts.sessions import end_all_sessions
from accounts.tokens import (
    TOKEN_MAX_AGE,
    TokenRefused,
    absolute,
    make_token,
    read_token,
    send_after_commit,
)
from audit.services import record
from lib.errors import Conflict, DomainError, NotFound, NotPermitted
from lib.text import check_text


def administered_organization(actor: Actor) -> Organization:
    """The organization the actor administers, or FORBIDDEN."""
    user = actor.user
    if (
        user is None
        or user.organization is None
        or actor.role not in ORGANIZATION_PARTY_ROLES
        or not has_org_role(user, OrgRole.ADMIN)
    ):
        raise NotPermitted(_("只有机构管理员可以管理本机构的用户。"))
    return user.organization


def member_of(actor: Actor, pk: int) -> User:
    """A user of the actor's own organization (404 for anyone else's)."""
    org = administered_organization(actor)
    user = User.objects.filter(pk=pk, organization=org).first()
    if user is None:
        raise NotFound(_("未找到该用户。"))
    return user


def _id(value: Any) -> int:
    """An id from a signed token's payload (signed by us: an int, else nothing matches)."""
    return value if isinstance(value, int) else 0


def _clean_roles(roles: Any) -> list[str]:
    if not isinstance(roles, list | tuple) or any(r not in OrgRole.values for r in roles):
        raise DomainError(_("未知的机构内角色。"), code="INVALID_ORG_ROLE")
    if not roles:
        raise DomainError(_("请至少选择一个角色。"), code="ORG_ROLE_REQUIRED_FIELD")
    return sorted(set(roles))


def _other_active_admins(org_id: int, user: User) -> int:
    return (
        User.objects.filter(
            organization_id=org_id, is_active=True, org_role_grants__role=OrgRole.ADMIN
        )
        .exclude(pk=user.pk)
        .count()
    )


def invite(actor: Actor, *, email: str, roles: list[str], display_name: str = "") -> Invitation:
    org = administered_organization(actor)
    email = check_text(email, field="email", max_length=254).strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError(_("邮箱地址无效。"), code="INVALID_EMAIL") from exc
    display_name = check_text(display_name, field=str(_("姓名")), max_length=100).strip()
    clean_roles = _clean_roles(roles)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organization=org,
            email=email,
            display_name=display_name,
            roles=clean_roles,
            invited_by=actor.acting_user,
            expires_at=timezone.now() + dt.timedelta(seconds=TOKEN_MAX_AGE["invitation"]),
        )
        record(
            actor,
            "accounts.invitation.created",
            invitation,
            {"organization": org.pk, "email": email, "roles": clean_roles},
        )
        link = absolute(
            reverse("accept_invitation")
            + "?token="
            + make_token("invitation", {"invitation": invitation.pk})
        )
        send_after_commit(
            _("【bidhall】%(org)s 邀请您加入") % {"org": org.name},
            _(
                "您好：\n\n%(org)s 的管理员邀请您成为本机构在 bidhall 公共资源交易平台的用户。"
                "请在 %(days)s 天内打开下面的链接设置用户名和密码：\n%(link)s\n\n"
                "如与您无关，请忽略本邮件。"
            )
            % {"org": org.name, "days": TOKEN_MAX_AGE["invitation"] // 86400, "link": link},
            email,
        )
    return invitation


def invitation_for(token: str) -> Invitation:
    """The open invitation a link names (TOKEN_INVALID / TOKEN_EXPIRED / INVITATION_USED)."""
    payload = read_token("invitation", token)
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(pk=_id(payload.get("invitation")))
        .first()
    )
    if invitation is None or not invitation.organization.is_active:
        raise TokenRefused(_("链接无效。"))
    if invitation.accepted_at is not None:
        raise TokenRefused(_("该邀请已被使用。"), code="INVITATION_USED")
    if invitation.expires_at <= timezone.now():
        raise TokenRefused(_("链接已过期，请联系机构管理员重新邀请。"), code="TOKEN_EXPIRED")
    return invitation


def accept_invitation(
    actor: Actor, *, token: str, username: str, password: str, display_name: str = ""
) -> User:
    invitation = invitation_for(token)
    display_name = check_text(display_name, field=str(_("姓名")), max_length=100).strip()
    probe = User(username=username, email=invitation.email, display_name=display_name)
    check_password_strength(password, probe)
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise TokenRefused(_("该邀请已被使用。"), code="INVITATION_USED")
        org = invitation.organization
        user = add_user_row(
            actor,
            organization=org,
            username=username,
            role=role_for_kind(org.kind),
            password=password,
            display_name=display_name or locked.display_name,
            email=locked.email,
            org_roles=list(locked.roles),
            # The link reached this address.
            email_verified=True,
        )
        locked.accepted_at = timezone.now()
        locked.accepted_user = user
        locked.save(update_fields=["accepted_at", "accepted_user"])
        record(
            actor,
            "accounts.invitation.accepted",
            locked,
            {"organization": org.pk, "user": user.pk, "roles": list(locked.roles)},
        )
    return user


def set_org_roles(actor: Actor, user: User, roles: list[str]) -> User:
    org = administered_organization(actor)
    if user.organization_id != org.pk:
        raise NotFound(_("未找到该用户。"))
    clean_roles = _clean_roles(roles)
    with transaction.atomic():
        User.objects.select_for_update().filter(organization=org, is_active=True).count()
        before = sorted(OrgRoleGrant.objects.filter(user=user).values_list("role", flat=True))
        if (
            OrgRole.ADMIN in before
            and OrgRole.ADMIN not in clean_roles
            and _other_active_admins(org.pk, user) == 0
        ):
            raise Conflict(_("机构至少要保留一名有效的管理员。"), code="LAST_ADMIN")
        OrgRoleGrant.objects.filter(user=user).exclude(role__in=clean_roles).delete()
        OrgRoleGrant.objects.bulk_create(
            [OrgRoleGrant(user=user, role=r) for r in clean_roles if r not in before]
        )
        record(
            actor, "accounts.user.org_roles_changed", user, {"before": before, "after": clean_roles}
        )
    return user


def set_member_active(actor: Actor, user: User, *, active: bool) -> User:
    """Disable (its sessions end at once) or enable a user of the administrator's organization."""
    org = administered_organization(actor)
    if user.organization_id != org.pk:
        raise NotFound(_("未找到该用户。"))
    with transaction.atomic():
        User.objects.select_for_update().filter(organization=org, is_active=True).count()
        if (
            not active
            and user.is_active
            and has_org_role(user, OrgRole.ADMIN)
            and _other_active_admins(org.pk, user) == 0
        ):
            raise Conflict(_("机构至少要保留一名有效的管理员。"), code="LAST_ADMIN")
        User.objects.filter(pk=user.pk).update(is_active=active)
        user.refresh_from_db(fields=["is_active"])
        ended = 0 if active else end_all_sessions(user)
        record(
            actor,
            "accounts.user.activated" if active else "accounts.user.deactivated",
            user,
            {"by_org_admin": True, "sessions_ended": ended},
        )
    return user
