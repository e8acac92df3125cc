"""Canonical JSON and SHA-256: the one definition every hash of the platform is taken over.

    canonical_value(v)  the JSON value that is stored and hashed: Decimal → str, aware datetime →
                        UTC ISO-8601 with microseconds, date → ISO, UUID and lazy text → str, tuple →
                        list, dict keys → str; floats and naive datetimes refused
    canonical_bytes(v)  json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                        encoded as UTF-8
    canonical_sha256(v) SHA-256 (hex) of canonical_bytes(v)

The audit chain's events, announcement versions, bid receipts and opening records, evaluation reports,
expert draws, land lotteries, deposit certificates and the evidence package all hash these bytes, so a
stored hash can be recomputed by anyone from the stored JSON. Changing a single byte of this output
breaks every hash already kept: `tests/lib/test_canonical.py` pins it with golden values.

A bank message has its own canonical form (numbers kept as written): `deposits.bank.canonical_message`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise


def canonical_value(value: Any) -> Any:
    """The JSON value that will be stored and hashed, so what is hashed is exactly what is read back."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # Floats do not round-trip exactly, and money must never be a float anyway.
        raise TypeError("audit payloads may not hold floats; write money and measures as strings")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise TypeError("audit payloads may not hold naive datetimes")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Promise):
        return str(value)
    if isinstance(value, dict):
        return {str(key): canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    raise TypeError(f"cannot write {type(value).__name__} into an audit payload")


def canonical_bytes(value: Any) -> bytes:
    """The bytes hashed for a JSON value (already canonical: see `canonical_value`)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(value: Any) -> str:
    return sha256_hex(canonical_bytes(value))


def file_sha256(chunks: Iterable[bytes]) -> str:
    """SHA-256 of a file read in chunks (an upload's `.chunks()`), never held whole in memory."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
