from __future__ import annotations

from typing import Any

import pytest

from tests.bidding.world import people


@pytest.fixture
def users(staff, supervisor, agent, supplier, other_supplier, expert) -> dict[str, Any]:
    found: dict[str, Any] = people(staff, supervisor, agent, supplier, other_supplier, expert)
    return found


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
