"""Clock steps of the opening. Both are idempotent and re-check time and state themselves."""

from __future__ import annotations

from accounts.actors import Actor
from bidding import negotiation, services
from clock.registry import step
from lib.errors import Conflict
from trading.models import Lot


@step("bidding.open_lot")
def open_lot_at_deadline(object_id: str) -> None:
    lot = Lot.objects.select_related("project").filter(pk=int(object_id)).first()
    if lot is None:
        return
    try:
        services.open_lot(Actor.system("clock"), lot)
    except Conflict:
        return  # terminated, or suspended by an objection: nothing to open now


@step("bidding.finish_opening")
def finish_opening_at_window_end(object_id: str) -> None:
    lot = Lot.objects.select_related("project").filter(pk=int(object_id)).first()
    if lot is not None and hasattr(lot, "opening"):
        services.finish_opening(Actor.system("clock"), lot)


@step(negotiation.OPEN_FINAL_QUOTES_STEP)
def open_final_quotes_at_their_end(object_id: str) -> None:
    lot = Lot.objects.select_related("project").filter(pk=int(object_id)).first()
    if lot is not None and hasattr(lot, "final_quote_call"):
        negotiation.open_final_quotes(Actor.system("clock"), lot)


# Live auctions keep their clock steps next to their engine.
import bidding.auction.tasks  # noqa: E402
import bidding.land.tasks  # noqa: E402,F401
