"""Text that comes from outside: what may enter at all, and how much of it is kept.

Two characters classes break the platform rather than merely look odd: NUL (PostgreSQL refuses it in
`text` columns and in query parameters, so the request dies with a 500 mid-transaction) and lone UTF-16
surrogates (JSON may carry `"\\ud800"`, which no database encoding can store). Other C0 control
characters have no business in a name, a search box or a bid either. They are refused once, at the
edge, for every entry point: HTTP query strings, form fields and JSON bodies (`lib.edge`), and socket
frames (`lib.realtime.parse_frame`). Services may call `check_text` again for values that arrive by
other paths (files, commands).

Untrusted text kept in append-only records (the audit chain) is bounded: `bounded` keeps an excerpt,
the full length and a SHA-256 of the whole, so the record proves what was sent without storing a
megabyte of it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from lib.errors import DomainError

# NUL and the other C0 controls except tab, LF and CR; every UTF-16 surrogate code point (a Python str
# can only hold one when it was decoded from a lone "\ud800" escape or with `surrogateescape`).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")

# Excerpt kept of an untrusted string in an append-only record.
EXCERPT_CHARS = 200


class TextError(DomainError):
    code = "TEXT_INVALID"


def unsafe_char(text: str) -> str | None:
    """The first character of `text` that no entry point accepts, or None."""
    found = _UNSAFE.search(text)
    return found.group() if found else None


def describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_text(value: Any, *, field: str | None = None, max_length: int | None = None) -> str:
    """`value` if it is a string free of unsafe characters and not longer than `max_length`."""
    where = str(_("（%(field)s）")) % {"field": field} if field else ""
    if not isinstance(value, str):
        raise TextError(_("须为文本%(where)s。"), code="TEXT_NOT_STRING", where=where)
    if max_length is not None and len(value) > max_length:
        raise TextError(
            _("文本过长%(where)s：最多 %(limit)s 个字符。"),
            code="TEXT_TOO_LONG",
            where=where,
            limit=max_length,
        )
    char = unsafe_char(value)
    if char is not None:
        raise TextError(
            _("文本含有不允许的控制字符或无效字符 %(char)s%(where)s。"),
            code="TEXT_INVALID_CHAR",
            where=where,
            char=describe(char),
        )
    return value


def first_unsafe(data: Any, path: str = "") -> tuple[str, str] | None:
    """(path, character) of the first unsafe character in a parsed JSON value (keys included)."""
    if isinstance(data, str):
        char = unsafe_char(data)
        return (path or "$", char) if char is not None else None
    if isinstance(data, dict):
        for key, value in data.items():
            shown = _UNSAFE.sub("\ufffd", str(key)[:EXCERPT_CHARS])
            here = f"{path}.{shown}" if path else shown
            if isinstance(key, str) and (char := unsafe_char(key)) is not None:
                return (here, char)
            found = first_unsafe(value, here)
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = first_unsafe(value, f"{path}[{index}]")
            if found:
                return found
    return None


def sha256_of(text: str) -> str:
    # surrogatepass: a hash must exist even for text that would never be stored whole.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def bounded(value: Any, limit: int = EXCERPT_CHARS) -> Any:
    """What an append-only record keeps of an untrusted value.

    A short, clean string is kept as it is. A longer one, or one with unsafe characters, becomes
    {"excerpt", "length", "sha256"}: the excerpt has unsafe characters replaced by U+FFFD, so the
    record can always be stored and shown, and the hash still identifies exactly what was sent.
    Anything that is not a string is described by its JSON type only.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        # JSON integers have no size limit of their own; keep only one that fits a bigint.
        return value if -(2**63) <= value < 2**63 else {"type": "int", "bits": value.bit_length()}
    if not isinstance(value, str):
        return {"type": type(value).__name__}
    if len(value) <= limit and unsafe_char(value) is None:
        return value
    return {
        "excerpt": _UNSAFE.sub("\ufffd", value[:limit]),
        "length": len(value),
        "sha256": sha256_of(value),
    }


def clip(value: object, limit: int) -> str:
    """Short display text of any value: unsafe characters replaced by U+FFFD, cut at `limit` with "…".

    For text the platform writes about a record (a notice's parameters), where the record itself holds
    the full value; untrusted input kept in an append-only record uses `bounded` instead."""
    text = _UNSAFE.sub("\ufffd", "" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
