"""What trading tells the apps above it, and the one fact it asks of them.

Trading sits below deposits and bidding in the dependency order (docs/architecture.md, "Dependency
order"), so it never imports them:

- `project_terminated` is sent inside the termination's transaction (keyword arguments `actor`,
  `project`, `at`); deposits refunds every deposit (条例 Art.31) from a receiver connected in
  `DepositsConfig.ready`. A receiver's error rolls the termination back, as a direct call would.
- `project_resumed`: see below.
- which lots failed at their opening (流标), and why, is bidding's to say: `BiddingConfig.ready` registers its
  answer (`FailedLots`), and the re-tender reads it through `failed_lots()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.dispatch import Signal

if TYPE_CHECKING:
    from trading.models import Lot

project_terminated = Signal()
# Sent when a project stops standing still (an objection answered, a suspension lifted), inside that
# transaction, with `actor`, `project`, `since` (when it stopped) and `paused` (for how long): bidding
# gives its running periods (the candidate publicity, the contract's deadline) the time back.
project_resumed = Signal()


class FailedLots(Protocol):
    def condition(self) -> Q:
        """A filter on `Lot` matching the lots whose opening failed."""
        ...

    def reason(self, lot: Lot) -> str | None:
        """Why the lot's opening failed; None when it has not failed."""
        ...


_failed_lots: FailedLots | None = None


def register_failed_lots(answer: FailedLots) -> None:
    global _failed_lots
    _failed_lots = answer


def failed_lots() -> FailedLots:
    if _failed_lots is None:
        raise ImproperlyConfigured("bidding registers which lots failed (BiddingConfig.ready)")
    return _failed_lots
