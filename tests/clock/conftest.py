"""Helpers for the clock tests: a frozen wall clock that the tests move by hand.

The clock's whole job is "run it when it is due", so the tests travel time with `time_machine` instead
of sleeping until a deadline passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine

# Plain UTC (not a ZoneInfo), so time_machine does not also switch the process time zone.
T0 = dt.datetime(2030, 3, 1, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The wall clock frozen at T0; `clock.shift(...)` / `clock.move_to(...)` move it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller
