"""单一来源: the public notice of the one supplier for at least 5 working days with objections inside
it, the negotiation after it, its record with the agreed price, and the result at once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import single_source
from bidding.models import Publicity
from clock.models import ScheduledTask
from lib.errors import DomainError, NotPermitted
from tests.trading.factories import beijing, draft, published
from trading import services
from trading.exceptions import ScheduleError, Suspended, TooLate
from trading.models import Announcement, Project
from trading.ocds import project_releases

pytestmark = pytest.mark.django_db

START = beijing("2026-03-02 09:00")  # a Monday
NOTICE_ENDS = beijing("2026-03-09 09:00")  # + 5 working days
TALKS = beijing("2026-03-16 09:00")  # NOTICE_ENDS + 5 working days


def travel(moment):
    return time_machine.travel(moment, tick=False)


def fields(supplier, **extra):
    return {
        "kind": Project.Kind.GOVERNMENT_PROCUREMENT,
        "category": Project.Category.SERVICES,
        "method": Project.Method.SINGLE_SOURCE,
        "description": "原系统开发商享有软件著作权，升级改造只能由其实施（政府采购法第三十一条第一项）。",
        "lots": [
            {
                "name": "系统升级",
                "estimate": "480000.00",
                "ceiling_price": "460000.00",
                "deposit_amount": "0",
            }
        ],
        "invitees": [supplier.organization_id],
        "documents_from": START,
        "documents_until": NOTICE_ENDS,
        "questions_until": NOTICE_ENDS,
        "bid_deadline": TALKS,
        **extra,
    }


def test_the_notice_runs_five_working_days_and_names_one_supplier(
    agent, staff, supplier, other_supplier
):
    with travel(START - dt.timedelta(hours=1)):
        short = draft(
            agent, **fields(supplier, documents_until=NOTICE_ENDS - dt.timedelta(minutes=1))
        )
        with pytest.raises(ScheduleError) as refused:
            services.submit_project(Actor.for_user(agent), short)
        assert refused.value.code == "DOCUMENT_WINDOW_TOO_SHORT"
        two = draft(
            agent,
            **fields(supplier, invitees=[supplier.organization_id, other_supplier.organization_id]),
        )
        with pytest.raises(ScheduleError) as many:
            services.submit_project(Actor.for_user(agent), two)
        assert many.value.code == "SINGLE_SOURCE_SUPPLIER"
        project = published(agent, staff, **fields(supplier))
    notice = Announcement.objects.get(project=project).versions.get()
    assert notice.content["project"]["single_source_supplier"] == [
        {"name": supplier.organization.name, "uscc": supplier.organization.uscc}
    ]
    # No sealed responses, so nothing for the clock to open.
    assert not ScheduledTask.objects.filter(step="bidding.open_lot").exists()
    release = next(project_releases(project))
    assert release["tender"]["procurementMethod"] == "direct"
    assert release["tender"]["procurementMethodDetails"] == "单一来源"


def test_objections_are_taken_during_the_notice_and_hold_the_negotiation(
    agent, staff, supplier, other_supplier
):
    with travel(START - dt.timedelta(hours=1)):
        project = published(agent, staff, **fields(supplier))
    lot = project.lots.get()
    with travel(NOTICE_ENDS):
        objection = services.raise_objection(
            Actor.for_user(other_supplier), project, text="我公司同样具备升级该系统的能力。"
        )
    with travel(NOTICE_ENDS + dt.timedelta(minutes=1)), pytest.raises(TooLate):
        services.raise_objection(Actor.for_user(other_supplier), project, text="太迟")
    with travel(TALKS + dt.timedelta(hours=1)), pytest.raises(Suspended):
        single_source.record_agreement(
            Actor.for_user(agent), lot, price="450000", minutes="协商", participants="甲、乙"
        )
    with travel(TALKS + dt.timedelta(hours=2)):
        services.reply_objection(
            Actor.for_user(agent), objection, reply="经专业人员论证，著作权人唯一，异议不成立。"
        )
    # Only the named supplier takes part.
    with travel(START + dt.timedelta(hours=1)), pytest.raises(NotPermitted):
        services.register(Actor.for_user(other_supplier), lot)


def test_the_agreed_price_within_the_budget_is_awarded_at_once(agent, staff, supplier):
    with travel(START - dt.timedelta(hours=1)):
        project = published(agent, staff, **fields(supplier))
    lot = project.lots.get()
    agent_actor = Actor.for_user(agent)
    with travel(TALKS - dt.timedelta(minutes=1)), pytest.raises(TooLate):
        single_source.record_agreement(
            agent_actor, lot, price="450000", minutes="协商", participants="甲、乙"
        )
    with travel(TALKS):
        with pytest.raises(DomainError) as dear:
            single_source.record_agreement(
                agent_actor, lot, price="460000.01", minutes="协商", participants="甲、乙"
            )
        assert dear.value.code == "PRICE_ABOVE_BUDGET"
        with pytest.raises(NotPermitted):
            single_source.record_agreement(
                Actor.for_user(supplier), lot, price="450000", minutes="协商", participants="甲"
            )
        awarded = single_source.record_agreement(
            agent_actor,
            lot,
            price="452000.00",
            minutes="供应商报价 468,000 元，经协商降至 452,000 元，工期 60 日。",
            participants="采购人代表张三、专家李四、王五",
        )
        with pytest.raises(DomainError) as again:
            single_source.record_agreement(
                agent_actor, lot, price="450000", minutes="协商", participants="甲"
            )
        assert again.value.code == "ALREADY_AGREED"
    assert awarded.status == Publicity.Status.AWARDED
    assert awarded.winner == supplier.organization
    assert awarded.candidates[0]["price"] == "452000.00"
    assert Announcement.objects.filter(project=project, kind="result").exists()
    agreed = AuditEvent.objects.get(action="bidding.single_source.agreed").payload
    assert agreed["price"] == "452000.00"


def test_single_source_is_government_procurements_own(agent, supplier):
    with travel(START - dt.timedelta(hours=1)):
        project = draft(
            agent, **{**fields(supplier), "kind": Project.Kind.CONSTRUCTION, "category": "works"}
        )
        with pytest.raises(ScheduleError) as refused:
            services.submit_project(Actor.for_user(agent), project)
    assert refused.value.code == "METHOD_NOT_ALLOWED"


def test_the_agent_records_the_agreement_on_the_page_and_everyone_sees_the_result(
    agent, staff, supplier, other_supplier
):
    with travel(START - dt.timedelta(hours=1)):
        project = published(agent, staff, **fields(supplier))
    lot = project.lots.get()
    url = f"/bidding/lots/{lot.pk}/single-source/"
    as_agent, as_supplier, as_other = Client(), Client(), Client()
    as_agent.force_login(agent)
    as_supplier.force_login(supplier)
    as_other.force_login(other_supplier)
    with travel(TALKS - dt.timedelta(hours=1)):
        page = as_agent.get(url).content.decode()
        assert 'data-testid="agreement-form"' in page and supplier.organization.name in page
        assert 'data-testid="agreement-form"' not in as_supplier.get(url).content.decode()
        early = as_agent.post(url, {"price": "450000", "minutes": "协商", "participants": "甲"})
        assert early.status_code == 409 and 'data-code="TOO_EARLY"' in early.content.decode()
    with travel(TALKS + dt.timedelta(minutes=5)):
        bad = as_agent.post(url, {"price": "45万", "minutes": "协商", "participants": "甲"})
        assert bad.status_code == 400
        done = as_agent.post(
            url,
            {
                "price": "451000.00",
                "minutes": "经协商，价格降至 451,000 元。",
                "participants": "张三、李四",
            },
        )
        assert done.status_code == 302
        mine = as_supplier.get(url).content.decode()
        theirs = as_other.get(url).content.decode()
    assert "451000.00" in mine and "经协商" in mine
    assert "451000.00" in theirs and "经协商" not in theirs  # the minutes stay with the parties
    assert Publicity.objects.get(lot=lot).status == Publicity.Status.AWARDED


def test_the_api_records_the_agreement_and_hides_the_minutes_from_others(
    agent, staff, supplier, other_supplier, api
):
    with travel(START - dt.timedelta(hours=1)):
        project = published(agent, staff, **fields(supplier))
    url = f"/api/v1/bidding/lots/{project.lots.get().pk}/single-source/"
    with travel(TALKS + dt.timedelta(minutes=5)):
        for body, code in (
            ({"price": 451000, "minutes": "m", "participants": "p"}, "AMOUNT_NOT_STRING"),
            ({"price": "451000", "minutes": "m", "participants": "p", "x": 1}, "UNKNOWN_FIELD"),
            ({"price": "451000", "minutes": "a\x00b", "participants": "p"}, None),
        ):
            refused = api(agent).post(url, body, format="json")
            assert refused.status_code == 400, refused.content
            if code:
                assert code in refused.content.decode()
        assert (
            api(supplier)
            .post(url, {"price": "451000", "minutes": "m", "participants": "p"}, format="json")
            .status_code
            == 403
        )
        done = api(agent).post(
            url,
            {"price": "451000.00", "minutes": "协商记录", "participants": "张三"},
            format="json",
        )
        assert done.status_code == 201, done.content
        assert done.json()["agreement"]["price"] == "451000.00"
        theirs = api(other_supplier).get(url).json()
    assert (
        theirs["agreement"]["minutes"] is None
        and theirs["supplier"]["name"] == supplier.organization.name
    )
