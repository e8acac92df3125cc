"""The server-time socket every countdown on the platform is drawn from (`/ws/clock/`).

Driven through the real ASGI application (origin check, cookies, session, routing), as a browser
would reach it through daphne.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import translation

from asgi import application
from clock.consumers import ServerClockConsumer

pytestmark = pytest.mark.django_db(transaction=True)

SITE_ORIGIN = (b"origin", b"http://127.0.0.1:8000")
# A countdown that is off by more than this would be visibly wrong next to the official clock.
CLOSE_TO_NOW_MS = 5_000


def now_ms() -> int:
    return int(time.time() * 1000)


def strict_json(text: str) -> Any:
    """Parse like a browser's JSON.parse: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> Any:
        raise AssertionError(f"server sent {constant}, which JSON.parse rejects")

    return json.loads(text, parse_constant=refuse)


async def receive(communicator: WebsocketCommunicator) -> Any:
    text = await communicator.receive_from()
    assert isinstance(text, str), "the server answers in text frames only"
    return strict_json(text)


async def open_socket(*extra_headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ws/clock/", headers=[SITE_ORIGIN, *extra_headers]
    )
    connected, _ = await communicator.connect()
    assert connected
    greeting = await receive(communicator)
    assert greeting["type"] == "clock"
    return communicator


async def assert_still_answers_pings(communicator: WebsocketCommunicator) -> None:
    await communicator.send_json_to({"type": "ping", "t0": 1})
    answer = await receive(communicator)
    assert answer["type"] == "clock"
    assert answer["t0"] == 1


async def test_it_sends_the_server_time_on_connect():
    communicator = WebsocketCommunicator(application, "/ws/clock/", headers=[SITE_ORIGIN])
    before = now_ms()
    connected, _ = await communicator.connect()
    assert connected

    greeting = await receive(communicator)
    assert set(greeting) == {"type", "server_time"}
    assert greeting["type"] == "clock"
    # Integer milliseconds since the epoch, the unit JavaScript's Date.now() uses.
    assert isinstance(greeting["server_time"], int)
    assert before - CLOSE_TO_NOW_MS <= greeting["server_time"] <= now_ms() + CLOSE_TO_NOW_MS
    await communicator.disconnect()


@pytest.mark.parametrize("t0", [123, 1_767_225_600_000, 12.5])
async def test_it_answers_a_ping_with_its_t0_and_the_server_time(t0: float):
    communicator = await open_socket()
    await communicator.send_json_to({"type": "ping", "t0": t0})

    answer = await receive(communicator)
    # t0 comes back unchanged so the client can measure the round trip for its offset.
    assert answer == {"type": "clock", "t0": t0, "server_time": answer["server_time"]}
    assert isinstance(answer["server_time"], int)
    assert abs(answer["server_time"] - now_ms()) < CLOSE_TO_NOW_MS
    await communicator.disconnect()


# Each hostile or broken frame gets an error frame, and the connection survives it: one bad message
# (a browser extension, a buggy client build) must not cut a bidder off the official clock.
BAD_FRAMES = [
    pytest.param({"text": "{not json"}, "BAD_JSON", id="malformed-json"),
    pytest.param({"text": ""}, "BAD_JSON", id="empty-text"),
    pytest.param({"text": "[1, 2, 3]"}, "BAD_FRAME", id="array"),
    pytest.param({"text": '"ping"'}, "BAD_FRAME", id="string"),
    pytest.param({"text": "null"}, "BAD_FRAME", id="null"),
    pytest.param({"bytes": b'{"type": "ping", "t0": 1}'}, "BAD_FRAME", id="binary"),
    pytest.param(
        {"text": json.dumps({"type": "ping", "t0": 1, "pad": "x" * 9000})},
        "FRAME_TOO_LARGE",
        id="oversized",
    ),
    pytest.param({"text": "[" * 4000 + "]" * 4000}, "BAD_JSON", id="deeply-nested"),
    pytest.param({"text": '{"type": "subscribe"}'}, "UNKNOWN_TYPE", id="unknown-type"),
    pytest.param({"text": '{"t0": 1}'}, "UNKNOWN_TYPE", id="no-type"),
    pytest.param({"text": '{"type": "ping"}'}, "BAD_FRAME", id="ping-without-t0"),
    pytest.param({"text": '{"type": "ping", "t0": "123"}'}, "BAD_FRAME", id="t0-string"),
    pytest.param({"text": '{"type": "ping", "t0": true}'}, "BAD_FRAME", id="t0-boolean"),
    pytest.param({"text": '{"type": "ping", "t0": null}'}, "BAD_FRAME", id="t0-null"),
    # Python's json accepts these, but echoing them back would send a frame no browser can parse.
    pytest.param({"text": '{"type": "ping", "t0": NaN}'}, "BAD_FRAME", id="t0-nan"),
    pytest.param({"text": '{"type": "ping", "t0": Infinity}'}, "BAD_FRAME", id="t0-infinity"),
    pytest.param({"text": '{"type": "ping", "t0": 1e999}'}, "BAD_FRAME", id="t0-overflow"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_it_answers_a_bad_frame_with_an_error_and_stays_open(
    frame: dict[str, Any], code: str
):
    communicator = await open_socket()
    await communicator.send_input({"type": "websocket.receive", **frame})

    error = await receive(communicator)
    assert set(error) == {"type", "code", "message"}
    assert error["type"] == "error"
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]

    await assert_still_answers_pings(communicator)
    await communicator.disconnect()


async def test_it_writes_error_messages_in_chinese_by_default():
    communicator = await open_socket()
    await communicator.send_to(text_data="{not json")
    assert (await receive(communicator))["message"] == "消息不是有效的 JSON。"
    await communicator.disconnect()


async def test_it_refuses_a_page_from_another_site():
    # Another site's page must not open the socket with the visitor's cookies.
    communicator = WebsocketCommunicator(
        application, "/ws/clock/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert connected is False


async def test_it_answers_in_the_language_chosen_on_the_site():
    mo_file = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.mo"
    if not mo_file.exists():
        pytest.skip("locale/en/LC_MESSAGES/django.mo is not compiled (run compilemessages)")
    with translation.override("en"):
        english = translation.gettext("消息不是有效的 JSON。")
    if english == "消息不是有效的 JSON。":
        pytest.skip("the English catalog has no translation for this message yet")

    communicator = await open_socket((b"cookie", b"django_language=en"))
    await communicator.send_to(text_data="{not json")
    assert (await receive(communicator))["message"] == english
    await assert_still_answers_pings(communicator)
    await communicator.disconnect()


async def test_an_anonymous_clock_socket_joins_no_user_group():
    # Every page opens it; only a signed-in user's socket carries that user's news (the unread badge).
    assert get_channel_layer(ServerClockConsumer.channel_layer_alias) is not None
    communicator = await open_socket()
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send("notices.user.1", {"type": "notices.unread", "count": 3})
    assert await communicator.receive_nothing(timeout=0.2)
    await assert_still_answers_pings(communicator)
    await communicator.disconnect()
