"""Clock steps of a live auction: start it, begin each round (rounds format) and close it on time even
if nobody is watching.

Both call `services.advance`, which re-checks the server time under the auction's lock, so an early,
late or repeated run changes nothing it should not. A bid that finds a transition due runs it first,
under the same lock; reads never do.
"""

from __future__ import annotations

from accounts.actors import Actor
from bidding.auction import services
from clock.registry import step


@step(services.START_STEP)
def start_auction(object_id: str) -> None:
    services.advance(Actor.system("clock"), int(object_id))


@step(services.CLOSE_STEP)
def close_auction(object_id: str) -> None:
    services.advance(Actor.system("clock"), int(object_id))


@step(services.ROUND_STEP)
def begin_round(object_id: str) -> None:
    services.advance(Actor.system("clock"), int(object_id))
