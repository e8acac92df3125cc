"""WebSocket routes of every app, gathered in one place (each app owns its consumers)."""

from django.urls import path

from bidding.auction.consumers import AuctionConsumer
from clock.consumers import ServerClockConsumer

websocket_urlpatterns = [
    path("ws/clock/", ServerClockConsumer.as_asgi()),
    # Any run of digits reaches the consumer, which closes the socket with 4404 for an id no
    # auction can have (one the database cannot even hold included), as for one it cannot see.
    path("ws/auctions/<int:auction_id>/", AuctionConsumer.as_asgi()),
]
