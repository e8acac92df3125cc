"""Server time for countdowns: clients ping, the server answers with its clock.

The client measures the round trip and keeps `offset = server_time - (t0 + rtt / 2)`; every countdown on
the platform is drawn from local time + offset, so a wrong phone clock cannot show a wrong deadline.

Every page opens this socket, so it also carries a signed-in user's own live news: apps above the clock
register a `UserChannel` (notifications: the unread count, `notifications.live`), the socket of a signed-in
user joins each channel's group for that user and sends its greeting frame first, and forwards the group's
messages (`notices.unread` → `{"type": "unread", "count": n}`; docs/realtime-protocol.md). An anonymous
socket joins nothing and answers clock pings only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from lib.realtime import error_frame, parse_frame, scope_language


@dataclass(frozen=True)
class UserChannel:
    """Per-user news an app above the clock sends over this socket: the group a user's sockets join,
    and the frame a fresh socket gets first (None: nothing)."""

    group: Callable[[int], str]
    greeting: Callable[[int], dict[str, Any] | None]


_USER_CHANNELS: dict[str, UserChannel] = {}


def register_user_channel(name: str, channel: UserChannel) -> None:
    _USER_CHANNELS[name] = channel


class ServerClockConsumer(JsonWebsocketConsumer):
    # The default channel layer: a signed-in user's socket joins its user groups (an anonymous one
    # joins none and only answers pings).

    def connect(self) -> None:
        self.accept()
        self.send_json({"type": "clock", "server_time": int(time.time() * 1000)})
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or self.channel_layer is None:
            return
        self.user_groups = [channel.group(user.pk) for channel in _USER_CHANNELS.values()]
        for group in self.user_groups:
            async_to_sync(self.channel_layer.group_add)(group, self.channel_name)
        for channel in _USER_CHANNELS.values():
            frame = channel.greeting(user.pk)
            if frame is not None:
                self.send_json(frame)

    def disconnect(self, code: int) -> None:
        for group in getattr(self, "user_groups", []):
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def notices_unread(self, event: dict[str, Any]) -> None:
        """notifications.live.push_unread: the user's unread count changed."""
        count = event.get("count")
        if isinstance(count, int) and not isinstance(count, bool):
            self.send_json({"type": "unread", "count": count})

    def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        with translation.override(scope_language(self.scope)):
            self._receive(text_data, bytes_data)

    def _receive(self, text_data: str | None, bytes_data: bytes | None) -> None:
        frame, error = parse_frame(text_data, bytes_data)
        if error:
            self.send_json(error)
            return
        if frame.get("type") != "ping":
            self.send_json(error_frame("UNKNOWN_TYPE", _("未知的消息类型。")))
            return
        t0 = frame.get("t0")
        # Python's json reads NaN, Infinity and 1e999, but echoing them would send a frame that
        # JSON.parse rejects, breaking the client's clock sync; they are not numbers in JSON either.
        if (
            not isinstance(t0, int | float)
            or isinstance(t0, bool)
            or (isinstance(t0, float) and not math.isfinite(t0))
        ):
            self.send_json(error_frame("BAD_FRAME", _("ping 需要数值字段 t0。")))
            return
        self.send_json({"type": "clock", "t0": t0, "server_time": int(time.time() * 1000)})
