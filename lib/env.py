"""Typed readers for settings that come from the environment (healthchecks' style).

Secrets have development defaults so a fresh checkout runs, but every default is remembered here and
`refuse_dev_secrets_in_production` makes settings fail loudly when DEBUG is off and one is still in use.
"""

from __future__ import annotations

import os
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
