"""A contract in performance (idempotent): a government procurement awarded to `supplier`, its
contract drafted by `agent`, signed by both (with their demo keys when the CA simulator is on),
published as the 合同公告, with one milestone delivered and one still due.

What the demo cannot do at seeding time is let a tender run to its award (a bid deadline at least
minutes away, an evaluation, a 3-day candidate publicity): so this one clearly labelled demo project
is published through trading's services and its candidates' publicity is written as the committee's
report would have ranked it, already ended; the award notice is then issued by
`bidding.evaluation.issue_award` and everything after it goes through `contracts.services`.

A second run changes nothing: each step looks for what it would create.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organization, User
from bidding import evaluation
from bidding.models import Publicity
from clock.calendar import next_working_moment
from contracts import services
from contracts.models import Contract, Milestone
from signing import ca_simulator
from signing import demo as signing_demo
from signing.services import Signed
from trading import services as trading
from trading.models import Project

TITLE = "金湾区中小学课桌椅采购项目（合同履约演示）"
OWNER_USCC = "1144040000700002X3"  # 珠海市教育局 (accounts.demo)
PRICE = "1268000.00"
LOT = {"name": "课桌椅", "estimate": "1300000.00", "ceiling_price": "1300000.00"}
TERMS = (
    "一、标的：学生课桌椅 2000 套，规格及技术要求以采购文件和投标文件为准。\n"
    "二、合同价款：1268000.00 元（含运输、安装、税费）。\n"
    "三、交付：分两批交付安装，首批 1000 套，第二批 1000 套。\n"
    "四、履约保证金：合同价款的 5%。\n"
    "五、验收：采购人组织履约验收，验收合格后支付相应价款。"
)


def _project(agent: User, staff: User) -> Project:
    project = Project.objects.filter(title=TITLE).first()
    if project is not None:
        return project
    now = timezone.now()
    start = now + dt.timedelta(minutes=1)
    deadline = next_working_moment(
        timezone.localtime(now + dt.timedelta(days=26)).replace(
            hour=9, minute=30, second=0, microsecond=0
        )
    )
    as_agent = Actor.for_user(agent)
    project = trading.create_project(
        as_agent,
        owner=Organization.objects.get(uscc=OWNER_USCC),
        lots=[{**LOT, "deposit_amount": "0", "deposit_forms": []}],
        title=TITLE,
        kind=Project.Kind.GOVERNMENT_PROCUREMENT,
        category=Project.Category.GOODS,
        method=Project.Method.OPEN,
        description="演示项目：评标和中标候选人公示不在演示数据中，中标结果为演示导入，"
        "用于演示合同起草、双方电子签署、合同公告和履约管理。",
        documents_from=start,
        documents_until=next_working_moment(start + dt.timedelta(days=7)),
        questions_until=next_working_moment(deadline - dt.timedelta(days=16)),
        bid_deadline=deadline,
    )
    trading.submit_project(as_agent, project)
    trading.approve_project(Actor.for_user(staff), project)
    trading.publish_project(as_agent, project)
    project.refresh_from_db()
    return project


def _award(project: Project, agent: User, supplier: User) -> Publicity:
    lot = project.lots.get()
    publicity = Publicity.objects.filter(lot=lot).first()
    if publicity is None:
        now = timezone.now()
        publicity = Publicity.objects.create(
            lot=lot,
            candidates=[
                {
                    "rank": 1,
                    "bidder": supplier.organization.name if supplier.organization else "",
                    "organization": supplier.organization_id,
                    "bid": None,
                    "price": PRICE,
                    "technical": "0.00",
                    "total": "0.00",
                }
            ],
            published_at=now - dt.timedelta(days=3),
            ends_at=now,
        )
    if publicity.status == Publicity.Status.PUBLIC:
        publicity = evaluation.issue_award(Actor.for_user(agent), lot)
    return publicity


def _signed(user: User, contract: Contract) -> Signed | None:
    """The demo user's signature over the pending version, as its browser would make it."""
    pending = services.pending_version(contract)
    if (
        pending is None
        or not ca_simulator.enabled()
        or not signing_demo.key_path(user.username).exists()
    ):
        return None
    return signing_demo.sign_as(
        user, services.SIGN_ACT, "contracts.contract", contract.pk, digest=pending.sha256
    )


def _perform(contract: Contract, agent: User, supplier: User) -> None:
    as_agent = Actor.for_user(agent)
    if not contract.milestones.exists():
        today = timezone.localdate()
        services.add_milestone(
            as_agent,
            contract,
            description="首批 1000 套交付安装",
            due_on=today,
            amount="634000.00",
        )
        services.add_milestone(
            as_agent,
            contract,
            description="第二批 1000 套交付安装",
            due_on=today + dt.timedelta(days=30),
            amount="634000.00",
        )
    first = contract.milestones.get(number=1)
    if first.delivered_at is None:
        services.complete_milestone(Actor.for_user(supplier), first)
    first = Milestone.objects.get(pk=first.pk)
    if first.paid_at is None:
        services.record_payment(as_agent, first)


def seed(out: Any) -> None:
    agent = User.objects.get(username="agent")
    staff = User.objects.get(username="staff")
    supplier = User.objects.get(username="supplier")
    project = _project(agent, staff)
    publicity = _award(project, agent, supplier)
    lot = project.lots.get()
    contract = Contract.objects.filter(lot=lot).first()
    if contract is None and publicity.status == Publicity.Status.AWARDED:
        contract = services.draft_contract(
            Actor.for_user(agent), lot, price=PRICE, terms=TERMS, performance_bond="63400.00"
        )
    if contract is None:
        out.write("contracts: the demo award is not open for a contract\n")
        return
    for user in (agent, supplier):
        contract = Contract.objects.get(pk=contract.pk)
        pending = services.pending_version(contract)
        if pending is None:
            break
        side = services.side_of(Actor.for_user(user), contract)
        waiting = (
            pending.purchaser_signed_at
            if side == services.PURCHASER
            else pending.supplier_signed_at
        )
        if waiting is None:
            services.sign_contract(Actor.for_user(user), contract, signed=_signed(user, contract))
    contract = Contract.objects.get(pk=contract.pk)
    if contract.in_force:
        _perform(contract, agent, supplier)
        contract = Contract.objects.get(pk=contract.pk)
    out.write(
        f"contracts: {contract.number} 《{TITLE}》 {contract.get_status_display()} — "
        f"/contracts/{contract.pk}/ (agent, supplier; OCDS /api/v1/ocds/{project.ocid}/)\n"
    )
