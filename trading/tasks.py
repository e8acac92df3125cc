"""Clock steps of trading."""

from __future__ import annotations

from accounts.actors import Actor
from clock.registry import step
from trading import services
from trading.models import Suspension


@step(services.LIFT_SUSPENSION_STEP)
def lift_suspension_at_its_end(object_id: str) -> None:
    """A suspension lasts no longer than its order said (GP: ≤ 30 days, 政府采购法 Art.57)."""
    suspension = Suspension.objects.filter(pk=int(object_id)).first()
    if suspension is not None:
        services.lift_suspension(Actor.system("clock"), suspension, why="ends_by")
