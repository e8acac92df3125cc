"""Time-based steps registered by apps.

    from clock.registry import step

    @step("bidding.open_bids")
    def open_bids(object_id: str) -> None:
        ...  # idempotent; checks the deadline itself

A step receives the task's object id. It runs in its own transaction(s); raising marks the attempt
failed and the clock retries it with back-off.
"""

from __future__ import annotations

from collections.abc import Callable

StepFunction = Callable[[str], None]

_STEPS: dict[str, StepFunction] = {}
# Steps that run periodically and reschedule themselves: how to schedule the first run.
_RECURRING: dict[str, Callable[[], None]] = {}


def step(name: str) -> Callable[[StepFunction], StepFunction]:
    def register(func: StepFunction) -> StepFunction:
        if name in _STEPS and _STEPS[name] is not func:
            raise ValueError(f"clock step {name!r} registered twice")
        _STEPS[name] = func
        return func

    return register


def get_step(name: str) -> StepFunction:
    return _STEPS[name]


def registered_steps() -> list[str]:
    return sorted(_STEPS)


def recurring(name: str, start: Callable[[], None]) -> None:
    """Declare `name` a step that reschedules itself; `start()` schedules its first run.

    `run_clock` calls `start` when no run of the step is pending (a fresh database, or a run lost), so
    an app above the clock keeps a periodic step without the clock importing it."""
    _RECURRING[name] = start


def recurring_steps() -> dict[str, Callable[[], None]]:
    return dict(_RECURRING)
