"""Helpers shared by every WebSocket consumer: parse a frame defensively, build error frames.

A frame that carries an unsafe character anywhere (NUL, a lone UTF-16 surrogate, another C0 control;
`lib.text`) is refused here, before any consumer looks at it: such a string cannot be stored (PostgreSQL
refuses NUL in text and JSON), so letting it reach a shared transaction — the bid writer's batch — would
fail that transaction for every other party in it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from lib.text import describe, first_unsafe

MAX_FRAME_BYTES = 8 * 1024


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": str(message)}


def scope_language(scope: Mapping[str, Any]) -> str:
    """The language a WebSocket client chose on the site (the language cookie), else the default."""
    from django.conf import settings

    cookies = scope.get("cookies") or {}
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def parse_frame(
    text_data: str | None, bytes_data: bytes | None
) -> tuple[dict[str, Any], dict | None]:
    """Return (frame, None) or ({}, error_frame). Never raises on hostile input."""
    if bytes_data is not None or text_data is None:
        return {}, error_frame("BAD_FRAME", _("只接受 JSON 文本消息。"))
    if len(text_data.encode()) > MAX_FRAME_BYTES:
        return {}, error_frame("FRAME_TOO_LARGE", _("消息过大。"))
    try:
        frame = json.loads(text_data)
    except (ValueError, RecursionError):
        return {}, error_frame("BAD_JSON", _("消息不是有效的 JSON。"))
    if not isinstance(frame, dict):
        return {}, error_frame("BAD_FRAME", _("消息必须是 JSON 对象。"))
    unsafe = first_unsafe(frame)
    if unsafe is not None:
        path, char = unsafe
        return {}, error_frame(
            "TEXT_INVALID_CHAR",
            _("消息含有不允许的控制字符或无效字符 %(char)s（%(path)s）。")
            % {"char": describe(char), "path": path},
        )
    return frame, None
