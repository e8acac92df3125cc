from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def mails(django_capture_on_commit_callbacks: Any) -> Any:
    """`with mails(execute=True): …` — mail is sent after its transaction commits; inside a test's
    transaction that is when the block ends (callbacks of rolled-back work are dropped)."""
    return django_capture_on_commit_callbacks
