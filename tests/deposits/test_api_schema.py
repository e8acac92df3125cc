"""The OpenAPI schema stays valid and warning-free with the deposits and alerts endpoints in it."""

from __future__ import annotations

from typing import Any

import yaml
from django.core.management import call_command


def test_the_schema_validates_without_warnings(tmp_path: Any) -> None:
    target = tmp_path / "schema.yml"
    # --fail-on-warn turns any drf-spectacular warning (an enum collision, an unresolvable view)
    # into an error, --validate checks the result against the OpenAPI 3 specification.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    notification = paths["/api/v1/deposits/bank/notifications"]["post"]
    # No session or token: the bank authenticates by its signature (and nothing is inherited).
    assert "security" not in notification and "security" not in schema
    assert {p["name"] for p in notification["parameters"]} == {"X-Bank-Code", "X-Bank-Signature"}
    assert "/api/v1/deposits/refunds/batches/{id}/csv" in paths
    assert (
        "text/csv"
        in paths["/api/v1/deposits/refunds/batches/{id}/csv"]["get"]["responses"]["200"]["content"]
    )
    assert "/api/v1/alerts/{id}/handle/" in paths
    rate = schema["components"]["schemas"]["FxRateInput"]["properties"]["cny_per_unit"]
    assert rate["type"] == "string"
