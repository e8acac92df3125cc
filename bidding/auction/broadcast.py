"""Getting committed room events to every socket, in every process.

The engine returns the events it decided (`decide.decide_bids`, `lifecycle.transition`); whoever owns
the transaction hands them on once it has committed. The room hub's own writers (`hub.BidWriter`, a
room's timer) give them to their hub directly. Every other writer — the HTTP API, the clock, the land
listing's services, tests — calls `after_commit(events)`: after the commit the events go to this
process's hub when it serves sockets (`set_local_hub`) and, with `REDIS_URL` set, once to Redis for
every other process (the hub relays them; a process without a hub — `run_clock`, a management command
— publishes to Redis itself). Events carry their sequence numbers, so a receiver puts them in order
and fills gaps itself.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import uuid
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


def _new_origin() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


# Identifies this process's messages on the shared Redis channel (so a hub ignores its own echo).
ORIGIN = _new_origin()

# A room event as it is stored and sent: {"type", "seq", "at", …} (docs/realtime-protocol.md).
Event = dict[str, Any]
# What one transaction committed: auction id → its events, in sequence order.
RoomEvents = dict[int, list[Event]]

# The process's room hub and its event loop, when this process serves sockets: where events committed
# on any of its threads (the API's, the clock's) are delivered. Set by the hub, one per process.
_local: dict[str, Any] = {"hub": None, "loop": None}
_redis_client: redis.Redis | None = None


def _after_fork_in_child() -> None:
    """A forked server process is another process: it needs its own origin, or every hub forked
    from one parent would take the others' events for its own echo and drop them (found with the
    two-process test, whose daphne children are forked), and its own Redis connection."""
    global ORIGIN, _redis_client
    ORIGIN = _new_origin()
    _redis_client = None


os.register_at_fork(after_in_child=_after_fork_in_child)


def channel_name() -> str:
    # Unless set, named after the database, so two deployments (or two test runs) sharing a Redis never
    # mix rooms. Read here, not in the settings: the test runner renames the database after they load.
    database = settings.DATABASES["default"]["NAME"]
    return settings.AUCTION_REDIS_CHANNEL or f"bidhall:{database}:auction-events"


def encode(auction_id: int, events: list[Event]) -> str:
    return json.dumps(
        {"origin": ORIGIN, "auction": auction_id, "events": events}, ensure_ascii=False
    )


def set_local_hub(hub: Any, loop: Any) -> None:
    _local["hub"], _local["loop"] = hub, loop


def clear_local_hub(hub: Any) -> None:
    """Forget `hub` (closing) unless another hub has taken its place meanwhile."""
    if _local["hub"] is hub:
        set_local_hub(None, None)


def after_commit(events: RoomEvents) -> None:
    """Publish what the engine returned once the caller's transaction commits (at once when none is
    open; never, when it rolls back)."""
    committed = {auction_id: list(events) for auction_id, events in events.items() if events}
    if committed:
        transaction.on_commit(lambda: publish_all(committed))


def publish_all(events: RoomEvents) -> None:
    for auction_id, these in events.items():
        publish(auction_id, these)


def publish(auction_id: int, events: list[Event]) -> None:
    """Called after commit from any thread."""
    hub, loop = _local["hub"], _local["loop"]
    if hub is not None and loop is not None and loop.is_running():
        # In a fresh context: the caller's (a sync thread under `sync_to_async`) would follow the
        # events into the room's timers, and asgiref refuses a database call from a task that looks
        # like it runs inside that thread ("would deadlock"): the next transition would then wait.
        loop.call_soon_threadsafe(hub.publish, auction_id, events, context=contextvars.Context())
        return
    if settings.REDIS_URL:
        _publish_to_redis_sync(auction_id, events)


def _publish_to_redis_sync(auction_id: int, events: list[Event]) -> None:
    global _redis_client
    try:
        if _redis_client is None:
            _redis_client = redis.Redis.from_url(settings.REDIS_URL)
        _redis_client.publish(channel_name(), encode(auction_id, events))
    except Exception:
        # The events are committed; rooms find the gap on their next event or timer and read them back.
        log.exception("could not publish auction %s events to Redis", auction_id)
