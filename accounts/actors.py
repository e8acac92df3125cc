"""Who is acting: the user, the role they act in, their organization and the client address.

Every service takes an `Actor` first. It carries what the audit chain records about the caller, so the
services never reach for a request or a thread-local.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lib.addresses import client_ip, normalize_ip

if TYPE_CHECKING:
    from accounts.models import Organization, User

SYSTEM_ROLE = "system"
PUBLIC_ROLE = "public"


@dataclass(frozen=True)
class Actor:
    user: User | None
    role: str
    organization: Organization | None
    ip: str | None = None
    # For the system actor: which process acted ("clock", "bank"), recorded in the audit chain.
    process: str = ""

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.username
        return f"{self.role}:{self.process}" if self.process else self.role

    @property
    def acting_user(self) -> User:
        """The user behind an act only a person performs (the `entered_by` of a row): the permission
        check before it has refused the system and the public, so no user here is a bug."""
        if self.user is None:
            raise RuntimeError(f"{self.label} acts where only a signed-in user may")
        return self.user

    @classmethod
    def for_user(cls, user: User, ip: str | None = None) -> Actor:
        return cls(user=user, role=user.role or "", organization=user.organization, ip=ip)

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        ip = client_ip(request.META)
        if request.user.is_authenticated:
            return cls.for_user(request.user, ip)
        return cls(user=None, role=PUBLIC_ROLE, organization=None, ip=ip)

    @classmethod
    def from_scope(cls, scope: dict[str, Any]) -> Actor:
        client = scope.get("client") or (None, None)
        ip = normalize_ip(client[0]) if client[0] else None
        user = scope.get("user")
        if user is not None and user.is_authenticated:
            return cls.for_user(user, ip)
        return cls(user=None, role=PUBLIC_ROLE, organization=None, ip=ip)

    @classmethod
    def system(cls, process: str = "clock") -> Actor:
        """The platform itself (the clock, a bank callback): recorded under its process name."""
        return cls(user=None, role=SYSTEM_ROLE, organization=None, ip=None, process=process)
