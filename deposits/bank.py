"""How banks sign their messages to the platform.

A message is a JSON object. The bank signs its **canonical form** — keys sorted at every level, no
whitespace (separators "," and ":"), strings as UTF-8 (not \\u-escaped), numbers exactly as written —
with HMAC-SHA256 under the secret agreed with that bank, hex-encoded, in the `X-Bank-Signature`
header; the bank names itself in `X-Bank-Code`. So the same message sent again with its keys in
another order or other whitespace carries the same signature and is the same message (an idempotent
replay, `deposits.services`), while any change of content is another message. A body that is not one
JSON object, repeats a key, or holds text that is not valid Unicode has no canonical form and is
refused. The simulator (`deposits.bank_simulator`) signs the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from django.conf import settings

SIGNATURE_HEADER = "HTTP_X_BANK_SIGNATURE"
BANK_HEADER = "HTTP_X_BANK_CODE"


class MalformedMessage(ValueError):
    """The body has no canonical form: not one JSON object, a repeated key, or invalid text."""


class _Number(str):
    """A JSON number as the bank wrote it: canonicalization never re-formats a figure."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        # Parsers disagree on which of two equal keys wins; such a message means two things.
        raise MalformedMessage("a key is repeated")
    return dict(pairs)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, _Number):
        out.append(str.__str__(value))
    else:  # str, bool, None
        out.append(json.dumps(value, ensure_ascii=False))


def canonical_message(body: bytes) -> bytes:
    """The bytes a bank signs and the platform hashes for idempotency (see the module docstring)."""
    try:
        data = json.loads(
            body,
            object_pairs_hook=_unique_keys,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_refuse_constant,
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, MalformedMessage):
            raise
        raise MalformedMessage("not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedMessage("not a JSON object")
    out: list[str] = []
    _write(data, out)
    try:
        return "".join(out).encode()
    except UnicodeEncodeError as exc:  # a lone surrogate written as \\udxxx
        raise MalformedMessage("text that is not valid Unicode") from exc


def _refuse_constant(name: str) -> Decimal:
    raise MalformedMessage(f"{name} is not a JSON number")


def message_digest(body: bytes) -> str:
    """SHA-256 of the canonical form: equal for every serialization of one message."""
    return hashlib.sha256(canonical_message(body)).hexdigest()


def bank_secret(bank: str) -> bytes | None:
    secret = settings.DEPOSIT_BANK_SECRETS.get(bank)
    return secret.encode() if secret else None


def sign(secret: bytes, body: bytes) -> str:
    """The signature of the message `body` (any serialization of it): HMAC of its canonical form."""
    return hmac.new(secret, canonical_message(body), hashlib.sha256).hexdigest()


def signature_valid(bank: str, body: bytes, signature: str) -> bool:
    """Whether `signature` is `bank`'s over this message. The body must already be known to have a
    canonical form (`canonical_message`), else MalformedMessage propagates."""
    secret = bank_secret(bank)
    if secret is None or not signature:
        return False
    return hmac.compare_digest(sign(secret, body), signature.strip().lower())
