"""A drawn committee to test the expert pages, API and PDF against: a pool of ten A0801 experts, one of
them a shareholder of a bidder (so the draw records an exclusion), a published tender with two bidders,
and a draw committed with the personas' supervisor designated."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.test import Client

from accounts.actors import Actor
from accounts.models import User
from experts import services
from experts.models import DrawnExpert, DrawRequest, Expert
from tests.experts.helpers import EVALUATION, commit, pool, tender_with_bidders
from trading.models import Project

DAY_BEFORE = EVALUATION - dt.timedelta(days=1)
# When the tests act: after the commitment (DAY_BEFORE), before the evaluation.
NOW = DAY_BEFORE + dt.timedelta(minutes=10)
TIED_NAME = "专家00"


@dataclass
class World:
    project: Project
    draw: DrawRequest
    experts: list[Expert]
    tied: Expert

    def refresh(self) -> DrawRequest:
        self.draw = DrawRequest.objects.get(pk=self.draw.pk)
        return self.draw


@pytest.fixture
def world(staff, supervisor, agent, supplier, other_supplier) -> World:
    experts = pool(staff, count=10)
    tied = experts[0]
    services.declare_tie(
        Actor.for_user(staff),
        tied,
        supplier.organization,
        role="shareholder",
        start=dt.date(2020, 1, 1),
    )
    project = tender_with_bidders(agent, staff, [supplier, other_supplier])
    draw = commit(staff, project, supervisor=supervisor)
    return World(project=project, draw=draw, experts=experts, tied=tied)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def run(staff: User, world: World) -> DrawRequest:
    services.run_draw(Actor.for_user(staff), world.draw)
    return world.refresh()


def sign_off(supervisor: User, world: World) -> DrawRequest:
    services.sign_off(Actor.for_user(supervisor), world.draw)
    return world.refresh()


def disclose(staff: User, world: World) -> DrawRequest:
    services.disclose(Actor.for_user(staff), world.draw)
    return world.refresh()


def first_member(world: World) -> DrawnExpert:
    return (
        DrawnExpert.objects.filter(draw=world.draw, role="member")
        .select_related("expert")
        .order_by("quota", "position")
        .first()
    )


def link(user: User, expert: Expert) -> None:
    Expert.objects.filter(pk=expert.pk).update(user=user)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def seated_names(world: World) -> list[str]:
    return list(
        DrawnExpert.objects.filter(draw=world.draw, seated=True).values_list(
            "expert__name", flat=True
        )
    )
