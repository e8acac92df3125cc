"""Who bids from where: different bidders of one auction bidding from one IP address alert supervisors."""

from __future__ import annotations

from accounts.actors import Actor
from audit import detectors
from bidding.models import Auction, AuctionAddress, AuctionBid

# (auction, its creation time, ip, organization) tuples this process has already recorded: the steady
# state of a busy room (the same bidders from the same addresses) then costs nothing. Bounded; a
# cleared cache only means a tuple is recorded again (ignored as a duplicate).
_SEEN_ADDRESSES: set[tuple[int, str, str, int]] = set()
SEEN_LIMIT = 100_000


def shared_ip_signals(auctions: dict[int, Auction], new_bids: list[AuctionBid]) -> None:
    """Record the (address, organization) pairs new to each auction, and alert supervisors where an
    address is now shared by more than one organization. Only new pairs are looked at."""
    fresh = _fresh_addresses(auctions, new_bids)
    if not fresh:
        return
    AuctionAddress.objects.bulk_create(
        [AuctionAddress(auction_id=a, ip=ip, organization_id=o) for a, _at, ip, o in fresh],
        ignore_conflicts=True,
    )
    for auction_id, ip in {(a, ip) for a, _at, ip, _org in fresh}:
        organizations = set(
            AuctionAddress.objects.filter(auction_id=auction_id, ip=ip).values_list(
                "organization_id", flat=True
            )
        )
        if len(organizations) > 1:
            auction = auctions[auction_id]
            detectors.shared_ip(
                Actor.system("room"),
                project_id=auction.lot.project_id,
                lot_id=auction.lot_id,
                ip=ip,
                organizations=organizations,
                where="auction",
            )


def _fresh_addresses(
    auctions: dict[int, Auction], new_bids: list[AuctionBid]
) -> set[tuple[int, str, str, int]]:
    """The batch's (auction, its creation time, ip, organization) tuples this process has not
    recorded yet, now remembered. Keyed with the auction's creation time too: an id alone can come
    back (a test database reused)."""
    fresh = {
        (
            bid.auction_id,
            auctions[bid.auction_id].created_at.isoformat(),
            bid.ip,
            bid.participant.organization_id,
        )
        for bid in new_bids
        if bid.ip
    } - _SEEN_ADDRESSES
    if fresh:
        if len(_SEEN_ADDRESSES) > SEEN_LIMIT:
            _SEEN_ADDRESSES.clear()
        _SEEN_ADDRESSES.update(fresh)
    return fresh
