"""Server time for countdowns: clients ping, the server answers with its clock.

The client measures the round trip and keeps `offset = server_time - (t0 + rtt / 2)`; every countdown on
the platform is drawn from local time + offset, so a wrong phone clock cannot show a wrong deadline.
"""

from __future__ import annotations

import math
import time
from typing import Any

from channels.generic.websocket import JsonWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from lib.realtime import error_frame, parse_frame, scope_language


class ServerClockConsumer(JsonWebsocketConsumer):
    # Answers its own socket only: no channel-layer messages to wait for, so no layer at all (an alias
    # CHANNEL_LAYERS does not configure: get_channel_layer answers None for it).
    channel_layer_alias = "none"

    def connect(self) -> None:
        self.accept()
        self.send_json({"type": "clock", "server_time": int(time.time() * 1000)})

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
