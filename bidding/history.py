"""What an organization won before: the facts `audit.detectors.rotation` is handed by its callers
(an award in `bidding.evaluation`, a land deal in `bidding.land.services`)."""

from __future__ import annotations

from bidding.models import Auction, LandListing, Publicity


def past_wins(winner: int) -> list[tuple[int, set[int]]]:
    """(project, losers) of every earlier trade this organization won: the candidates of each award,
    and the listing bidders of each land deal (`bidding.land.services.bidders_of`)."""
    wins = []
    for publicity in Publicity.objects.filter(winner_id=winner).select_related("lot"):
        losers = {c["organization"] for c in publicity.candidates} - {winner}
        wins.append((publicity.lot.project_id, losers))
    for listing in LandListing.objects.filter(winner_id=winner).select_related("lot"):
        auction = Auction.objects.filter(lot_id=listing.lot_id, phase=Auction.Phase.LISTING).first()
        bidders = (
            set(
                auction.participants.exclude(alias="")
                .filter(price__isnull=False)
                .values_list("organization_id", flat=True)
            )
            if auction is not None
            else set()
        )
        wins.append((listing.lot.project_id, bidders - {winner}))
    return wins
