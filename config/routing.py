"""WebSocket routes of every app, gathered in one place (each app owns its consumers)."""

from django.urls import path

from bidding.auction.consumers import AuctionConsumer
from clock.consumers import ServerClockConsumer

websocket_urlpatterns = [
    path("ws/clock/", ServerClockConsumer.as_asgi()),
    path("ws/auctions/<int:auction_id>/", AuctionConsumer.as_asgi()),
]
