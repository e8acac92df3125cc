"""Every change to parties goes through here: validated, authorized, audited in one transaction.

`ensure_may_trade` is the single integrity gate later capabilities call before a registration, a deposit
or a bid.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm
from stdnum.cn import uscc as uscc_number

from accounts.actors import Actor
from accounts.models import (
    IntegrityRecord,
    Organization,
    OrgRole,
    OrgRoleGrant,
    Role,
    User,
    validate_uscc,
)
from accounts.permissions import require_perm
from accounts.sessions import end_all_sessions
from audit.services import record
from lib.errors import Conflict, DomainError


class OrganizationBarred(DomainError):
    code = "ORG_BARRED"
    http_status = 403


class OrganizationInactive(DomainError):
    code = "ORG_INACTIVE"
    http_status = 403


class OrganizationNotApproved(DomainError):
    code = "ORGANIZATION_NOT_APPROVED"
    http_status = 403


class OrgRoleRequired(DomainError):
    code = "ORG_ROLE_REQUIRED"
    http_status = 403


def _local_day(when: dt.datetime | dt.date) -> dt.date:
    """Bars run by calendar day in China; a UTC timestamp is judged on its Asia/Shanghai date."""
    if isinstance(when, dt.datetime):
        return timezone.localtime(when).date()
    return when


def ensure_may_trade(org: Organization, when: dt.datetime | dt.date) -> None:
    """Raise unless `org` may register, pay a deposit or bid at `when`.

    Refuses a deactivated organization, a self-registered one that center staff have not approved
    yet (ORGANIZATION_NOT_APPROVED; accounts.registration), and one with an integrity bar active on
    that day (失信被执行人, 严重违法失信, 不良行为 ban…). The message names the earliest bar so the bidder
    knows why and until when.
    """
    if not org.is_active:
        raise OrganizationInactive(_("机构“%(name)s”已停用，不能参与交易。"), name=org.name)
    if org.approved_at is None:
        raise OrganizationNotApproved(
            _("机构“%(name)s”的主体注册尚未通过交易中心审核，暂不能参与交易。"), name=org.name
        )
    bar = org.integrity_records.active_at(_local_day(when)).order_by("barred_from", "id").first()
    if bar is None:
        return
    if bar.barred_until:
        raise OrganizationBarred(
            _("机构“%(name)s”因%(category)s被限制参与交易至 %(until)s：%(reason)s"),
            name=org.name,
            category=bar.get_category_display(),
            until=bar.barred_until.isoformat(),
            reason=bar.reason,
        )
    raise OrganizationBarred(
        _("机构“%(name)s”因%(category)s被限制参与交易（至解除为止）：%(reason)s"),
        name=org.name,
        category=bar.get_category_display(),
        reason=bar.reason,
    )


# Users who act for an organization (a bidder, a tendering party) hold roles inside it; the
# platform's own people (center staff, supervisors) and experts act in their platform role alone.
ORGANIZATION_PARTY_ROLES = frozenset({Role.SUPPLIER, Role.AGENT})


def has_org_role(user: Any, role: str) -> bool:
    """Whether `user` holds `role` (an `OrgRole`) inside their organization."""
    if user is None or not user.is_authenticated:
        return False
    return OrgRoleGrant.objects.filter(user_id=user.pk, role=role).exists()


def require_org_role(actor: Actor, *roles: str) -> None:
    """Raise ORG_ROLE_REQUIRED unless the actor holds one of `roles` inside its organization.

    Only organization parties (suppliers, agents/owners) are checked: the system, center staff,
    supervisors, experts and users without an organization pass through (their platform role and
    object permissions decide). Acts call it before their own permission checks, e.g. a bid with
    (BID_OPERATOR, ADMIN) and a deposit refund account with (FINANCE, ADMIN).
    """
    user = actor.user
    if actor.is_system or user is None or user.organization_id is None:
        return
    if actor.role not in ORGANIZATION_PARTY_ROLES:
        return
    if OrgRoleGrant.objects.filter(user_id=user.pk, role__in=roles).exists():
        return
    raise OrgRoleRequired(
        _("您在本机构的角色不能执行此操作（需要：%(roles)s）。"),
        roles="、".join(str(OrgRole(role).label) for role in roles),
    )


def _organization_snapshot(org: Organization) -> dict[str, Any]:
    return {
        "uscc": org.uscc,
        "name": org.name,
        "kind": org.kind,
        "region": org.region,
        "legal_representative": org.legal_representative,
        "is_active": org.is_active,
    }


def clean_uscc(value: str) -> str:
    compact = uscc_number.compact(value or "")
    try:
        validate_uscc(compact)
    except ValidationError as exc:
        raise DomainError(
            _("统一社会信用代码无效：%(value)s"), code="INVALID_USCC", value=value
        ) from exc
    return compact


def create_organization(
    actor: Actor,
    *,
    uscc: str,
    name: str,
    kind: str,
    region: str = "",
    legal_representative: str = "",
) -> Organization:
    require_perm(actor, "accounts.add_organization")
    code = clean_uscc(uscc)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("机构名称不能为空。"), code="NAME_REQUIRED")
    if kind not in Organization.Kind.values:
        raise DomainError(_("未知的机构类型：%(kind)s"), code="INVALID_KIND", kind=kind)
    with transaction.atomic():
        if Organization.objects.filter(uscc=code).exists():
            raise Conflict(_("统一社会信用代码 %(uscc)s 已登记。"), code="USCC_TAKEN", uscc=code)
        group = Group.objects.create(name=f"org-{code}")
        org = Organization.objects.create(
            uscc=code,
            name=name,
            kind=kind,
            region=region,
            legal_representative=legal_representative,
            members_group=group,
            # Created by center staff (or the platform itself): vetted already.
            approved_at=timezone.now(),
        )
        # Members see their own organization; staff and supervisors see all through their role.
        assign_perm("accounts.view_organization", group, org)
        record(actor, "accounts.organization.created", org, _organization_snapshot(org))
    return org


def update_organization(actor: Actor, org: Organization, **changes: Any) -> Organization:
    require_perm(actor, "accounts.change_organization", org)
    allowed = {"name", "region", "legal_representative", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(
            _("不能修改这些字段：%(fields)s"),
            code="FIELD_NOT_EDITABLE",
            fields=", ".join(sorted(unknown)),
        )
    with transaction.atomic():
        locked = Organization.objects.select_for_update().get(pk=org.pk)
        before = _organization_snapshot(locked)
        for field, value in changes.items():
            setattr(locked, field, value.strip() if isinstance(value, str) else value)
        if not locked.name:
            raise DomainError(_("机构名称不能为空。"), code="NAME_REQUIRED")
        locked.save(update_fields=list(changes))
        after = _organization_snapshot(locked)
        record(actor, "accounts.organization.updated", locked, {"before": before, "after": after})
    return locked


def bar_organization(
    actor: Actor,
    org: Organization,
    *,
    category: str,
    source: str,
    reason: str,
    barred_from: dt.date,
    barred_until: dt.date | None,
    decision_number: str = "",
) -> IntegrityRecord:
    """Record a bar (失信/不良行为). It takes effect through `ensure_may_trade` from `barred_from`."""
    require_perm(actor, "accounts.manage_integrity", org)
    if category not in IntegrityRecord.Category.values:
        raise DomainError(
            _("未知的诚信记录类别：%(value)s"), code="INVALID_CATEGORY", value=category
        )
    if source not in IntegrityRecord.Source.values:
        raise DomainError(_("未知的信息来源：%(value)s"), code="INVALID_SOURCE", value=source)
    if not (reason or "").strip():
        raise DomainError(_("必须填写限制事由。"), code="REASON_REQUIRED")
    if barred_until is not None and barred_until < barred_from:
        raise DomainError(_("限制截止日不能早于开始日。"), code="INVALID_PERIOD")
    with transaction.atomic():
        bar = IntegrityRecord.objects.create(
            organization=org,
            category=category,
            source=source,
            reason=reason.strip(),
            decision_number=decision_number.strip(),
            barred_from=barred_from,
            barred_until=barred_until,
            recorded_by=actor.acting_user,
        )
        record(
            actor,
            "accounts.organization.barred",
            org,
            {
                "integrity_record": bar.pk,
                "category": category,
                "source": source,
                "reason": bar.reason,
                "decision_number": bar.decision_number,
                "barred_from": barred_from,
                "barred_until": barred_until,
            },
        )
    return bar


def lift_bar(actor: Actor, bar: IntegrityRecord, *, reason: str) -> IntegrityRecord:
    require_perm(actor, "accounts.manage_integrity", bar.organization)
    if not (reason or "").strip():
        raise DomainError(_("必须填写解除理由。"), code="REASON_REQUIRED")
    with transaction.atomic():
        locked = IntegrityRecord.objects.select_for_update().get(pk=bar.pk)
        if locked.lifted_at is not None:
            raise Conflict(
                _("该限制已于 %(at)s 解除。"), code="ALREADY_LIFTED", at=locked.lifted_at
            )
        locked.lifted_at = timezone.now()
        locked.lifted_by = actor.user
        locked.lift_reason = reason.strip()
        locked.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        record(
            actor,
            "accounts.organization.bar_lifted",
            locked.organization,
            {"integrity_record": locked.pk, "reason": locked.lift_reason},
        )
    return locked


def create_user(
    actor: Actor,
    *,
    organization: Organization | None,
    username: str,
    role: str,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    phone: str = "",
    org_roles: list[str] | None = None,
) -> User:
    """Create a user in one organization with one role. Staff roles need the center's organization;
    an expert may have none (a natural person whose employer is not registered here).

    A supplier's or agent's user gets `org_roles` inside its organization — by default
    administrator, so a user center staff create keeps every power users had before roles inside
    organizations existed.
    """
    require_perm(actor, "accounts.add_user")
    if role not in Role.values:
        raise DomainError(_("未知的角色：%(role)s"), code="INVALID_ROLE", role=role)
    with transaction.atomic():
        user = add_user_row(
            actor,
            organization=organization,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
            email=email,
            phone=phone,
            org_roles=[OrgRole.ADMIN] if org_roles is None else org_roles,
        )
    return user


def check_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise DomainError(_("用户名不能为空。"), code="USERNAME_REQUIRED")
    if len(username) > 150 or not re.fullmatch(r"[\w.@+-]+", username):
        raise DomainError(
            _("用户名只能包含字母、数字和 @/./+/-/_，最多 150 个字符。"), code="USERNAME_INVALID"
        )
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(
            _("用户名 %(username)s 已被使用。"), code="USERNAME_TAKEN", username=username
        )
    return username


def add_user_row(
    actor: Actor,
    *,
    organization: Organization | None,
    username: str,
    role: str,
    password: str | None,
    display_name: str = "",
    email: str = "",
    phone: str = "",
    org_roles: list[str],
    email_verified: bool = False,
) -> User:
    """The user row, its groups and org roles, audited. For the services that decided who may add
    it (staff through `create_user`; a self-registration, an accepted invitation, an approved
    expert application) and call it inside their transaction."""
    kinds_by_role: dict[Role, set[str]] = {
        Role.CENTER_STAFF: {Organization.Kind.CENTER},
        Role.SUPERVISOR: {Organization.Kind.REGULATOR, Organization.Kind.CENTER},
        Role.AGENT: {Organization.Kind.AGENT, Organization.Kind.OWNER},
        Role.SUPPLIER: {Organization.Kind.SUPPLIER},
        Role.EXPERT: set(Organization.Kind.values),
    }
    expected_kinds = kinds_by_role[Role(role)]
    if (organization is None and role != Role.EXPERT) or (
        organization is not None and organization.kind not in expected_kinds
    ):
        raise DomainError(
            _("角色“%(role)s”不能属于该类型的机构。"),
            code="ROLE_ORG_MISMATCH",
            role=Role(role).label,
        )
    unknown = set(org_roles) - set(OrgRole.values)
    if unknown:
        raise DomainError(
            _("未知的机构内角色：%(roles)s"), code="INVALID_ORG_ROLE", roles=", ".join(unknown)
        )
    username = check_username(username)
    user = User(
        username=username,
        organization=organization,
        display_name=display_name,
        email=email,
        phone=phone,
        # Center staff reach the Django admin; what they may do there is still their role's perms.
        is_staff=(role == Role.CENTER_STAFF),
        email_verified_at=timezone.now() if email_verified else None,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    if organization is not None:
        user.groups.add(organization.members_group)
    granted = sorted(set(org_roles)) if role in ORGANIZATION_PARTY_ROLES else []
    OrgRoleGrant.objects.bulk_create([OrgRoleGrant(user=user, role=r) for r in granted])
    record(
        actor,
        "accounts.user.created",
        user,
        {
            "username": username,
            "role": role,
            "organization": organization.pk if organization else None,
            "org_roles": granted,
        },
    )
    return user


def set_user_active(actor: Actor, user: User, *, active: bool) -> User:
    require_perm(actor, "accounts.change_user", user)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        user.refresh_from_db(fields=["is_active"])
        ended = 0 if active else end_all_sessions(user)
        record(
            actor,
            "accounts.user.activated" if active else "accounts.user.deactivated",
            user,
            {"sessions_ended": ended} if ended else {},
        )
    return user
