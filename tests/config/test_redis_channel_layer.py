"""With REDIS_URL set, a socket that receives nothing from the channel layer must stay open.

Every Channels consumer waits on the layer for its own channel. channels_redis waits with a 5-second
BZPOPMIN; redis-py 8 also gives every socket read a 5-second timeout by default, so an idle receive
raised redis's TimeoutError and the consumer (with its WebSocket) died, about one socket per process
every 5 seconds. Found by bench/auction_fanout.py --servers 2 (docs/performance.md).
"""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (set REDIS_URL)")


async def test_an_idle_receive_outlasts_the_blocking_pop():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    # Nothing is sent: the only acceptable outcome is our own timeout, after two BZPOPMIN rounds.
    with pytest.raises(asyncio.TimeoutError) as raised:
        await asyncio.wait_for(layer.receive(channel), 11)
    assert type(raised.value) is asyncio.TimeoutError
