"""The project key as the expert draws use it: a seed is sealed to the project's public key until the
draw opens it (`experts.services._seal_seed`, `_open_seed`).

Bidding owns the project key (`bidding.models.ProjectKey`, `bidding.crypto`) and sits above experts in
the dependency order (docs/architecture.md), so it lends the key through `ProjectKeys`, registered in
`BiddingConfig.ready`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from trading.models import Project


class SealBroken(Exception):
    """A sealed seed that does not open under the project key."""


class ProjectKeys(Protocol):
    def seal(self, project: Project, data: bytes) -> bytes:
        """`data` sealed to the project's public key (the key is made if the project has none)."""
        ...

    def open(self, project_id: int, sealed: Any) -> bytes:
        """The plaintext of `sealed`; SealBroken (or TypeError for a missing value) if it does not
        open."""
        ...


_registered: ProjectKeys | None = None


def register(keys: ProjectKeys) -> None:
    global _registered
    _registered = keys


def project_keys() -> ProjectKeys:
    if _registered is None:
        raise ImproperlyConfigured("bidding lends the project key (BiddingConfig.ready)")
    return _registered
