"""Complaint cases through the services, on travelled time: every period of complaints.rules at its
boundary and one minute off, across weekends, holidays and make-up working days; the suspension and
what it does to the running clocks; who may do what."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.test import Client
from pypdf import PdfReader

from accounts.actors import Actor
from audit.models import AuditEvent
from clock.models import ScheduledTask
from clock.services import run_due
from complaints import services
from complaints.models import Complaint, MaterialRequest
from complaints.pdf import decision_sha256
from lib.errors import DomainError, NotPermitted
from notifications.models import Notice
from notifications.todo import items_for
from tests.trading.factories import beijing, published, timeline
from trading import services as trading
from trading.exceptions import Suspended, TooLate
from trading.models import Project, Suspension

pytestmark = pytest.mark.django_db

GP_LOT = [{"name": "设备", "estimate": "1000000", "deposit_amount": "0"}]


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def gp_project(agent, staff, start: dt.datetime, window_days: int = 7) -> Project:
    with travel(start):
        return published(
            agent,
            staff,
            start=start + dt.timedelta(minutes=1),
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            lots=GP_LOT,
            **timeline(
                start + dt.timedelta(minutes=1), days_to_deadline=25, window_days=window_days
            ),
        )


def as_(user) -> Actor:
    return Actor.for_user(user)


def file(supplier, project, **fields) -> Complaint:
    fields.setdefault("subject", Complaint.Subject.DOCUMENTS)
    fields.setdefault("facts", "评分标准设置了指定品牌的技术参数，排斥潜在供应商。")
    fields.setdefault("claims", "责令修改采购文件。")
    return services.file_complaint(as_(supplier), project, **fields)


def codes(refusal) -> str:
    return str(refusal.value.code)


# --- Filing windows ---------------------------------------------------------------------------------


def test_a_gp_complaint_waits_for_the_challenge_and_closes_fifteen_working_days_after_its_reply_period(
    agent, staff, supplier
):
    project = gp_project(agent, staff, beijing("2026-03-02 09:00"))
    with travel(beijing("2026-03-04 10:00")):
        challenge = trading.raise_objection(as_(supplier), project, text="参数指向特定品牌")
    assert challenge.reply_due_at == beijing("2026-03-13 10:00")

    # No answer yet and its period still running: the challenge comes first (政府采购法 Art.55).
    with travel(beijing("2026-03-13 09:59")), pytest.raises(DomainError) as pending:
        file(supplier, project, objection=challenge)
    assert codes(pending) == "OBJECTION_PENDING"

    # Unanswered when its period ends: the supplier may complain from then on, for 15 working days:
    # Friday 13 March + 15 working days (Qingming is 4–6 April) = Friday 3 April, same time.
    with travel(beijing("2026-04-03 10:01")), pytest.raises(TooLate) as late:
        file(supplier, project, objection=challenge)
    assert codes(late) == "COMPLAINT_WINDOW_CLOSED"
    with travel(beijing("2026-04-03 10:00")):
        complaint = file(supplier, project, objection=challenge)

    assert complaint.regime == Complaint.Regime.GP
    assert complaint.number.startswith("TS2026-")
    # 5 working days to decide on acceptance (94号 Art.21); 30 to decide, from receipt (Art.56).
    assert complaint.acceptance_due_at == beijing("2026-04-13 10:00")
    # 3 April + 30 working days (6 April and 1–5 May off, Saturday 9 May worked) = 20 May.
    assert complaint.decision_due_at == beijing("2026-05-20 10:00")
    event = AuditEvent.objects.get(action="complaints.complaint.filed")
    assert event.payload["window_closes"].startswith("2026-04-03T02:00")


def test_an_early_gp_reply_opens_the_window_without_shortening_it(agent, staff, supplier):
    project = gp_project(agent, staff, beijing("2026-03-02 09:00"))
    with travel(beijing("2026-03-04 10:00")):
        challenge = trading.raise_objection(as_(supplier), project, text="参数指向特定品牌")
    with travel(beijing("2026-03-05 10:00")):
        trading.reply_objection(as_(agent), challenge, reply="参数为行业通用标准。")
    with travel(beijing("2026-03-05 10:01")):
        complaint = file(supplier, project, objection=challenge)
    assert complaint.knew_at == beijing("2026-03-05 10:00")


def test_a_gp_window_across_labour_day_counts_the_make_up_saturday(agent, staff, supplier):
    project = gp_project(agent, staff, beijing("2026-03-30 09:00"), window_days=14)
    with travel(beijing("2026-04-09 10:00")):
        challenge = trading.raise_objection(as_(supplier), project, text="资格条件过高")
    assert challenge.reply_due_at == beijing("2026-04-20 10:00")
    # 20 April + 15 working days: 1–5 May are off, Saturday 9 May is worked → Wednesday 13 May.
    with travel(beijing("2026-05-13 10:01")), pytest.raises(TooLate):
        file(supplier, project, objection=challenge)
    with travel(beijing("2026-05-13 10:00")):
        file(supplier, project, objection=challenge)


def test_gp_complaints_always_follow_a_challenge(agent, staff, supplier):
    project = gp_project(agent, staff, beijing("2026-03-02 09:00"))
    with travel(beijing("2026-03-04 10:00")):
        trading.register(as_(supplier), project.lots.get())
        with pytest.raises(DomainError) as refused:
            file(
                supplier,
                project,
                subject=Complaint.Subject.PROCESS,
                knew_at=beijing("2026-03-03 10:00"),
            )
    assert codes(refused) == "OBJECTION_FIRST"


def engineering_project(agent, staff) -> Project:
    start = beijing("2026-04-07 09:00")
    with travel(start):
        return published(
            agent,
            staff,
            start=start + dt.timedelta(minutes=1),
            **{
                **timeline(start + dt.timedelta(minutes=1), days_to_deadline=30),
                "questions_until": beijing("2026-04-21 17:00"),
            },
        )


def test_an_engineering_complaint_has_ten_days_from_the_answer_ending_on_a_working_day(
    agent, staff, supplier
):
    project = engineering_project(agent, staff)
    with travel(beijing("2026-04-22 10:00")):
        objection = trading.raise_objection(as_(supplier), project, text="工期要求不合理")
    with travel(beijing("2026-04-24 10:00")):
        trading.reply_objection(as_(agent), objection, reply="工期按定额计算。")
    # 24 April + 10 days = 4 May, inside the Labour Day holiday → Wednesday 6 May (民法典 Art.203).
    with travel(beijing("2026-05-06 10:01")), pytest.raises(TooLate):
        file(supplier, project, objection=objection)
    with travel(beijing("2026-05-06 10:00")):
        complaint = file(supplier, project, objection=objection)
    assert complaint.regime == Complaint.Regime.TENDER
    # Engineering: 3 working days to accept (条例 Art.61); the 30 count from acceptance.
    assert complaint.acceptance_due_at == beijing("2026-05-09 10:00")  # the make-up Saturday
    assert complaint.decision_due_at is None


def test_an_engineering_process_complaint_needs_no_objection_but_a_date_of_knowing(
    agent, staff, supplier, other_supplier
):
    project = engineering_project(agent, staff)
    lot = project.lots.get()
    with travel(beijing("2026-04-08 10:00")):
        trading.register(as_(supplier), lot)
    with travel(beijing("2026-04-20 10:00")):
        with pytest.raises(DomainError) as undated:
            file(supplier, project, subject=Complaint.Subject.PROCESS)
        assert codes(undated) == "KNEW_AT_REQUIRED"
        with pytest.raises(DomainError) as documents:
            file(supplier, project, subject=Complaint.Subject.DOCUMENTS)
        assert codes(documents) == "OBJECTION_FIRST"
        # A supplier that took no part has no standing.
        with pytest.raises(NotPermitted):
            file(
                other_supplier,
                project,
                subject=Complaint.Subject.PROCESS,
                knew_at=beijing("2026-04-15 10:00"),
            )
        with pytest.raises(TooLate):
            file(
                supplier,
                project,
                subject=Complaint.Subject.PROCESS,
                knew_at=beijing("2026-04-10 09:59"),
            )
        complaint = file(
            supplier,
            project,
            subject=Complaint.Subject.PROCESS,
            knew_at=beijing("2026-04-10 10:00"),
        )
    assert complaint.subject == Complaint.Subject.PROCESS


def test_only_the_objector_may_complain_of_its_objection_and_only_once_at_a_time(
    agent, staff, supplier, other_supplier
):
    project = gp_project(agent, staff, beijing("2026-03-02 09:00"))
    with travel(beijing("2026-03-04 10:00")):
        challenge = trading.raise_objection(as_(supplier), project, text="参数指向特定品牌")
    with travel(beijing("2026-03-16 10:00")):
        with pytest.raises(NotPermitted):
            file(other_supplier, project, objection=challenge)
        with pytest.raises(NotPermitted):
            file(agent, project, objection=challenge)
        file(supplier, project, objection=challenge)
        with pytest.raises(DomainError) as again:
            file(supplier, project, objection=challenge)
    assert codes(again) == "DUPLICATE_COMPLAINT"


def test_unsafe_or_oversized_text_is_refused_and_nothing_is_filed(agent, staff, supplier):
    project = gp_project(agent, staff, beijing("2026-03-02 09:00"))
    with travel(beijing("2026-03-04 10:00")):
        challenge = trading.raise_objection(as_(supplier), project, text="参数指向特定品牌")
    with travel(beijing("2026-03-16 10:00")):
        for facts, code in (
            ("x" * 10_001, "TEXT_TOO_LONG"),
            ("a\x00b", "TEXT_INVALID_CHAR"),
            ("  ", "TEXT_REQUIRED"),
        ):
            with pytest.raises(DomainError) as refused:
                file(supplier, project, objection=challenge, facts=facts)
            assert codes(refused) == code
    assert not Complaint.objects.exists()


# --- Handling: acceptance, requests, decision ------------------------------------------------------


@pytest.fixture
def gp_case(agent, staff, supplier) -> Complaint:
    project = gp_project(agent, staff, beijing("2026-03-02 09:00"))
    with travel(beijing("2026-03-04 10:00")):
        challenge = trading.raise_objection(as_(supplier), project, text="参数指向特定品牌")
    with travel(beijing("2026-03-16 10:00")):
        return file(supplier, project, objection=challenge)


def test_only_the_regulator_accepts_and_the_respondent_is_asked_to_explain(
    gp_case, supervisor, staff, agent, supplier
):
    for outsider in (staff, agent, supplier):
        with travel(beijing("2026-03-17 10:00")), pytest.raises(NotPermitted):
            services.accept_complaint(as_(outsider), gp_case)
    with travel(beijing("2026-03-17 10:00")):
        accepted = services.accept_complaint(as_(supervisor), gp_case)
    assert accepted.status == Complaint.Status.ACCEPTED
    # GP counts 30 working days from receipt (16 March), not from acceptance.
    assert accepted.decision_due_at == beijing("2026-04-28 10:00")
    (explain,) = accepted.requests.all()
    assert explain.party == MaterialRequest.Party.RESPONDENT
    assert explain.due_at == beijing("2026-03-24 10:00")  # 5 working days
    assert Notice.objects.filter(recipient=agent, kind="complaint.material_requested").exists()
    with travel(beijing("2026-03-18 10:00")), pytest.raises(DomainError) as twice:
        services.accept_complaint(as_(supervisor), gp_case)
    assert codes(twice) == "WRONG_STATUS"


def test_the_asked_party_answers_in_time_and_uncounted_waiting_moves_the_decision(
    gp_case, supervisor, agent, supplier
):
    with travel(beijing("2026-03-17 10:00")):
        services.accept_complaint(as_(supervisor), gp_case)
    explain = gp_case.requests.get()
    with travel(beijing("2026-03-18 10:00")):
        with pytest.raises(NotPermitted):
            services.answer_request(as_(supplier), explain, answer="不是问我")
        services.answer_request(as_(agent), explain, answer="参数为行业标准，附检测报告。")
    with travel(beijing("2026-03-23 10:00")):
        supplement = services.request_material(
            as_(supervisor),
            gp_case,
            party=MaterialRequest.Party.COMPLAINANT,
            kind=MaterialRequest.Kind.SUPPLEMENT,
            text="请补充证明参数排他性的材料。",
            due_at=beijing("2026-03-30 17:00"),
        )
    with travel(beijing("2026-03-26 15:00")):
        services.answer_request(as_(supplier), supplement, answer="补充三家厂商的参数对比。")
    supplement.refresh_from_db()
    gp_case.refresh_from_db()
    # 23 → 26 March: three working days not counted (94号 Art.28): 28 April → 2 May is a holiday
    # week; the three days land on 6 May.
    assert supplement.paused_working_days == 3
    assert gp_case.decision_due_at == beijing("2026-05-06 10:00")
    with travel(beijing("2026-03-26 15:01")), pytest.raises(DomainError) as again:
        services.answer_request(as_(supplier), supplement, answer="再补充")
    assert codes(again) == "ALREADY_ANSWERED"


def test_a_late_answer_is_refused(gp_case, supervisor, agent):
    with travel(beijing("2026-03-17 10:00")):
        services.accept_complaint(as_(supervisor), gp_case)
    explain = gp_case.requests.get()
    with travel(explain.due_at + dt.timedelta(minutes=1)), pytest.raises(TooLate):
        services.answer_request(as_(agent), explain, answer="迟到的说明")


def test_the_decision_waits_for_open_requests_and_names_a_remedy_when_upheld(
    gp_case, supervisor, agent, supplier
):
    with travel(beijing("2026-03-17 10:00")):
        services.accept_complaint(as_(supervisor), gp_case)
    with travel(beijing("2026-03-18 10:00")):
        with pytest.raises(DomainError) as pending:
            services.decide_complaint(
                as_(supervisor), gp_case, outcome="dismissed", remedy="", decision="驳回"
            )
        assert codes(pending) == "REQUESTS_PENDING"
    # The respondent let its period pass: the regulator decides on the record.
    with travel(beijing("2026-03-24 10:01")):
        with pytest.raises(DomainError) as no_remedy:
            services.decide_complaint(
                as_(supervisor), gp_case, outcome="upheld", remedy="", decision="成立"
            )
        assert codes(no_remedy) == "REMEDY_REQUIRED"
        with pytest.raises(DomainError) as remedy_on_dismissal:
            services.decide_complaint(
                as_(supervisor), gp_case, outcome="dismissed", remedy="annul_award", decision="驳回"
            )
        assert codes(remedy_on_dismissal) == "REMEDY_INVALID"
        decided = services.decide_complaint(
            as_(supervisor),
            gp_case,
            outcome="upheld",
            remedy="correct",
            decision="采购文件含倾向性参数，责令修改后继续采购活动。",
        )
    assert decided.status == Complaint.Status.DECIDED
    assert decided.remedy == Complaint.Remedy.CORRECT
    for party in (agent, supplier):
        assert Notice.objects.filter(recipient=party, kind="complaint.decided").exists()
    with travel(beijing("2026-03-25 10:00")), pytest.raises(DomainError) as after:
        services.withdraw_complaint(as_(supplier), gp_case)
    assert codes(after) == "WRONG_STATUS"


def test_refusal_and_withdrawal_close_the_case(gp_case, supervisor, supplier, agent):
    with travel(beijing("2026-03-17 10:00")):
        with pytest.raises(NotPermitted):
            services.withdraw_complaint(as_(agent), gp_case)
        services.withdraw_complaint(as_(supplier), gp_case)
        with pytest.raises(DomainError) as closed:
            services.refuse_complaint(as_(supervisor), gp_case, reason="已撤回")
    assert codes(closed) == "WRONG_STATUS"
    assert list(
        AuditEvent.objects.filter(action__startswith="complaints.").values_list("action", flat=True)
    ) == ["complaints.complaint.filed", "complaints.complaint.withdrawn"]


# --- Suspension: the project stands still and gets its time back ------------------------------------


@pytest.fixture
def engineering_case(agent, staff, supplier, supervisor) -> Complaint:
    start = beijing("2026-03-02 09:00")
    with travel(start):
        project = published(
            agent,
            staff,
            start=start + dt.timedelta(minutes=1),
            **timeline(start + dt.timedelta(minutes=1), window_days=20),
        )
    with travel(beijing("2026-03-03 10:00")):
        trading.register(as_(supplier), project.lots.get())
    with travel(beijing("2026-03-10 10:00")):
        complaint = file(
            supplier,
            project,
            subject=Complaint.Subject.PROCESS,
            facts="代理机构向个别投标人透露了其他投标人的名称。",
            claims="调查并暂停招标活动。",
            knew_at=beijing("2026-03-09 10:00"),
        )
        services.accept_complaint(as_(supervisor), complaint)
    return complaint


def test_a_suspension_stops_the_tender_and_lifting_it_moves_the_deadline_by_the_time_it_stood(
    engineering_case, supervisor, other_supplier, supplier
):
    project = engineering_case.project
    assert project.bid_deadline == beijing("2026-03-27 09:01")
    with travel(beijing("2026-03-11 10:00")):
        with pytest.raises(DomainError) as too_long:
            services.suspend_procurement(as_(supervisor), engineering_case, reason="调查", days=31)
        assert codes(too_long) == "SUSPENSION_DAYS_INVALID"
        with pytest.raises(NotPermitted):
            services.suspend_procurement(as_(supplier), engineering_case, reason="调查", days=5)
        services.suspend_procurement(as_(supervisor), engineering_case, reason="调查泄密", days=5)
    assert trading.is_suspended(project)
    with travel(beijing("2026-03-12 10:00")), pytest.raises(Suspended):
        trading.register(as_(other_supplier), project.lots.get())
    assert Notice.objects.filter(recipient=supplier, kind="tender.suspended").exists()

    with travel(beijing("2026-03-13 10:00")):
        services.resume_procurement(as_(supervisor), engineering_case)
    project.refresh_from_db()
    # Two days stood still: 27 March + 2 days = Sunday 29 → the next working day, Monday 30.
    assert project.bid_deadline == beijing("2026-03-30 09:01")
    opening = ScheduledTask.objects.get(key=f"bidding.open_lot:{project.lots.get().pk}")
    assert opening.due_at == beijing("2026-03-30 09:01")
    assert not trading.is_suspended(project)
    with travel(beijing("2026-03-13 10:01")):
        trading.register(as_(other_supplier), project.lots.get())


def test_the_clock_lifts_a_suspension_when_its_days_run_out(engineering_case, supervisor):
    project = engineering_case.project
    with travel(beijing("2026-03-11 10:00")):
        services.suspend_procurement(as_(supervisor), engineering_case, reason="调查", days=3)
    with travel(beijing("2026-03-14 09:59")):
        run_due()
    assert Suspension.objects.get().lifted_at is None
    with travel(beijing("2026-03-14 10:00")):
        run_due()
    suspension = Suspension.objects.get()
    assert suspension.lifted_at == beijing("2026-03-14 10:00")
    assert suspension.lifted_by is None  # the clock
    project.refresh_from_db()
    assert project.bid_deadline == beijing("2026-03-30 09:01")  # + 3 days = Monday 30
    assert (
        AuditEvent.objects.filter(action="trading.project.resumed").get().payload["why"]
        == "ends_by"
    )


def test_the_decision_lifts_its_suspension_but_not_another_cases(
    engineering_case, supervisor, supplier, agent
):
    project = engineering_case.project
    with travel(beijing("2026-03-11 10:00")):
        services.suspend_procurement(as_(supervisor), engineering_case, reason="调查", days=10)
        # The same supplier's objection to the documents also holds the tender.
        trading.raise_objection(as_(supplier), project, text="工期不合理")
    with travel(beijing("2026-03-16 10:00")):
        explain = engineering_case.requests.get()
        services.answer_request(as_(agent), explain, answer="已核实，无泄密。")
        services.decide_complaint(
            as_(supervisor), engineering_case, outcome="dismissed", remedy="", decision="投诉不成立"
        )
    assert Suspension.objects.get().lifted_at == beijing("2026-03-16 10:00")
    assert trading.is_suspended(project)  # the objection still waits for its answer
    project.refresh_from_db()
    assert project.bid_deadline == beijing("2026-03-27 09:01")  # nothing moves until both end


def test_the_deadlines_show_on_each_persons_to_do_list(gp_case, supervisor, agent, supplier):
    now = beijing("2026-03-16 11:00")
    (accept,) = [i for i in items_for(supervisor, now) if i.key.startswith("complaint.")]
    assert accept.key == f"complaint.accept:{gp_case.pk}"
    assert accept.due_at == gp_case.acceptance_due_at and accept.legal
    assert not [i for i in items_for(agent, now) if i.key.startswith("complaint.")]
    with travel(beijing("2026-03-17 10:00")):
        services.accept_complaint(as_(supervisor), gp_case)
    now = beijing("2026-03-17 11:00")
    keys = [i.key for i in items_for(supervisor, now) if i.key.startswith("complaint.")]
    assert keys == [f"complaint.decide:{gp_case.pk}"]
    (answer,) = [i for i in items_for(agent, now) if i.key.startswith("complaint.")]
    assert answer.due_at == beijing("2026-03-24 10:00")
    assert not [i for i in items_for(supplier, now) if i.key.startswith("complaint.")]


def test_a_live_room_method_cannot_be_suspended_yet(agent, staff, supervisor):
    start = beijing("2026-03-02 09:00")
    with travel(start):
        project = published(
            agent,
            staff,
            start=start + dt.timedelta(minutes=1),
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            method=Project.Method.REVERSE_AUCTION,
            lots=GP_LOT,
            **timeline(start + dt.timedelta(minutes=1)),
        )
        with pytest.raises(DomainError) as refused:
            trading.suspend_project(
                as_(supervisor),
                project,
                reason="调查",
                ends_by=start + dt.timedelta(days=3),
                source="complaint:0",
            )
    assert refused.value.code == "SUSPENSION_NOT_SUPPORTED"
    assert not Suspension.objects.exists()


def test_the_written_decision_is_a_signed_pdf_for_the_parties_only(
    gp_case, supervisor, agent, supplier, other_supplier
):
    url = f"/complaints/{gp_case.pk}/decision.pdf"
    with travel(beijing("2026-03-17 10:00")):
        services.accept_complaint(as_(supervisor), gp_case)
    client = Client()
    client.force_login(supplier)
    with travel(beijing("2026-03-17 11:00")):
        assert client.get(url).status_code == 404  # no decision yet
    with travel(beijing("2026-03-24 10:01")):
        services.decide_complaint(
            as_(supervisor),
            gp_case,
            outcome="dismissed",
            remedy="",
            decision="投诉事项缺乏事实依据。",
        )
        response = client.get(url)
        outsider = Client()
        outsider.force_login(other_supplier)
        assert outsider.get(url).status_code == 404
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    gp_case.refresh_from_db()
    reader = PdfReader(io.BytesIO(response.content))
    words = "".join(page.extract_text() for page in reader.pages)
    assert "投诉处理决定书" in words and gp_case.number in words
    assert "投诉事项缺乏事实依据" in words
    assert decision_sha256(gp_case) in words.replace("\n", "")
    assert reader.get_fields() is not None  # the platform's signature field
