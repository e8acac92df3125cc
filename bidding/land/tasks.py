"""Clock step of the land listing: end a window (confirmation, lottery acceptance, sealed offers) on
time. `services.advance` re-checks the time under the listing's lock, so a late or repeated run is safe."""

from __future__ import annotations

from accounts.actors import Actor
from bidding.land import services
from clock.registry import step


@step(services.ADVANCE_STEP)
def advance_listing(object_id: str) -> None:
    services.advance(Actor.system("clock"), int(object_id))
