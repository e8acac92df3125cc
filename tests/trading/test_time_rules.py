"""Every legal period of the tender timeline, with travelled time (trading.rules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AuditEvent
from clock.calendar import is_workday
from lib.errors import DomainError
from notifications.models import Notice
from tests.trading.factories import beijing, draft, published, timeline
from trading import services
from trading.exceptions import DepositRuleError, ScheduleError, Suspended, TooLate
from trading.models import Announcement, Project
from trading.rules import deadline_after, rules_for_kind

pytestmark = pytest.mark.django_db

# A Monday morning in a year chinese-calendar covers; the whole tender runs inside 2026.
T0 = beijing("2026-03-02 09:00")


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def submit(agent, project):
    return services.submit_project(Actor.for_user(agent), project)


# --- 20 days from documents to deadline, 5-day document window ------------------------------------


def test_twenty_days_from_documents_to_deadline_is_enough(agent):
    with travel(T0):
        project = draft(agent, start=T0, **timeline(T0, days_to_deadline=20))
        submit(agent, project)


def test_nineteen_days_is_refused(agent):
    with travel(T0):
        project = draft(agent, start=T0, **timeline(T0, days_to_deadline=20))
        services.update_project(
            Actor.for_user(agent), project, bid_deadline=T0 + dt.timedelta(days=19, hours=23)
        )
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
    assert refused.value.code == "BIDDING_PERIOD_TOO_SHORT"


def test_gp_tenders_also_need_twenty_days(agent):
    with travel(T0):
        project = draft(
            agent,
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            lots=[{"name": "设备", "estimate": "1000000", "deposit_amount": "0"}],
            **timeline(T0, days_to_deadline=19),
        )
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
    assert refused.value.code == "BIDDING_PERIOD_TOO_SHORT"


def test_the_periods_count_from_publication_when_that_is_later(agent, staff):
    """Approved late: documents can only be had from publication on, so 20 days count from then."""
    with travel(T0):
        project = draft(
            agent,
            start=T0 + dt.timedelta(hours=1),
            **timeline(T0 + dt.timedelta(hours=1), days_to_deadline=20),
        )
        submit(agent, project)
        services.approve_project(Actor.for_user(staff), project)
    with travel(T0 + dt.timedelta(days=2)), pytest.raises(ScheduleError) as refused:
        services.publish_project(Actor.for_user(agent), project)
    assert refused.value.code == "BIDDING_PERIOD_TOO_SHORT"
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED
    assert not Announcement.objects.exists()


def test_documents_must_be_available_five_days(agent):
    with travel(T0):
        project = draft(agent, start=T0, **timeline(T0, window_days=4))
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
    assert refused.value.code == "DOCUMENT_WINDOW_TOO_SHORT"


def test_a_working_day_window_skips_the_national_day_holiday(agent, settings):
    settings.TRADING_RULES = {"construction": {"min_document_window": {"days": 5, "working": True}}}
    # From Wednesday 30 Sept 2026: 1–7 Oct are holidays, Sat 10 Oct is a make-up workday, so the
    # working days after it are 8, 9, 10, 12 and 13 October.
    start = beijing("2026-09-30 09:00")
    assert not is_workday(beijing("2026-10-05 09:00"))
    assert is_workday(beijing("2026-10-10 09:00"))
    with travel(start - dt.timedelta(hours=1)):
        too_short = draft(agent, start=start, **timeline(start, window_days=12))  # until 12 Oct
        with pytest.raises(ScheduleError) as refused:
            submit(agent, too_short)
        assert refused.value.code == "DOCUMENT_WINDOW_TOO_SHORT"
        enough = draft(agent, start=start, **timeline(start, window_days=13))  # until 13 Oct
        submit(agent, enough)


def test_questions_and_deposits_close_before_the_bid_deadline(agent):
    with travel(T0):
        project = draft(
            agent, start=T0, **{**timeline(T0), "questions_until": T0 + dt.timedelta(days=26)}
        )
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
        assert refused.value.code == "QUESTIONS_AFTER_DEADLINE"


# --- Invitation, deposits --------------------------------------------------------------------------


def test_an_invitation_tender_needs_three_invitees(agent, supplier, other_supplier):
    from tests.conftest import make_org

    third = make_org("supplier", "丙公司")
    with travel(T0):
        project = draft(
            agent,
            start=T0,
            method=Project.Method.INVITATION,
            invitees=[supplier.organization_id, other_supplier.organization_id],
        )
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
        assert refused.value.code == "TOO_FEW_INVITEES"
        services.update_project(
            Actor.for_user(agent),
            project,
            invitees=[supplier.organization_id, other_supplier.organization_id, third.pk],
        )
        submit(agent, project)


@pytest.mark.parametrize(
    ("category", "estimate", "deposit", "forms", "code"),
    [
        ("works", "10000000", "200000.01", ["cash"], "DEPOSIT_OVER_PERCENT"),  # > 2 %
        ("works", "50000000", "800000.01", ["cash"], "DEPOSIT_OVER_CEILING"),  # > 800,000
        ("goods", "50000000", "800000.01", ["cash"], "DEPOSIT_OVER_CEILING"),
        ("housing_municipal", "50000000", "500000.01", ["cash"], "DEPOSIT_OVER_CEILING"),
        ("survey_design", "10000000", "100000.01", ["cash"], "DEPOSIT_OVER_CEILING"),
        ("works", "10000000", "1000", [], "DEPOSIT_FORMS_REQUIRED"),
    ],
)
def test_construction_deposit_caps(agent, category, estimate, deposit, forms, code):
    lots = [
        {"name": "一标段", "estimate": estimate, "deposit_amount": deposit, "deposit_forms": forms}
    ]
    with pytest.raises(DepositRuleError) as refused:
        draft(agent, category=category, lots=lots)
    assert refused.value.code == code


def test_deposits_at_the_caps_are_allowed(agent):
    draft(
        agent,
        lots=[
            {
                "name": "a",
                "estimate": "40000000",
                "deposit_amount": "800000",
                "deposit_forms": ["cash"],
            }
        ],
    )
    draft(
        agent,
        lots=[
            {
                "name": "b",
                "estimate": "10000000",
                "deposit_amount": "200000",
                "deposit_forms": ["cash"],
            }
        ],
    )
    draft(
        agent,
        category="survey_design",
        lots=[
            {
                "name": "c",
                "estimate": "5000000",
                "deposit_amount": "100000",
                "deposit_forms": ["bank_guarantee"],
            }
        ],
    )


GP_LEGAL_FORMS = [
    "cash",  # a transfer from the supplier's 基本账户: non-cash settlement (trading.rules)
    "bank_guarantee",
    "insurance_guarantee",
    "cheque",
    "draft",
    "promissory_note",
]


def gp_lot(deposit: str, forms: list[str]) -> dict:
    return {"name": "a", "estimate": "1000000", "deposit_amount": deposit, "deposit_forms": forms}


def test_gp_deposits_are_two_percent_of_budget_in_any_form_the_supplier_chooses(agent):
    gp = {"kind": Project.Kind.GOVERNMENT_PROCUREMENT, "category": Project.Category.GOODS}
    with pytest.raises(DepositRuleError) as refused:
        draft(agent, **gp, lots=[gp_lot("20000.01", GP_LEGAL_FORMS)])
    assert refused.value.code == "DEPOSIT_OVER_PERCENT"
    # The agent may not narrow the supplier's choice (财库〔2019〕38号).
    for narrowed in (["bank_guarantee", "insurance_guarantee"], GP_LEGAL_FORMS[1:]):
        with pytest.raises(DepositRuleError) as refused:
            draft(agent, **gp, lots=[gp_lot("20000", narrowed)])
        assert refused.value.code == "DEPOSIT_FORMS_NARROWED"
    # Naming no form offers the whole legal set; naming all of them is the same.
    offered = draft(agent, **gp, lots=[gp_lot("20000", [])]).lots.get()
    assert sorted(offered.deposit_forms) == sorted(GP_LEGAL_FORMS)
    assert offered.deposit_amount == Decimal("20000.00")
    explicit = draft(agent, **gp, lots=[gp_lot("20000", GP_LEGAL_FORMS)]).lots.get()
    assert sorted(explicit.deposit_forms) == sorted(GP_LEGAL_FORMS)
    # Without a deposit there is nothing to choose.
    assert draft(agent, **gp, lots=[gp_lot("0", [])]).lots.get().deposit_forms == []


def test_a_center_that_refuses_gp_transfers_still_offers_every_instrument(agent, settings):
    settings.TRADING_RULES = {
        "gp": {"deposit_caps": {"goods": {"percent_of_estimate": "0.02", "cash_allowed": False}}}
    }
    gp = {"kind": Project.Kind.GOVERNMENT_PROCUREMENT, "category": Project.Category.GOODS}
    with pytest.raises(DepositRuleError) as refused:
        draft(agent, **gp, lots=[gp_lot("20000", GP_LEGAL_FORMS)])
    assert refused.value.code == "CASH_DEPOSIT_NOT_ALLOWED"
    with pytest.raises(DepositRuleError) as refused:
        draft(agent, **gp, lots=[gp_lot("20000", ["cheque", "draft", "promissory_note"])])
    assert refused.value.code == "DEPOSIT_FORMS_NARROWED"
    offered = draft(agent, **gp, lots=[gp_lot("20000", [])]).lots.get()
    assert sorted(offered.deposit_forms) == sorted(GP_LEGAL_FORMS[1:])


# --- Amendments and clarifications keep 15 days ---------------------------------------------------


def test_an_amendment_fifteen_days_ahead_leaves_the_deadline(agent, staff):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
    deadline = project.bid_deadline
    with travel(deadline - dt.timedelta(days=15, minutes=1)):
        services.publish_amendment(
            Actor.for_user(agent), project, title="补充工程量清单", body="见附件"
        )
    project.refresh_from_db()
    assert project.bid_deadline == deadline


def test_a_late_amendment_extends_the_deadline_to_keep_fifteen_days(agent, staff, supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
    with travel(T0 + dt.timedelta(hours=1)):
        services.register(Actor.for_user(supplier), project.lots.get())
    deadline = project.bid_deadline  # 2026-03-27 09:01, a Friday
    amended_at = deadline - dt.timedelta(days=10)
    with travel(amended_at):
        services.publish_amendment(
            Actor.for_user(agent), project, title="修改技术参数", body="第三章第2条修改为……"
        )
    project.refresh_from_db()
    assert project.bid_deadline >= amended_at + dt.timedelta(days=15)
    assert project.bid_deadline < amended_at + dt.timedelta(days=16, hours=1)
    local = timezone.localtime(project.bid_deadline)
    assert (local.hour, local.minute) == (9, 1)  # the same time of day as before
    assert is_workday(project.bid_deadline)
    assert project.deposit_deadline == project.bid_deadline
    # A new version of the tender notice states the new deadline; the amendment says why.
    versions = Announcement.objects.get(project=project, kind="tender").versions.order_by("number")
    assert [v.number for v in versions] == [1, 2]
    assert (
        versions[1].content["project"]["timeline"]["bid_deadline"]
        != versions[0].content["project"]["timeline"]["bid_deadline"]
    )
    assert versions[1].content["previous_sha256"] == versions[0].sha256
    amendment = Announcement.objects.get(project=project, kind="amendment").versions.get()
    assert "顺延" in amendment.body
    moved = AuditEvent.objects.get(action="trading.project.deadline_moved")
    assert moved.payload["why"] == "notice_period"
    # The supplier's bid operators are told of the amendment and, as a legal deadline, of the new date.
    told = {n.kind: n for n in Notice.objects.filter(recipient=supplier)}
    assert {"tender.amended", "deadline.moved"} <= set(told)
    assert "顺延" in told["tender.amended"].body
    assert told["deadline.moved"].due_at == project.bid_deadline


def test_an_extended_deadline_skips_to_a_working_day(agent, staff):
    """Eight days before a deadline of Thursday 24 Sept: 15 days later is 1 October, the National Day."""
    start = beijing("2026-08-31 09:00")
    with travel(start - dt.timedelta(minutes=5)):
        project = published(agent, staff, start=start, **timeline(start, days_to_deadline=24))
    assert timezone.localtime(project.bid_deadline).date() == dt.date(2026, 9, 24)
    with travel(beijing("2026-09-16 10:00")):
        services.publish_amendment(Actor.for_user(agent), project, title="变更", body="变更内容")
    project.refresh_from_db()
    assert timezone.localtime(project.bid_deadline).date() == dt.date(2026, 10, 8)


def test_an_answer_that_affects_bids_extends_like_an_amendment(agent, staff, supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
        question = services.ask_question(
            Actor.for_user(supplier), project, text="是否允许联合体投标？"
        )
    answered_at = project.bid_deadline - dt.timedelta(days=17)
    with travel(answered_at):
        # A mere answer leaves the deadline alone…
        services.answer_question(Actor.for_user(agent), question, answer="不接受联合体投标。")
    project.refresh_from_db()
    original = project.bid_deadline
    with travel(project.questions_until - dt.timedelta(minutes=1)):
        late_question = services.ask_question(Actor.for_user(supplier), project, text="工期要求？")
    with travel(original - dt.timedelta(days=5)):
        # …one that changes how bids are prepared moves it.
        services.answer_question(
            Actor.for_user(agent),
            late_question,
            answer="工期改为 300 天。",
            affects_bid_preparation=True,
        )
    project.refresh_from_db()
    assert project.bid_deadline >= original - dt.timedelta(days=5) + dt.timedelta(days=15)
    clarification = Announcement.objects.get(project=project, kind="clarification")
    assert clarification.version_count == 2
    latest = clarification.versions.order_by("-number").first()
    assert "工期改为 300 天" in latest.body
    assert supplier.organization.name not in latest.body  # askers stay anonymous


def test_questions_close_at_the_question_deadline(agent, staff, supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
    with travel(project.questions_until + dt.timedelta(seconds=1)), pytest.raises(TooLate):
        services.ask_question(Actor.for_user(supplier), project, text="还能问吗？")


def test_no_amendment_after_the_deadline(agent, staff):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
    with travel(project.bid_deadline), pytest.raises(TooLate):
        services.publish_amendment(Actor.for_user(agent), project, title="迟到的变更", body="x")


# --- Objections -----------------------------------------------------------------------------------


def test_objections_are_accepted_until_ten_days_before_the_deadline(agent, staff, supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
    with travel(project.bid_deadline - dt.timedelta(days=10)):
        services.raise_objection(Actor.for_user(supplier), project, text="资格条件排斥潜在投标人")
    just_late = project.bid_deadline - dt.timedelta(days=10) + dt.timedelta(seconds=1)
    with travel(just_late), pytest.raises(TooLate):
        services.raise_objection(Actor.for_user(supplier), project, text="再提一条")


def test_an_open_objection_suspends_the_tender_and_the_reply_restores_the_lost_time(
    agent, staff, supplier, other_supplier
):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
    deadline = project.bid_deadline
    raised = T0 + dt.timedelta(days=3)
    with travel(raised):
        objection = services.raise_objection(
            Actor.for_user(supplier), project, text="评分标准不合理"
        )
    # Three days from Thursday 5 March end on Sunday: the reply is due on Monday, same time.
    assert objection.reply_due_at == beijing("2026-03-09 09:00")
    with travel(raised + dt.timedelta(days=1)):
        assert services.is_suspended(project)
        with pytest.raises(Suspended):
            services.register(Actor.for_user(other_supplier), project.lots.get())
    replied = raised + dt.timedelta(days=2)
    with travel(replied):
        services.reply_objection(
            Actor.for_user(agent), objection, reply="已修改评分标准，见变更公告。"
        )
    project.refresh_from_db()
    assert not services.is_suspended(project)
    assert project.bid_deadline >= deadline + dt.timedelta(days=2)
    assert is_workday(project.bid_deadline)
    with travel(replied + dt.timedelta(minutes=1)):
        services.register(Actor.for_user(other_supplier), project.lots.get())


def test_only_the_projects_agent_replies_to_objections(agent, staff, supplier):
    from lib.errors import NotPermitted

    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
        objection = services.raise_objection(Actor.for_user(supplier), project, text="异议")
        with pytest.raises(NotPermitted):
            services.reply_objection(Actor.for_user(supplier), objection, reply="自问自答")
        with pytest.raises(DomainError):
            services.reply_objection(Actor.for_user(agent), objection, reply="  ")


def test_only_land_takes_foreign_currency_deposits(agent):
    lots = [
        {
            "name": "a",
            "estimate": "1000000",
            "deposit_amount": "20000",
            "deposit_forms": ["cash"],
            "deposit_currencies": ["CNY", "HKD"],
        }
    ]
    with pytest.raises(DepositRuleError) as refused:
        draft(agent, lots=lots)
    assert refused.value.code == "FOREIGN_CURRENCY_NOT_ALLOWED"
    land = draft(
        agent,
        kind=Project.Kind.LAND,
        category=Project.Category.LAND,
        method=Project.Method.LAND_LISTING,
        lots=lots,
    )
    assert land.lots.get().deposit_currencies == ["CNY", "HKD"]


# --- Working days: GP counts them (87号令, 政府采购法 Art.52–53) -------------------------------------

GP = {
    "kind": Project.Kind.GOVERNMENT_PROCUREMENT,
    "category": Project.Category.GOODS,
    "lots": [{"name": "设备", "estimate": "1000000", "deposit_amount": "0"}],
}


@pytest.mark.parametrize(
    ("start", "until", "enough"),
    [
        # Monday 2 March: 5 working days later is Monday 9 March (across a weekend), same time.
        ("2026-03-02 09:00", "2026-03-09 08:59", False),
        ("2026-03-02 09:00", "2026-03-09 09:00", True),
        # Monday 28 Sept: 29, 30 Sept, then 1–7 Oct off, 8, 9 and the make-up Saturday 10 Oct.
        ("2026-09-28 09:00", "2026-10-09 17:00", False),
        ("2026-09-28 09:00", "2026-10-10 09:00", True),
    ],
)
def test_gp_documents_are_obtainable_five_working_days(agent, start, until, enough):
    start = beijing(start)
    fields = {
        **timeline(start, days_to_deadline=25),
        "documents_until": beijing(until),
        "questions_until": start + dt.timedelta(days=16),
    }
    with travel(start - dt.timedelta(hours=1)):
        project = draft(agent, start=start, **GP, **fields)
        if enough:
            submit(agent, project)
            return
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
    assert refused.value.code == "DOCUMENT_WINDOW_TOO_SHORT"
    assert "5 个工作日" in refused.value.message


def test_gp_objections_close_seven_working_days_after_the_documents_and_get_seven_to_answer(
    agent, staff, supplier
):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1), **GP)
    assert project.documents_until == beijing("2026-03-09 09:01")
    with travel(beijing("2026-03-04 10:00")):
        objection = services.raise_objection(Actor.for_user(supplier), project, text="参数倾向性")
    # Wednesday 4 March + 7 working days = Friday 13 March (政府采购法 Art.53).
    assert objection.reply_due_at == beijing("2026-03-13 10:00")
    with travel(beijing("2026-03-05 10:00")):
        services.reply_objection(Actor.for_user(agent), objection, reply="已修改。")
    project.refresh_from_db()
    # Documents until Monday 9 March → 7 working days → Wednesday 18 March, same time.
    with travel(beijing("2026-03-18 09:01")):
        services.raise_objection(Actor.for_user(supplier), project, text="评分办法")
    with travel(beijing("2026-03-18 09:01:01")), pytest.raises(TooLate):
        services.raise_objection(Actor.for_user(supplier), project, text="太迟")


def test_an_objection_reply_due_on_a_holiday_moves_to_the_next_working_day(agent, staff, supplier):
    start = beijing("2026-09-07 09:00")
    with travel(start):
        project = published(
            agent,
            staff,
            start=start + dt.timedelta(minutes=1),
            **{
                **timeline(start + dt.timedelta(minutes=1), days_to_deadline=35),
                "questions_until": beijing("2026-09-22 17:00"),
            },
        )
    raised = beijing("2026-09-28 10:00")  # three days on is 1 October
    with travel(raised):
        objection = services.raise_objection(Actor.for_user(supplier), project, text="异议")
    assert objection.reply_due_at == beijing("2026-10-08 10:00")


@pytest.mark.parametrize(
    ("kind", "period", "start", "end"),
    [
        # 中标候选人公示 ≥ 3 days from Tuesday 29 Sept: the 2nd of October is off → 8 October.
        ("construction", "candidate_publicity", "2026-09-29 10:00", "2026-10-08 10:00"),
        # From Thursday 24 Sept: 3 days end on Sunday 27 Sept, inside the 中秋 holiday → Monday.
        ("construction", "candidate_publicity", "2026-09-24 10:00", "2026-09-28 10:00"),
        # GP: 7 working days to answer an objection to the candidates.
        ("gp", "publicity_objection_reply", "2026-03-02 10:00", "2026-03-11 10:00"),
        # 30 days to the contract ending on Saturday 4 April 2026 (清明 on the 5th, off the 6th).
        ("construction", "contract_after_award", "2026-03-05 10:00", "2026-04-07 10:00"),
    ],
)
def test_periods_for_acting_end_on_a_working_day(kind, period, start, end):
    rules = rules_for_kind(kind)
    assert deadline_after(beijing(start), getattr(rules, period), rules) == beijing(end)


# --- No deadline on a statutory holiday ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "moment", "label"),
    [
        ("bid_deadline", "2026-10-01 09:00", "投标截止/开标时间"),
        ("questions_until", "2026-06-19 17:00", "提问截止"),  # 端午节
        ("deposit_deadline", "2026-04-06 17:00", "保证金到账截止"),  # 清明 day off in lieu
    ],
)
def test_an_agent_cannot_set_a_deadline_on_a_holiday(agent, field, moment, label):
    start = beijing("2026-05-11 09:00")
    with travel(start - dt.timedelta(hours=1)):
        fields = {**timeline(start, days_to_deadline=150), field: beijing(moment)}
        project = draft(agent, start=start, **fields)
        with pytest.raises(ScheduleError) as refused:
            submit(agent, project)
    assert refused.value.code == "HOLIDAY_DEADLINE"
    assert label in refused.value.message


def test_an_ordinary_weekend_deadline_is_not_a_holiday(agent):
    with travel(T0):
        # 28 March 2026 is a Saturday.
        project = draft(agent, start=T0, bid_deadline=beijing("2026-03-28 10:00"))
        submit(agent, project)


def test_an_amendment_cannot_set_the_deadline_on_a_holiday(agent, staff):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1))
    with travel(T0 + dt.timedelta(days=2)), pytest.raises(ScheduleError) as refused:
        services.publish_amendment(
            Actor.for_user(agent),
            project,
            title="延期",
            body="投标截止时间延期",
            bid_deadline=beijing("2026-04-06 09:30"),
        )
    assert refused.value.code == "HOLIDAY_DEADLINE"


def test_a_deadline_moved_past_the_packages_years_skips_new_years_day(agent, staff):
    """No 2027 data: an amendment on 17 December 2026 needs 15 days, which end on 1 January 2027."""
    start = beijing("2026-12-01 09:00")
    with travel(start):
        project = published(
            agent,
            staff,
            start=start + dt.timedelta(minutes=1),
            **timeline(start + dt.timedelta(minutes=1), days_to_deadline=27),
        )
    assert timezone.localtime(project.bid_deadline).date() == dt.date(2026, 12, 28)
    with travel(beijing("2026-12-17 08:00")):
        services.publish_amendment(Actor.for_user(agent), project, title="变更", body="变更内容")
    project.refresh_from_db()
    # Friday 1 January is New Year's Day: Monday the 4th, at the deadline's time of day.
    assert project.bid_deadline == beijing("2027-01-04 09:01")


def test_a_deadline_moved_into_the_2027_spring_festival_skips_it(agent, staff):
    start = beijing("2027-01-04 09:00")
    with travel(start):
        project = published(agent, staff, start=start + dt.timedelta(minutes=1))
    with travel(beijing("2027-01-21 08:00")):
        services.publish_amendment(Actor.for_user(agent), project, title="变更", body="变更内容")
    project.refresh_from_db()
    # 15 days end on Friday 5 February, 除夕: the festival runs to Monday the 8th.
    assert project.bid_deadline == beijing("2027-02-09 09:01")
