"""WebSocket routes of every app, gathered in one place (each app owns its consumers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.urls import URLPattern
from django.urls.resolvers import RoutePattern

from bidding.auction.consumers import AuctionConsumer
from clock.consumers import ServerClockConsumer


def websocket_path(route: str, consumer: Callable[..., Awaitable[None]]) -> URLPattern:
    """`django.urls.path(route, consumer)`, built as path() builds it: Channels routes with Django's
    URL patterns, but django-stubs' path() types its view as an HTTP view, not an ASGI application."""
    return URLPattern(RoutePattern(route, is_endpoint=True), consumer)


websocket_urlpatterns: list[URLPattern] = [
    websocket_path("ws/clock/", ServerClockConsumer.as_asgi()),
    # Any run of digits reaches the consumer, which closes the socket with 4404 for an id no
    # auction can have (one the database cannot even hold included), as for one it cannot see.
    websocket_path("ws/auctions/<int:auction_id>/", AuctionConsumer.as_asgi()),
]
