"""WebSocket routes of every app, gathered in one place (each app owns its consumers)."""

from django.urls import path

from clock.consumers import ServerClockConsumer

websocket_urlpatterns = [
    path("ws/clock/", ServerClockConsumer.as_asgi()),
]
