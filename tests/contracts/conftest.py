"""Awarded lots for the contract tests, through the real services wherever the contract's own
rules begin: the project is published by trading, the award notice issued by
`bidding.evaluation.issue_award`. Only the evaluation before it is stood in for (its candidates are
written as the committee's report would rank them); `test_flow.py` runs the whole tender instead."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from accounts.models import User
from bidding import evaluation as ev
from bidding.models import Publicity
from tests.trading.factories import beijing, published, timeline
from trading.models import Lot, Project

# A Monday morning in a year chinese-calendar covers.
T0 = beijing("2026-03-02 09:00")
PRICE = "980000.00"
TERMS = "一、标的：交互式黑板 40 套。\n二、价款：980000.00 元。\n三、交付：合同签订后 30 日内。"


def travel(moment: dt.datetime) -> Any:
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Awarded:
    project: Project
    lot: Lot
    publicity: Publicity
    awarded_at: dt.datetime


def award(
    agent: User,
    staff: User,
    winner: User,
    *,
    kind: str = Project.Kind.GOVERNMENT_PROCUREMENT,
    price: str = PRICE,
    second: User | None = None,
) -> Awarded:
    """A published project whose lot was awarded to `winner` at `price` (the award notice issued by
    the real service when the candidates' publicity ended)."""
    with travel(T0):
        project = published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            kind=kind,
            category="goods",
            lots=[{"name": "教学设备", "estimate": "1000000.00", "deposit_amount": "0"}],
            **timeline(T0 + dt.timedelta(minutes=1)),
        )
    lot = project.lots.get()
    deadline = project.bid_deadline
    assert deadline is not None
    ends = deadline + dt.timedelta(days=4)
    assert winner.organization is not None
    candidates = [
        {
            "rank": 1,
            "bidder": winner.organization.name,
            "organization": winner.organization_id,
            "bid": None,
            "price": price,
            "technical": "0.00",
            "total": "0.00",
        }
    ]
    if second is not None:
        candidates.append({**candidates[0], "rank": 2, "organization": second.organization_id})
    Publicity.objects.create(
        lot=lot,
        candidates=candidates,
        published_at=ends - dt.timedelta(days=3),
        ends_at=ends,
    )
    with travel(ends):
        publicity = ev.issue_award(Actor.for_user(agent), lot)
    return Awarded(project, lot, publicity, ends)


def pdf(name: str = "合同.pdf", body: bytes = b"%PDF-1.4 contract") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, "application/pdf")


@pytest.fixture
def gp(agent: User, staff: User, supplier: User) -> Awarded:
    return award(agent, staff, supplier)


@pytest.fixture
def construction(agent: User, staff: User, supplier: User) -> Awarded:
    return award(agent, staff, supplier, kind=Project.Kind.CONSTRUCTION)


def money(text: str) -> Decimal:
    return Decimal(text)
