"""A framework agreement in the open data: its solicitation is an `open` OCDS tender named 框架协议,
and the admission and the purchases under it are award notices; the package stays valid OCDS 1.1.5."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.actors import Actor
from frameworks import services
from tests.frameworks.world import CONCLUDED, agreement_of, concluded, member_user
from tests.trading.test_ocds import assert_valid
from trading import ocds

pytestmark = pytest.mark.django_db


def test_the_solicitation_admission_and_purchases_are_published_as_valid_ocds(
    agent, staff, supervisor
):
    world = concluded(agent, staff, supervisor)
    with time_machine.travel(CONCLUDED + dt.timedelta(days=1), tick=False):
        services.place_order(
            Actor.for_user(agent),
            agreement_of(world),
            method="direct",
            requirement="台式计算机 20 台",
            quantity=20,
            supplier=member_user(world, "900000").organization_id,
        )
    package = assert_valid(ocds.project_release_package(world["project"]))
    releases = package["releases"]
    assert {r["tender"]["procurementMethodDetails"] for r in releases} == {"框架协议"}
    assert {r["tender"]["procurementMethod"] for r in releases} == {"open"}
    award_notices = [r["awards"][0]["documents"][0]["title"] for r in releases if r.get("awards")]
    assert any("入围结果公告" in title for title in award_notices)
    assert any("成交结果公告" in title for title in award_notices)
