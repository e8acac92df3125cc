"""Live auctions: the engine's service functions, for every caller that holds no room hub.

The engine is split by job; this module names its public functions in one place, so callers and tests
import `bidding.auction.services` whatever module a function lives in:

| job | module |
|---|---|
| setting an auction up (its rules; the land listing's phases) | `create.py` |
| who takes part (eligibility, seats, aliases) | `participants.py` |
| time: the start, the rounds, the close (`transition`, `advance_locked`, close hooks) | `lifecycle.py` |
| deciding a batch of bids (the case table, `decide_bids`) | `decide.py` |
| what one transaction produced and how it is written | `batch.py` |
| reading the room (views, the `state` frame, history) — reads never write | `state.py` |
| the result: ranking, the candidates' publicity | `results.py` |
| who bid from where (the shared-address signal) | `addresses.py` |

Every state change happens under the auction row's lock (`SELECT … FOR UPDATE`; SQLite's IMMEDIATE
transaction is the lock there), is judged against `timezone.now()` taken under that lock, and writes
its room events (`AuctionEvent`, numbered without gaps) and its audit events in the same transaction.
The engine returns the room events it decided; it publishes nothing. The room hub's writers (its bid
writer and its timers, `hub.py`) hand them to their hub themselves; the functions below, for everyone
else (the HTTP API, the clock, the land listing, tests), publish them once the caller's transaction
has committed (`broadcast.after_commit`).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.actors import Actor
from bidding.auction import broadcast
from bidding.auction.batch import Batch, iso
from bidding.auction.broadcast import Event
from bidding.auction.create import clean_amount, clean_int, create_auction, open_phase
from bidding.auction.decide import MAX_KEY_LENGTH, BidAnswer, BidRequest, decide_bids
from bidding.auction.lifecycle import CLOSE_STEP, ROUND_STEP, START_STEP, on_close, transition
from bidding.auction.participants import alias, eligibility
from bidding.auction.results import publish_result, results_of
from bidding.auction.state import (
    anonymize,
    anonymous_results,
    events_after,
    get_auction,
    get_auction_to_view,
    identified,
    require_viewer,
    reveals_at_close,
    room_state,
    timeline,
    viewer_kind,
)
from bidding.models import Auction
from lib.errors import DomainError
from lib.text import unsafe_char

__all__ = [
    "CLOSE_STEP",
    "MAX_KEY_LENGTH",
    "ROUND_STEP",
    "START_STEP",
    "Batch",
    "BidAnswer",
    "BidRequest",
    "advance",
    "alias",
    "anonymize",
    "anonymous_results",
    "clean_amount",
    "clean_int",
    "create_auction",
    "eligibility",
    "events_after",
    "get_auction",
    "get_auction_to_view",
    "identified",
    "iso",
    "on_close",
    "open_phase",
    "place_bid",
    "place_bids",
    "publish_result",
    "require_viewer",
    "results_of",
    "reveals_at_close",
    "room_state",
    "timeline",
    "viewer_kind",
]


def advance(actor: Actor, auction_id: int) -> list[Event]:
    """Start, move to the next round, or close the auction if it is due (the clock's steps call
    this; it is idempotent). Returns the auction's room events, published after commit."""
    events = transition(actor, auction_id)
    broadcast.after_commit(events)
    return events.get(auction_id, [])


def place_bids(requests: list[BidRequest]) -> list[BidAnswer]:
    """Decide a batch of bids (`decide.decide_bids`); answers in the same order. The room events
    are published after commit."""
    decided = decide_bids(requests)
    broadcast.after_commit(decided.events)
    return decided.answers


def place_bid(actor: Actor, auction: Auction, price: str, key: str) -> BidAnswer:
    """One bid (the HTTP API and tests); the room's writer batches them (`hub.BidWriter`)."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or unsafe_char(key):
        raise DomainError(_("需要 1–64 个字符的幂等键。"), code="BAD_KEY")
    if not isinstance(price, str):
        raise DomainError(_("报价必须以字符串传送。"), code="BAD_PRICE")
    return place_bids([BidRequest(actor, auction.pk, key, price)])[0]
