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
