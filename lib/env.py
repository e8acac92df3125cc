"""Typed readers for settings that come from the environment (healthchecks' style).

Secrets have development defaults so a fresh checkout runs, but every default is remembered here, and
with DEBUG off the settings refuse to load while one is still in use (`secrets_left_at_dev_default`)
or while a secret that was given is too weak to guard anything (`secret_weakness`).
"""

from __future__ import annotations

import math
import os
import string
from collections import Counter
from pathlib import Path

_DEV_SECRETS: dict[str, str] = {}


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envsecret(name: str, dev_default: str) -> str:
    """A secret from `NAME`, or the file named by `NAME_FILE`, else the development default.

    The development value counts as left at its default however it arrives (copied into the
    environment or a file, in either case for hex keys): it is public, being in the source."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        value = Path(file_name).read_text(encoding="utf-8").strip()
    else:
        value = os.environ.get(name) or dev_default
    if value.strip().lower() == dev_default.lower():
        _DEV_SECRETS[name] = dev_default
    return value


def secrets_left_at_dev_default() -> list[str]:
    return sorted(_DEV_SECRETS)


# A secret drawn at random almost never has fewer distinct characters than this (64 random hex
# digits: fewer than 8 of the 16 with a probability below 1e-20), while "00…", "1111…" or
# "abab…" always do.
_MIN_DISTINCT = 8


def secret_weakness(
    value: str, *, min_length: int = 0, hex_length: int | None = None
) -> str | None:
    """Why `value` cannot guard production, or None when it can. The reason never quotes the value.

    `hex_length`: the secret is a key of exactly that many hexadecimal digits. Otherwise it is text
    of at least `min_length` characters. Either way a random secret is expected: too few distinct
    characters, one character making up a third of it, or a short block repeated is refused.
    """
    if hex_length is not None:
        if len(value) != hex_length or any(c not in string.hexdigits for c in value):
            return f"must be exactly {hex_length} hexadecimal characters"
        value = value.lower()
    elif len(value) < min_length:
        return f"must be at least {min_length} characters long"
    counts = Counter(value)
    if len(counts) < _MIN_DISTINCT:
        return f"has fewer than {_MIN_DISTINCT} distinct characters (not random)"
    if max(counts.values()) > math.ceil(len(value) / 3):
        return "repeats one character too often (not random)"
    for period in range(1, len(value) // 2 + 1):
        if (value[:period] * (len(value) // period + 1))[: len(value)] == value:
            return "is a short pattern repeated (not random)"
    return None
