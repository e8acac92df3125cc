"""Government procurement's non-tender methods: 竞争性磋商, 竞争性谈判 and 询价 — their periods on the
statutory calendar at the boundary and one minute off, who may use them, the sealed responses and
the opening they share with tenders, the fixed price of an inquiry, how many suppliers must remain,
and how the responses are judged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.actors import Actor
from bidding import evaluation as ev
from bidding import services as bidding
from bidding.models import Opening
from clock.models import ScheduledTask
from lib.errors import DomainError
from tests.conftest import make_org, make_user
from tests.trading.factories import beijing, draft, published
from trading import services
from trading.exceptions import ScheduleError
from trading.models import Project
from trading.ocds import project_releases

pytestmark = pytest.mark.django_db

CODE = "my-secret-code-123"
GOODS = [{"name": "设备", "estimate": "1000000", "deposit_amount": "0"}]
SERVICES = [{"name": "物业服务", "estimate": "2400000", "deposit_amount": "0"}]


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def gp(method: str, start: dt.datetime, deadline: dt.datetime, **extra) -> dict:
    """A GP project of `method` whose documents go out at `start` and whose responses close at
    `deadline` (documents obtainable until the deadline, questions a day before)."""
    return {
        "kind": Project.Kind.GOVERNMENT_PROCUREMENT,
        "category": Project.Category.GOODS,
        "method": method,
        "lots": GOODS,
        "documents_from": start,
        "documents_until": deadline,
        "questions_until": deadline - dt.timedelta(days=1),
        "bid_deadline": deadline,
        **extra,
    }


def submit(agent, project):
    services.submit_project(Actor.for_user(agent), project)


# --- Periods --------------------------------------------------------------------------------------


def test_a_consultation_gives_ten_days_to_the_first_responses(agent):
    start = beijing("2026-03-02 09:00")
    with travel(start - dt.timedelta(hours=1)):
        enough = draft(agent, **gp("consultation", start, beijing("2026-03-12 09:00")))
        submit(agent, enough)
        short = draft(agent, **gp("consultation", start, beijing("2026-03-12 08:59")))
        with pytest.raises(ScheduleError) as refused:
            submit(agent, short)
    assert refused.value.code == "BIDDING_PERIOD_TOO_SHORT"
    assert "10 日" in refused.value.message and "214号" in refused.value.message


def test_a_consultation_keeps_its_documents_five_working_days(agent):
    # 2 March (Monday) + 5 working days = 9 March: until Friday 6 March is too short.
    start = beijing("2026-03-02 09:00")
    with travel(start - dt.timedelta(hours=1)):
        project = draft(
            agent,
            **gp(
                "consultation",
                start,
                beijing("2026-03-12 09:00"),
                documents_until=beijing("2026-03-06 17:00"),
            ),
        )
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
    assert refused.value.code == "DOCUMENT_WINDOW_TOO_SHORT"


@pytest.mark.parametrize("method", ["negotiation", "inquiry"])
@pytest.mark.parametrize(
    ("start", "earliest"),
    [
        # Thursday + 3 working days, over a weekend → Tuesday.
        ("2026-03-05 09:01", "2026-03-10 09:01"),
        # Tuesday 29 September: 30 September, then the National Day week off, 8 and 9 October.
        ("2026-09-29 09:01", "2026-10-09 09:01"),
    ],
)
def test_negotiation_and_inquiry_give_three_working_days(agent, method, start, earliest):
    start_at, earliest_at = beijing(start), beijing(earliest)
    with travel(start_at - dt.timedelta(hours=1)):
        submit(agent, draft(agent, **gp(method, start_at, earliest_at)))
        short = draft(agent, **gp(method, start_at, earliest_at - dt.timedelta(minutes=1)))
        with pytest.raises(ScheduleError) as refused:
            submit(agent, short)
    assert refused.value.code == "BIDDING_PERIOD_TOO_SHORT"
    assert "3 个工作日" in refused.value.message and "74号" in refused.value.message


def test_a_late_change_to_a_consultation_moves_the_deadline_to_keep_five_days(agent, staff):
    start = beijing("2026-03-02 09:00")
    deadline = beijing("2026-03-13 09:00")  # a Friday
    with travel(start - dt.timedelta(hours=1)):
        project = published(agent, staff, **gp("consultation", start, deadline))
    with travel(beijing("2026-03-10 10:00")):
        services.publish_amendment(
            Actor.for_user(agent),
            project,
            title="修改技术参数",
            body="第三章第2条修改为……",
            affects_bid_preparation=True,
        )
    project.refresh_from_db()
    # 10 March + 5 days = Sunday 15 March at the deadline's time of day → Monday 16 March.
    assert project.bid_deadline == beijing("2026-03-16 09:00")


def test_the_gp_methods_are_refused_outside_government_procurement(agent):
    start = beijing("2026-03-02 09:00")
    with travel(start - dt.timedelta(hours=1)):
        project = draft(
            agent,
            **{
                **gp("negotiation", start, beijing("2026-03-27 09:00")),
                "kind": Project.Kind.CONSTRUCTION,
                "category": Project.Category.WORKS,
            },
        )
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
        assert refused.value.code == "METHOD_NOT_ALLOWED"
        two = draft(
            agent, **gp("inquiry", start, beijing("2026-03-27 09:00"), two_suppliers_allowed=True)
        )
        with pytest.raises(ScheduleError) as exception:
            submit(agent, two)
    assert exception.value.code == "TWO_SUPPLIERS_NOT_ALLOWED"


# --- Sealed responses and the opening -------------------------------------------------------------


def suppliers(count: int):
    users = []
    for i in range(count):
        org = make_org("supplier", f"供应商{i}")
        users.append(make_user(f"gp-supplier-{i}", "supplier", org))
    return users


def responded(agent, staff, method: str, prices: list[str], **extra) -> tuple[Project, list]:
    start = beijing("2026-03-02 09:00")
    deadline = beijing("2026-03-12 09:00")
    with travel(start - dt.timedelta(hours=1)):
        project = published(agent, staff, **gp(method, start, deadline, **extra))
    lot = project.lots.get()
    users = suppliers(len(prices))
    with travel(start + dt.timedelta(hours=1)):
        for user, price in zip(users, prices, strict=True):
            services.register(Actor.for_user(user), lot)
            bidding.submit_bid(Actor.for_user(user), lot, price=price, decryption_code=CODE)
    return project, users


def test_the_responses_open_at_the_deadline_like_a_tender(agent, staff):
    project, _users = responded(agent, staff, "inquiry", ["900000", "880000", "910000"])
    lot = project.lots.get()
    task = ScheduledTask.objects.get(key=f"bidding.open_lot:{lot.pk}")
    assert task.due_at == project.bid_deadline
    with travel(project.bid_deadline):
        opening = bidding.open_lot(Actor.system("clock"), lot)
    assert opening.stage == Opening.Stage.DECRYPTING


def test_an_inquiry_price_cannot_be_changed_even_by_withdrawing(agent, staff):
    project, users = responded(agent, staff, "inquiry", ["900000", "880000", "910000"])
    lot = project.lots.get()
    bidder = Actor.for_user(users[0])
    with travel(beijing("2026-03-03 10:00")):
        with pytest.raises(DomainError) as changed:
            bidding.submit_bid(bidder, lot, price="850000", decryption_code=CODE)
        assert changed.value.code == "PRICE_FIXED"
        bid = lot.bids.get(organization=users[0].organization)
        bidding.withdraw_bid(bidder, bid)
        with pytest.raises(DomainError) as again:
            bidding.submit_bid(bidder, lot, price="850000", decryption_code=CODE)
    assert again.value.code == "PRICE_FIXED"


def test_a_negotiation_response_may_be_replaced_before_the_deadline(agent, staff):
    project, users = responded(agent, staff, "negotiation", ["900000", "880000", "910000"])
    lot = project.lots.get()
    with travel(beijing("2026-03-03 10:00")):
        bid = bidding.submit_bid(
            Actor.for_user(users[0]), lot, price="870000", decryption_code=CODE
        )
    assert bid.version == 2


@pytest.mark.parametrize(("two_allowed", "stage"), [(True, "decrypting"), (False, "failed")])
def test_a_consultation_goes_on_with_two_suppliers_only_where_the_exception_applies(
    agent, staff, two_allowed, stage
):
    project, _users = responded(
        agent,
        staff,
        "consultation",
        ["900000", "880000"],
        two_suppliers_allowed=two_allowed,
    )
    deadline = project.bid_deadline
    assert deadline is not None
    with travel(deadline):
        opening = bidding.open_lot(Actor.system("clock"), project.lots.get())
    assert opening.stage == stage


# --- How responses are judged -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "lots", "category", "scheme", "weight", "code"),
    [
        ("inquiry", GOODS, "goods", "comprehensive", "0.5", "SCHEME_NOT_ALLOWED"),
        ("negotiation", GOODS, "goods", "comprehensive", "0.5", "SCHEME_NOT_ALLOWED"),
        ("consultation", GOODS, "goods", "lowest_price", "1", "SCHEME_NOT_ALLOWED"),
        ("consultation", GOODS, "goods", "comprehensive", "0.29", "PRICE_WEIGHT_OUT_OF_RANGE"),
        ("consultation", GOODS, "goods", "comprehensive", "0.61", "PRICE_WEIGHT_OUT_OF_RANGE"),
        (
            "consultation",
            SERVICES,
            "services",
            "comprehensive",
            "0.31",
            "PRICE_WEIGHT_OUT_OF_RANGE",
        ),
        (
            "consultation",
            SERVICES,
            "services",
            "comprehensive",
            "0.09",
            "PRICE_WEIGHT_OUT_OF_RANGE",
        ),
    ],
)
def test_each_method_is_judged_by_its_own_law(
    agent, staff, method, lots, category, scheme, weight, code
):
    start = beijing("2026-03-02 09:00")
    with travel(start - dt.timedelta(hours=1)):
        project = draft(
            agent,
            **{
                **gp(method, start, beijing("2026-03-12 09:00")),
                "lots": lots,
                "category": category,
            },
        )
    with pytest.raises(DomainError) as refused:
        ev.start_evaluation(
            Actor.for_user(staff),
            project.lots.get(),
            draw=None,
            scheme=scheme,
            price_weight=Decimal(weight),
        )
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("lots", "category", "weight"),
    [(GOODS, "goods", "0.30"), (GOODS, "goods", "0.60"), (SERVICES, "services", "0.10")],
)
def test_price_weights_at_the_bounds_pass_the_method_check(agent, staff, lots, category, weight):
    start = beijing("2026-03-02 09:00")
    with travel(start - dt.timedelta(hours=1)):
        project = draft(
            agent,
            **{
                **gp("consultation", start, beijing("2026-03-12 09:00")),
                "lots": lots,
                "category": category,
            },
        )
    # Past the method's check, the next refusal is the lot's own state: nothing was opened yet.
    with pytest.raises(DomainError) as refused:
        ev.start_evaluation(
            Actor.for_user(staff),
            project.lots.get(),
            draw=None,
            scheme="comprehensive",
            price_weight=Decimal(weight),
        )
    assert refused.value.code == "WRONG_STATUS"


def test_the_open_data_names_the_method(agent, staff):
    start = beijing("2026-03-02 09:00")
    with travel(start - dt.timedelta(hours=1)):
        project = published(agent, staff, **gp("consultation", start, beijing("2026-03-12 09:00")))
    tender = next(project_releases(project))["tender"]
    assert tender["procurementMethod"] == "open"
    assert tender["procurementMethodDetails"] == "竞争性磋商"
