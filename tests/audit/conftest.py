"""Evidence packages are signed as in production: with an installation's own key, not the public
development key (which verify_evidence refuses; tests/audit/test_evidence.py covers that case)."""

from __future__ import annotations

from typing import Any

import pytest

TEST_SIGNING_KEY = "5e" * 32


@pytest.fixture(autouse=True)
def _own_evidence_key(settings: Any) -> None:
    settings.EVIDENCE_SIGNING_KEY = TEST_SIGNING_KEY
