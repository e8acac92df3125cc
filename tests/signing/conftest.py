from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _signatures_required(settings: Any) -> None:
    """The signing tests see production's rule: no act goes ahead unsigned."""
    settings.SIGNING_PASSWORD_FALLBACK = []
    settings.CA_SIMULATOR = True
