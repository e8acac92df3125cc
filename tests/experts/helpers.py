"""A specialty tree, a pool of experts, and a published tender with registered bidders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine

from accounts.actors import Actor
from accounts.models import Organization
from experts import services
from experts.models import Expert, Specialty
from tests.conftest import make_org
from tests.trading.factories import beijing, published, timeline
from trading import services as trading

T0 = beijing("2026-03-02 09:00")
EVALUATION = beijing("2026-03-30 09:30")


def specialties() -> None:
    for code, name in [
        ("A08", "建筑工程"),
        ("A0801", "土建"),
        ("A0802", "安装"),
        ("C01", "工程造价"),
    ]:
        Specialty.objects.get_or_create(code=code, defaults={"name": name})


def pool(
    staff,
    *,
    count: int = 12,
    specialty: str = "A0801",
    region: str = "440400",
    prefix: str = "专家",
) -> list[Expert]:
    specialties()
    employer = make_org(Organization.Kind.SUPPLIER, f"{prefix}单位")
    return [
        services.add_expert(
            Actor.for_user(staff),
            name=f"{prefix}{i:02d}",
            title="senior",
            years_in_field=10 + i % 5,
            region=region,
            specialties=[specialty],
            employer=employer,
        )
        for i in range(count)
    ]


def tender_with_bidders(agent, staff, bidders, *, kind="construction", estimate="38000000.00"):
    lots = [{"name": "一标段", "estimate": estimate, "deposit_amount": "0"}]
    category = "works" if kind == "construction" else "goods"
    with time_machine.travel(T0, tick=False):
        project = published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            kind=kind,
            category=category,
            lots=lots,
            **timeline(T0 + dt.timedelta(minutes=1)),
        )
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        for bidder in bidders:
            trading.register(Actor.for_user(bidder), project.lots.get())
    return project


def commit(staff, project, *, quotas=None, size=5, owner_reps=0, alternates=2, at=None, **kwargs):
    with time_machine.travel(at or EVALUATION - dt.timedelta(days=1), tick=False):
        return services.commit_draw(
            Actor.for_user(staff),
            project,
            evaluation_at=kwargs.pop("evaluation_at", EVALUATION),
            committee_size=size,
            owner_representatives=owner_reps,
            quotas=quotas or [{"specialty": "A08", "count": size - owner_reps}],
            alternates=alternates,
            **kwargs,
        )


__all__ = ["Decimal"]


def sealed_seed(draw) -> str:
    """The seed a committed draw will reveal, opened as the draw opens it (the tests hold the master
    key): to check that nothing shows it before the draw."""
    return services._open_seed(draw)
