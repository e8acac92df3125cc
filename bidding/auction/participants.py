"""Who takes part in an auction: who may, the seats, and the aliases the room shows."""

from __future__ import annotations

import datetime as dt

from accounts.models import Organization
from accounts.services import ensure_may_trade
from bidding.models import Auction, AuctionParticipant
from deposits.services import qualification
from lib.errors import DomainError
from trading.models import Lot, Registration


def alias(index: int) -> str:
    """竞价人A … 竞价人Z, 竞价人AA …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"竞价人{letters}"


def eligibility(lot: Lot, organization: Organization, now: dt.datetime) -> str | None:
    """None if `organization` may bid on `lot` now: registered, deposit qualified, not barred; else the
    reason code."""
    if not Registration.objects.filter(lot=lot, organization=organization).exists():
        return "NOT_REGISTERED"
    if not qualification(lot, organization).qualified:
        return "DEPOSIT_NOT_QUALIFIED"
    try:
        ensure_may_trade(organization, now)
    except DomainError:
        return "BARRED"
    return None


def seats_of(auction: Auction) -> list[AuctionParticipant]:
    """The admitted seats (those with an alias), in alias order."""
    return list(auction.participants.exclude(alias="").order_by("alias"))
