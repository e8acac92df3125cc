"""The clock step of a second round: open its sealed quotes at the close. Idempotent."""

from __future__ import annotations

from accounts.actors import Actor
from clock.registry import step
from frameworks import services
from frameworks.models import CallOff


@step(services.OPEN_SECOND_ROUND_STEP)
def open_second_round_at_close(object_id: str) -> None:
    call_off = CallOff.objects.filter(pk=int(object_id)).first()
    if call_off is not None:
        services.open_second_round(Actor.system("clock"), call_off)
