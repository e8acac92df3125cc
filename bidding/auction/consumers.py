"""`/ws/auctions/<id>/`: the bid room. Thin: parse the frame, hand bids to the process's writer, reply.

The protocol is documented in docs/realtime-protocol.md. Who sees what is `services.viewer_kind`;
events reach the socket from the room hub (`hub.py`), written straight to this socket's ASGI send.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.sessions import session_alive
from bidding.auction import services
from bidding.auction.hub import frame_text, get_hub
from lib.edge import MAX_ID
from lib.errors import DomainError
from lib.realtime import error_frame, parse_frame, scope_language


class AuctionConsumer(AsyncWebsocketConsumer):
    # Rooms get their events from the process's hub, never from the channel layer: without this,
    # every socket would also hold a layer channel and a pending layer receive (with Redis, a share of
    # channels-redis's blocking reads) for messages that never come.
    channel_layer_alias = None
    seat = None
    # How often a bidding socket checks that its login session still exists: a session ended from
    # 我的登录会话 (or by disabling the user) must stop the sockets it opened, within seconds.
    SESSION_CHECK_SECONDS = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answering: set[asyncio.Future] = set()

    async def connect(self) -> None:
        self.auction_id = int(self.scope["url_route"]["kwargs"]["auction_id"])
        self.language = scope_language(self.scope)
        if self.auction_id > MAX_ID:  # no row can have it, and the database could not compare it
            await self.close(code=4404)
            return
        try:
            self.actor, self.kind = await database_sync_to_async(self._who)()
        except DomainError:
            await self.close(code=4404)
            return
        await self.accept()
        session = self.scope.get("session")
        self.session_key: str | None = getattr(session, "session_key", None)
        self.session_checked = time.monotonic()
        self.bid_times: list[float] = []
        self.seat = await get_hub().join(
            self.auction_id,
            self.base_send,
            identified=self.kind == "supervisor",
            state_reader=self._state,
            # A bidder's state carries its own seat; everyone else's is the same for their kind.
            shared_view=None if self.kind == "bidder" else self.kind,
        )

    def _who(self) -> tuple[Actor, str]:
        actor = Actor.from_scope(self.scope)
        auction = services.get_auction_to_view(self.auction_id)
        return actor, services.require_viewer(actor, auction)

    async def _state(self) -> dict[str, Any]:
        return await database_sync_to_async(services.room_state)(self.actor, self.auction_id)

    async def disconnect(self, code: int) -> None:
        if self.seat is not None:
            get_hub().leave(self.auction_id, self.seat)
        # Bids already handed to the writer are decided anyway; only their answers have nowhere to go.
        for task in list(self.answering):
            task.cancel()

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=frame_text(frame))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        with translation.override(self.language):
            frame, error = parse_frame(text_data, bytes_data)
            if error:
                await self.send_frame(error)
                return
            kind = frame.get("type")
            if kind == "ping":
                await self._ping(frame)
            elif kind == "sync":
                await self.send_frame(await self._state())
            elif kind == "bid":
                await self._bid(frame)
            else:
                await self.send_frame(error_frame("UNKNOWN_TYPE", _("未知的消息类型。")))

    async def _ping(self, frame: dict[str, Any]) -> None:
        t0 = frame.get("t0")
        if (
            not isinstance(t0, int | float)
            or isinstance(t0, bool)
            or (isinstance(t0, float) and not math.isfinite(t0))
        ):
            await self.send_frame(error_frame("BAD_FRAME", _("ping 需要数值字段 t0。")))
            return
        await self.send_frame({"type": "clock", "t0": t0, "server_time": int(time.time() * 1000)})

    async def _bid(self, frame: dict[str, Any]) -> None:
        if self.kind != "bidder":
            await self.send_frame(error_frame("FORBIDDEN", _("只有竞价人可以出价。")))
            return
        key, price = frame.get("key"), frame.get("price")
        if not isinstance(key, str) or not 0 < len(key) <= services.MAX_KEY_LENGTH:
            await self.send_frame(error_frame("BAD_KEY", _("需要 1–64 个字符的幂等键。")))
            return
        if not isinstance(price, str):
            await self.send_frame(
                {
                    "type": "reject",
                    "key": key,
                    "code": "BAD_PRICE",
                    "message": _('报价必须以字符串传送，例如 "1234.50"。'),
                }
            )
            return
        now = time.monotonic()
        if not await self._session_still_open(now):
            await self.send_frame(
                error_frame("SESSION_ENDED", _("您的登录会话已结束，请重新登录。"))
            )
            await self.close(code=4401)
            return
        self.bid_times = [t for t in self.bid_times if now - t < 1.0]
        # A script gone wrong must not flood the engine: over the limit, refused without reaching it.
        if len(self.bid_times) >= settings.AUCTION_BIDS_PER_SECOND:
            await self.send_frame(services.BidAnswer(key, False, "RATE_LIMITED").frame())
            return
        self.bid_times.append(now)
        # The answer comes when the bid's batch commits; meanwhile this socket keeps reading frames
        # (pings, further bids), so a bidder's bids are not queued one behind the other.
        request = services.BidRequest(self.actor, self.auction_id, key, price)
        task = asyncio.ensure_future(self._answer(request))
        self.answering.add(task)
        task.add_done_callback(self.answering.discard)

    async def _session_still_open(self, now: float) -> bool:
        if self.session_key is None or now - self.session_checked < self.SESSION_CHECK_SECONDS:
            return True
        self.session_checked = now
        return bool(await database_sync_to_async(session_alive)(self.session_key))

    async def _answer(self, request: services.BidRequest) -> None:
        answer = await get_hub().writer.submit(request)
        with translation.override(self.language):
            await self.send_frame(answer.frame())
