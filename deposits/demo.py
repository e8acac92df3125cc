"""Demo deposits (idempotent): three bidders on one published tender, every payment made by the simulated
bank through the same service a real bank's message goes through.

- `supplier` pays the full deposit from its own account → credited, qualified;
- `supplier3` pays, then withdraws before the deadline → the refund is scheduled, sent to the bank in
  a refund batch, and the bank confirms it paid → refunded;
- `supplier2`'s deposit is paid by a third party → held in suspense, refund to that payer scheduled
  (not yet sent to the bank), supervisors alerted;
- `supplier4` files an electronic guarantee (电子保函) the simulated bank signed → verified on receipt,
  qualified (only while the CA simulator is on, as in every development and demo installation).

Why a project of its own: registration (报名) is open only while the tender documents are available, and
the trading demo's tenders open their documents a minute after seeding. This project is drafted with its
documents available from the moment it is drafted, then published at once: `publish_project` counts
the legal periods from publication when that is later (`check_timeline(now=…)`), so registration is open
as soon as the notice is out, with no waiting and no change to the clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypedDict

from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organization, User
from clock.calendar import next_working_moment
from deposits import guarantee_simulator, services
from deposits.bank_simulator import BankSimulator
from deposits.models import Account, BankNotification, Deposit, FxRate, Guarantee, Refund
from lib.errors import present
from trading import services as trading
from trading.models import Lot, Project, Registration

TITLE = "珠海市第二中学运动场及配套设施改造工程施工"
LOT = {
    "name": "施工总承包",
    "estimate": "12000000.00",
    "ceiling_price": "11600000.00",
    "deposit_amount": "240000.00",
    "deposit_forms": ["cash", "bank_guarantee"],
}
THIRD_PARTY = ("珠海市恒通贸易有限公司", "44050166000188889999")
DEMO_RATES = (("HKD", Decimal("0.921500")), ("USD", Decimal("7.184200")))


def payer_account_for(org: Organization) -> str:
    """The account a bidder pays from: its registered 基本账户, or a stable demo number per bidder (so
    two bidders never share one and trigger the collusion alert by accident)."""
    return org.basic_account_number or f"44050166{org.pk:012d}"


class _Timeline(TypedDict):
    documents_from: dt.datetime
    documents_until: dt.datetime
    questions_until: dt.datetime
    bid_deadline: dt.datetime


def _timeline(now: dt.datetime) -> _Timeline:
    # Documents from now (open on publication); the deadline 26 days on at 09:30 Beijing time.
    # Deadlines keep off holidays (the rules refuse them): each moves to the next working day.
    deadline = next_working_moment(
        timezone.localtime(now + dt.timedelta(days=26)).replace(
            hour=9, minute=30, second=0, microsecond=0
        )
    )
    return {
        "documents_from": now,
        "documents_until": next_working_moment(now + dt.timedelta(days=7)),
        "questions_until": next_working_moment(deadline - dt.timedelta(days=16)),
        "bid_deadline": deadline,
    }


def _project(agent: User, staff: User) -> Project:
    project = Project.objects.filter(title=TITLE).first()
    if project is not None:
        return project
    owner = Organization.objects.get(uscc="1144040000700002X3")
    as_agent = Actor.for_user(agent)
    project = trading.create_project(
        as_agent,
        owner=owner,
        lots=[LOT],
        title=TITLE,
        kind=Project.Kind.CONSTRUCTION,
        category=Project.Category.WORKS,
        method=Project.Method.OPEN,
        description=f"{TITLE}。资金来源：财政资金，已落实。投标保证金 24 万元，可现金或银行保函。",
        **_timeline(timezone.now()),
    )
    trading.submit_project(as_agent, project)
    trading.approve_project(Actor.for_user(staff), project)
    trading.publish_project(as_agent, project)
    project.refresh_from_db()
    return project


def _registered_account(user: User, lot: Lot) -> Account:
    actor = Actor.for_user(user)
    if not Registration.objects.filter(lot=lot, organization=user.organization).exists():
        trading.register(actor, lot, contact_name=user.display_name or user.username)
    return services.open_sub_account(actor, lot)


def _pay(
    account: Account, transaction_id: str, *, payer: tuple[str, str] | None = None
) -> BankNotification:
    """One payment of the lot's deposit, once: the transaction id makes a second seeding a no-op (a
    new message with the same id and another value time would be refused as a conflicting replay)."""
    bank = BankSimulator()
    existing = BankNotification.objects.filter(
        bank=bank.bank, transaction_id=transaction_id
    ).first()
    if existing is not None:
        return existing
    org = account.bidder
    name, number = payer or (org.name, payer_account_for(org))
    message = bank.payment(
        account_number=account.number,
        amount=account.bidder_lot.deposit_amount,
        payer_name=name,
        payer_account=number,
        transaction_id=transaction_id,
    )
    return services.receive_bank_notification(
        message.bank, message.body, message.signature
    ).notification


def seed(out: Any) -> None:
    staff = User.objects.get(username="staff")
    agent = User.objects.get(username="agent")
    as_staff = Actor.for_user(staff)
    for currency, rate in DEMO_RATES:
        if not FxRate.objects.filter(currency=currency).exists():
            services.set_fx_rate(as_staff, currency, rate, source="演示数据：中国银行折算价")

    project = _project(agent, staff)
    lot = project.lots.get()
    prefix = f"DEMO{project.pk:05d}"
    users = {
        name: User.objects.get(username=name) for name in ("supplier", "supplier2", "supplier3")
    }
    accounts = {name: _registered_account(user, lot) for name, user in users.items()}

    # supplier: the full deposit from its own account.
    _pay(accounts["supplier"], f"{prefix}A")
    # supplier3: pays, then withdraws before the deadline; staff record the written notice of
    # withdrawal by scheduling the refund (due within 5 days, 条例 Art.35). The refund goes to the bank
    # in a batch and the bank confirms it paid.
    notification = _pay(accounts["supplier3"], f"{prefix}C")
    deposit = Deposit.objects.get(notification=notification)
    if deposit.status == Deposit.Status.HELD:
        services.schedule_refund(as_staff, deposit, reason=Refund.Reason.WITHDRAWAL)
    refund = Refund.objects.filter(deposit=deposit).exclude(status=Refund.Status.CANCELLED).first()
    if refund is not None and refund.status == Refund.Status.SCHEDULED:
        services.create_refund_batch(as_staff)
        refund.refresh_from_db()
    if refund is not None and refund.status == Refund.Status.INSTRUCTED:
        message = BankSimulator().refund_confirmation(
            refund.pk, status="paid", bank_reference=f"{prefix}RF{refund.pk:06d}"
        )
        services.confirm_refund(message.bank, message.body, message.signature)
    # supplier2: paid by a third party — held for that payer and never counted; its refund stays
    # scheduled (after the batch above), to show a pending refund beside a paid one.
    _pay(accounts["supplier2"], f"{prefix}B", payer=THIRD_PARTY)

    # supplier4: an electronic guarantee from the simulated bank, verified by its signature.
    guarantor = User.objects.get(username="supplier4")
    users["supplier4"] = guarantor
    if guarantee_simulator.enabled() and not Guarantee.objects.filter(
        lot=lot, organization=guarantor.organization, electronic=True
    ):
        if not Registration.objects.filter(lot=lot, organization=guarantor.organization).exists():
            trading.register(
                Actor.for_user(guarantor),
                lot,
                contact_name=guarantor.display_name or guarantor.username,
            )
        document = guarantee_simulator.issue(
            lot, present(guarantor.organization, "a supplier's organization")
        )
        services.submit_electronic_guarantee(Actor.for_user(guarantor), lot, document)

    states = {
        name: services.qualification(
            lot, present(user.organization, "a supplier's organization")
        ).code
        for name, user in users.items()
    }
    out.write(
        f"deposits: {project.number} — "
        + ", ".join(f"{name} {code}" for name, code in states.items())
        + f"; {Deposit.objects.count()} deposits, {Refund.objects.count()} refunds\n"
    )
