"""Getting committed room events to every socket, in every process.

A service registers `after_commit(auction_id, events)`; after the commit the events go to this process's
room hub (if it serves sockets) and, with `REDIS_URL` set, once to Redis for every other process
(the hub relays them; a process without a hub — `run_clock`, a management command — publishes to Redis
itself). Events carry their sequence numbers, so a receiver puts them in order and fills gaps itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


def _new_origin() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


# Identifies this process's messages on the shared Redis channel (so a hub ignores its own echo).
ORIGIN = _new_origin()

_local: dict[str, Any] = {"hub": None, "loop": None}
_redis_client = None
_held = threading.local()  # .events: this thread's committed events, held back (`held`)


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


def encode(auction_id: int, events: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"origin": ORIGIN, "auction": auction_id, "events": events}, ensure_ascii=False
    )


def set_local_hub(hub: Any, loop: Any) -> None:
    _local["hub"], _local["loop"] = hub, loop


def after_commit(auction_id: int, events: list[dict[str, Any]]) -> None:
    events = list(events)
    transaction.on_commit(lambda: publish(auction_id, events))


@contextlib.contextmanager
def held() -> Iterator[list[tuple[int, list[dict[str, Any]]]]]:
    """Keep what commits on this thread inside the block in the yielded list instead of publishing
    it; whoever holds it publishes it later (the bid writer: after it has answered the batch's
    bidders, `hub.BidWriter`). Still after commit: only committed events reach the list."""
    _held.events = events = []
    try:
        yield events
    finally:
        _held.events = None


def publish(auction_id: int, events: list[dict[str, Any]]) -> None:
    """Called after commit from any thread."""
    holding = getattr(_held, "events", None)
    if holding is not None:
        holding.append((auction_id, events))
        return
    hub, loop = _local["hub"], _local["loop"]
    if hub is not None and loop is not None and loop.is_running():
        # In a fresh context: the caller's (a sync thread under `sync_to_async`) would follow the
        # events into the room's timers, and asgiref refuses a database call from a task that looks
        # like it runs inside that thread ("would deadlock"): the next transition would then wait.
        loop.call_soon_threadsafe(hub.publish, auction_id, events, context=contextvars.Context())
        return
    if settings.REDIS_URL:
        _publish_to_redis_sync(auction_id, events)


def _publish_to_redis_sync(auction_id: int, events: list[dict[str, Any]]) -> None:
    global _redis_client
    try:
        import redis

        if _redis_client is None:
            _redis_client = redis.Redis.from_url(settings.REDIS_URL)
        _redis_client.publish(channel_name(), encode(auction_id, events))
    except Exception:
        # The events are committed; rooms find the gap on their next event or timer and read them back.
        log.exception("could not publish auction %s events to Redis", auction_id)
