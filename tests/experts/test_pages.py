"""The expert pages: who may reach each one (permitted/denied pairs for staff, supervisor, agent,
supplier, expert and anonymous), the draw desk from request to disclosure, exclusion reasons for
supervisors only, names hidden from outsiders until disclosure, the expert's tasks and the ratings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from accounts.actors import Actor
from accounts.models import Organization, Role
from experts import services
from experts.models import DrawnExpert, DrawRequest, Employment, Expert, Rating, Relation
from tests.conftest import make_org, make_user
from tests.experts.helpers import sealed_seed
from tests.experts.world import (
    TIED_NAME,
    client_for,
    disclose,
    first_member,
    link,
    run,
    seated_names,
    sign_off,
)

pytestmark = pytest.mark.django_db

TIE_LABEL = "近三年曾在投标人任职、任董监事或持股/控制"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def everyone(staff, supervisor, agent, supplier, expert):
    return {
        "staff": staff,
        "supervisor": supervisor,
        "agent": agent,
        "supplier": supplier,
        "expert": expert,
        "anonymous": None,
    }


def statuses(everyone, method: str, url: str, data: dict | None = None) -> dict[str, int]:
    out = {}
    for name, user in everyone.items():
        client = client_for(user)
        response = client.post(url, data or {}) if method == "post" else client.get(url)
        out[name] = response.status_code
    return out


# --- The pool -------------------------------------------------------------------------------------


def test_it_shows_the_pool_to_staff_and_supervisors_only(everyone, world):
    assert statuses(everyone, "get", "/experts/") == {
        "staff": 200,
        "supervisor": 200,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    page = text(client_for(everyone["staff"]).get("/experts/"))
    assert "专家03" in page and 'data-testid="add-expert"' in page
    assert 'data-testid="add-expert"' not in text(
        client_for(everyone["supervisor"]).get("/experts/")
    )


def test_it_filters_the_pool_by_specialty_status_and_region(staff, world):
    services.set_status(
        Actor.for_user(staff), world.experts[1], status="suspended", until=None, reason="缺席"
    )
    Expert.objects.filter(pk=world.experts[2].pk).update(region="440100")
    client = client_for(staff)
    assert text(client.get("/experts/?specialty=A08")).count('data-testid="expert-row"') == 10
    assert text(client.get("/experts/?specialty=C01")).count('data-testid="expert-row"') == 0
    suspended = text(client.get("/experts/?status=suspended"))
    assert suspended.count('data-testid="expert-row"') == 1 and "专家01" in suspended
    guangzhou = text(client.get("/experts/?region=4401"))
    assert guangzhou.count('data-testid="expert-row"') == 1 and "专家02" in guangzhou


def expert_post(**overrides) -> dict:
    data = {
        "name": "新专家",
        "title": "senior",
        "years_in_field": "12",
        "region": "440402",
        "specialties": ["A0801"],
        "employer": "",
        "user": "",
        "phone": "13800000000",
    }
    data.update(overrides)
    return data


def test_only_staff_add_experts(everyone, world):
    assert statuses(everyone, "get", "/experts/new/") == {
        "staff": 200,
        "supervisor": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    for name in ("supervisor", "agent", "supplier", "expert"):
        response = client_for(everyone[name]).post("/experts/new/", expert_post())
        assert response.status_code == 403
    assert not Expert.objects.filter(name="新专家").exists()
    response = client_for(everyone["staff"]).post(
        "/experts/new/", expert_post(user=str(everyone["expert"].pk))
    )
    created = Expert.objects.get(name="新专家")
    assert response.status_code == 302 and response.url == f"/experts/{created.pk}/"
    assert created.user == everyone["expert"]


def test_a_refused_expert_keeps_the_input_and_shows_why(staff, world):
    response = client_for(staff).post("/experts/new/", expert_post(years_in_field="5"))
    assert response.status_code == 400
    page = text(response)
    assert 'data-code="TOO_FEW_YEARS"' in page and "满八年" in page
    assert 'value="新专家"' in page


def test_staff_declare_ties_relations_and_status_on_the_expert_page(everyone, world):
    target = world.experts[5]
    url = f"/experts/{target.pk}/"
    assert statuses(everyone, "get", url) == {
        "staff": 200,
        "supervisor": 200,
        "agent": 404,
        "supplier": 404,
        "expert": 404,
        "anonymous": 302,
    }
    org = everyone["supplier"].organization
    tie = {"tie-organization": org.pk, "tie-role": "employee", "tie-start": "2024-01-01"}
    relation = {"relation-organization": org.pk, "relation-kind": "relative"}
    status = {"status-status": "suspended", "status-until": "2026-12-31", "status-reason": "x"}
    for path, data in (("ties", tie), ("relations", relation), ("status", status)):
        denied = statuses(
            {k: v for k, v in everyone.items() if k != "staff"}, "post", f"{url}{path}/", data
        )
        assert denied == {
            "supervisor": 403,
            "agent": 404,
            "supplier": 404,
            "expert": 404,
            "anonymous": 302,
        }
        assert client_for(everyone["staff"]).post(f"{url}{path}/", data).status_code == 302
    assert Employment.objects.filter(expert=target, organization=org).count() == 1
    assert Relation.objects.filter(expert=target, organization=org).count() == 1
    target.refresh_from_db()
    assert target.status == "suspended" and target.status_until == dt.date(2026, 12, 31)


# --- The draw desk --------------------------------------------------------------------------------


def test_it_lists_draws_for_staff_and_supervisors_only(everyone, world, now):
    run(everyone["staff"], world)
    assert statuses(everyone, "get", "/experts/draws/") == {
        "staff": 200,
        "supervisor": 200,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    # The designated supervisor sees the draw waiting for them.
    page = text(client_for(everyone["supervisor"]).get("/experts/draws/"))
    assert 'data-testid="awaiting-sign-off"' in page


def draw_post(project, supervisor, **overrides) -> dict:
    data = {
        "project": str(project.pk),
        "lot": str(project.lots.get().pk),
        "panel": "committee",
        "committee_size": "5",
        "owner_representatives": "0",
        "alternates": "2",
        "allowed_regions": "4404",
        "excluded_regions": "",
        "evaluation_at": "2026-03-30T09:30",
        "supervisor": str(supervisor.pk),
        "quotas-TOTAL_FORMS": "2",
        "quotas-INITIAL_FORMS": "0",
        "quotas-MIN_NUM_FORMS": "0",
        "quotas-MAX_NUM_FORMS": "20",
        "quotas-0-specialty": "A0801",
        "quotas-0-count": "5",
        "quotas-1-specialty": "",
        "quotas-1-count": "",
    }
    data.update(overrides)
    return data


def test_staff_request_a_draw_and_see_the_seed_hash_to_record(everyone, world, now):
    staff, supervisor = everyone["staff"], everyone["supervisor"]
    url = f"/experts/draws/new/?project={world.project.pk}"
    assert statuses(everyone, "get", url) == {
        "staff": 200,
        "supervisor": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    data = draw_post(world.project, supervisor)
    for name in ("supervisor", "agent", "supplier", "expert"):
        assert client_for(everyone[name]).post("/experts/draws/new/", data).status_code == 403
    before = DrawRequest.objects.count()
    response = client_for(staff).post("/experts/draws/new/", data)
    assert DrawRequest.objects.count() == before + 1
    draw = DrawRequest.objects.order_by("-pk").first()
    assert response.status_code == 302 and response.url == f"/experts/draws/{draw.pk}/"
    assert draw.quotas == [{"specialty": "A0801", "count": 5}]
    assert draw.allowed_regions == ["4404"] and draw.supervisor == supervisor
    assert draw.evaluation_at == dt.datetime(2026, 3, 30, 1, 30, tzinfo=dt.UTC)
    page = text(client_for(staff).get(response.url))
    assert draw.seed_hash in page
    assert "请现场监督人员记录种子哈希" in page
    assert 'data-testid="run-draw"' in page and "执行抽取" in page
    assert sealed_seed(draw) not in page  # sealed until the draw


def test_a_refused_draw_request_keeps_the_input(staff, supervisor, world, now):
    data = draw_post(world.project, supervisor, committee_size="4", **{"quotas-0-count": "4"})
    response = client_for(staff).post("/experts/draws/new/", data)
    assert response.status_code == 400
    assert 'data-code="COMMITTEE_SIZE"' in text(response)
    assert 'value="4404"' in text(response)


def test_only_staff_run_the_draw_and_then_the_seed_and_members_show(everyone, world, now):
    url = f"/experts/draws/{world.draw.pk}/run/"
    denied = {k: v for k, v in everyone.items() if k != "staff"}
    assert statuses(denied, "post", url) == {
        "supervisor": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    assert world.refresh().status == "committed"
    response = client_for(everyone["staff"]).post(url)
    assert response.status_code == 302
    draw = world.refresh()
    assert draw.status == "drawn"
    page = text(client_for(everyone["staff"]).get(f"/experts/draws/{draw.pk}/"))
    assert draw.seed in page and 'data-testid="revealed-seed"' in page
    assert page.count('data-testid="drawn-row"') == 7  # 5 members, 2 alternates in draw order
    assert page.count('data-role="member"') == 5
    # Running twice is refused with the service's message.
    again = client_for(everyone["staff"]).post(url)
    assert again.status_code == 409 and 'data-code="ALREADY_DRAWN"' in text(again)


def test_only_the_designated_supervisor_signs_off(everyone, world, now):
    run(everyone["staff"], world)
    other = make_user("other_supervisor", Role.SUPERVISOR, make_org("regulator", "另一监督局"))
    url = f"/experts/draws/{world.draw.pk}/sign-off/"
    page = text(client_for(everyone["supervisor"]).get(f"/experts/draws/{world.draw.pk}/"))
    assert 'data-testid="sign-off"' in page and "监督确认" in page
    assert 'data-testid="sign-off"' not in text(
        client_for(other).get(f"/experts/draws/{world.draw.pk}/")
    )
    denied = {k: v for k, v in everyone.items() if k != "supervisor"} | {"other": other}
    assert statuses(denied, "post", url) == {
        "staff": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
        "other": 403,
    }
    assert client_for(everyone["supervisor"]).post(url).status_code == 302
    assert world.refresh().status == "signed_off"


def test_staff_disclose_once_signed_off(everyone, world, now):
    run(everyone["staff"], world)
    url = f"/experts/draws/{world.draw.pk}/disclose/"
    early = client_for(everyone["staff"]).post(url)
    assert early.status_code == 409 and 'data-code="WRONG_STATUS"' in text(early)
    sign_off(everyone["supervisor"], world)
    page = text(client_for(everyone["staff"]).get(f"/experts/draws/{world.draw.pk}/"))
    assert 'data-testid="disclose"' in page and "公开名单" in page
    denied = {k: v for k, v in everyone.items() if k != "staff"}
    assert statuses(denied, "post", url) == {
        "supervisor": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    assert world.refresh().disclosed_at is None
    assert client_for(everyone["staff"]).post(url).status_code == 302
    assert world.refresh().disclosed_at is not None


def _decline_through_alternates(world, staff) -> None:
    """Three members of the only quota decline: two alternates step in, one seat stays empty."""
    for index in range(3):
        seat = (
            DrawnExpert.objects.filter(draw=world.draw, seated=True, response="pending")
            .select_related("expert")
            .order_by("position")
            .first()
        )
        user = make_user(f"declining{index}", Role.EXPERT, seat.expert.employer)
        link(user, seat.expert)
        services.respond(
            Actor.for_user(user), DrawnExpert.objects.get(pk=seat.pk), confirm=False, reason="出差"
        )


def test_a_vacancy_offers_a_replacement_draw(everyone, world, now):
    staff = everyone["staff"]
    run(staff, world)
    _decline_through_alternates(world, staff)
    page = text(client_for(staff).get(f"/experts/draws/{world.draw.pk}/"))
    assert 'data-testid="vacancies"' in page and "替补抽取" in page
    url = f"/experts/draws/{world.draw.pk}/replacement/"
    denied = {k: v for k, v in everyone.items() if k != "staff"}
    assert statuses(denied, "post", url, {"quota": "0"}) == {
        "supervisor": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    assert client_for(staff).post(url, {"quota": "7"}).status_code == 400
    response = client_for(staff).post(url, {"quota": "0"})
    replacement = DrawRequest.objects.get(replaces_in=world.draw)
    assert response.status_code == 302 and response.url == f"/experts/draws/{replacement.pk}/"
    page = text(client_for(staff).get(response.url))
    assert replacement.seed_hash in page and 'data-testid="run-draw"' in page


# --- Confidentiality ------------------------------------------------------------------------------


def test_exclusion_reasons_are_shown_to_supervisors_only(everyone, world, now):
    run(everyone["staff"], world)
    url = f"/experts/draws/{world.draw.pk}/"
    supervisor_page = text(client_for(everyone["supervisor"]).get(url))
    assert 'data-testid="exclusions"' in supervisor_page
    assert TIED_NAME in supervisor_page and TIE_LABEL in supervisor_page
    # Center staff run the draw and see who was drawn, but not who was left out or why.
    staff_page = text(client_for(everyone["staff"]).get(url))
    assert 'data-testid="exclusion-count"' in staff_page and "排除原因仅监督人员可见" in staff_page
    assert TIED_NAME not in staff_page and TIE_LABEL not in staff_page
    # Even a superuser account of the center is not a supervisor.
    everyone["staff"].is_superuser = True
    everyone["staff"].save(update_fields=["is_superuser"])
    assert TIE_LABEL not in text(client_for(everyone["staff"]).get(url))
    for name in ("agent", "supplier", "expert", "anonymous"):
        page = text(client_for(everyone[name]).get(url))
        assert TIED_NAME not in page and TIE_LABEL not in page


def test_outsiders_see_no_names_until_disclosure_then_the_seated_members(everyone, world, now):
    run(everyone["staff"], world)
    sign_off(everyone["supervisor"], world)
    seated = seated_names(world)
    alternates = list(
        DrawnExpert.objects.filter(draw=world.draw, seated=False).values_list(
            "expert__name", flat=True
        )
    )
    draw_url = f"/experts/draws/{world.draw.pk}/"
    committee_url = f"/experts/projects/{world.project.pk}/committee/"
    for name in ("agent", "supplier", "expert", "anonymous"):
        client = client_for(everyone[name])
        draw_page, committee_page = text(client.get(draw_url)), text(client.get(committee_url))
        assert world.draw.seed_hash in draw_page  # the commitment is public
        assert 'data-testid="committee-undisclosed"' in committee_page
        for member in seated + alternates:
            assert member not in draw_page and member not in committee_page
    # Staff and supervisors see the names all along.
    for name in ("staff", "supervisor"):
        assert all(m in text(client_for(everyone[name]).get(draw_url)) for m in seated)
    disclose(everyone["staff"], world)
    for name in ("agent", "supplier", "expert", "anonymous"):
        client = client_for(everyone[name])
        draw_page, committee_page = text(client.get(draw_url)), text(client.get(committee_url))
        assert 'data-testid="disclosed-committee"' in committee_page
        for member in seated:
            assert member in draw_page and member in committee_page
        for alternate in alternates:
            assert alternate not in draw_page and alternate not in committee_page


def test_the_committee_tag_renders_on_any_page(world, staff, supervisor, agent, now):
    run(staff, world)
    sign_off(supervisor, world)
    template = Template("{% load experts_tags %}{% disclosed_committee project %}")
    request = RequestFactory().get("/")
    request.user = agent
    assert template.render(Context({"project": world.project, "request": request})).strip() == ""
    disclose(staff, world)
    rendered = template.render(Context({"project": world.project, "request": request}))
    assert all(name in rendered for name in seated_names(world))


def test_a_draw_of_an_unannounced_project_is_not_found_for_outsiders(everyone, world, now):
    from trading.models import Project

    Project.objects.filter(pk=world.project.pk).update(status="approved")
    url = f"/experts/draws/{world.draw.pk}/"
    assert client_for(everyone["staff"]).get(url).status_code == 200
    assert client_for(everyone["supplier"]).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 404


def test_the_draw_record_pdf_is_for_staff_and_supervisors(everyone, world, now):
    run(everyone["staff"], world)
    url = f"/experts/draws/{world.draw.pk}/record.pdf"
    assert statuses(everyone, "get", url) == {
        "staff": 200,
        "supervisor": 200,
        "agent": 404,
        "supplier": 404,
        "expert": 404,
        "anonymous": 302,
    }
    response = client_for(everyone["supervisor"]).get(url)
    assert response["Content-Type"] == "application/pdf"
    assert "supervisor" in response["Content-Disposition"]
    assert "supervisor" not in client_for(everyone["staff"]).get(url)["Content-Disposition"]


# --- Verification ---------------------------------------------------------------------------------


def test_the_verification_panel_says_ok_or_names_the_problem(everyone, world, now):
    run(everyone["staff"], world)
    url = f"/experts/draws/{world.draw.pk}/"
    page = text(client_for(everyone["supervisor"]).get(url))
    assert 'data-testid="verify-result">OK<' in page
    assert f"python manage.py verify_draw {world.draw.pk}" in page
    DrawRequest.objects.filter(pk=world.draw.pk).update(alternates=3)
    page = text(client_for(everyone["supervisor"]).get(url))
    assert "不一致" in page and "the request does not match its hash" in page


# --- The drawn expert -----------------------------------------------------------------------------


def test_the_drawn_expert_sees_the_task_and_confirms(everyone, world, now):
    run(everyone["staff"], world)
    expert_user = everyone["expert"]
    before = text(client_for(expert_user).get("/experts/tasks/"))
    assert 'data-testid="not-registered"' in before and 'data-testid="no-seats"' in before
    seat = first_member(world)
    link(expert_user, seat.expert)
    assert statuses(everyone, "get", "/experts/tasks/") == {
        "staff": 403,
        "supervisor": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 200,
        "anonymous": 302,
    }
    page = text(client_for(expert_user).get("/experts/tasks/"))
    assert world.project.title in page
    assert 'data-countdown-to="2026-03-30T09:30:00+08:00"' in page
    assert 'data-testid="confirm"' in page and 'data-testid="decline"' in page
    url = f"/experts/seats/{seat.pk}/respond/"
    data = {f"s{seat.pk}-answer": "confirm"}
    other_expert = make_user("other_expert", Role.EXPERT, make_org(Organization.Kind.SUPPLIER))
    denied = {k: v for k, v in everyone.items() if k != "expert"} | {"other_expert": other_expert}
    assert statuses(denied, "post", url, data) == {
        "staff": 403,
        "supervisor": 403,
        "agent": 404,
        "supplier": 404,
        "anonymous": 302,
        "other_expert": 404,
    }
    response = client_for(expert_user).post(url, data)
    assert response.status_code == 302 and response.url == "/experts/tasks/"
    seat.refresh_from_db()
    assert seat.response == "confirmed"
    assert 'data-testid="confirm"' not in text(client_for(expert_user).get("/experts/tasks/"))


def test_a_decline_needs_a_reason_and_calls_the_next_alternate(staff, expert, world, now):
    run(staff, world)
    seat = first_member(world)
    link(expert, seat.expert)
    url = f"/experts/seats/{seat.pk}/respond/"
    client = client_for(expert)
    refused = client.post(url, {f"s{seat.pk}-answer": "decline", f"s{seat.pk}-reason": ""})
    assert refused.status_code == 400 and 'data-code="REASON_REQUIRED"' in text(refused)
    # The decline form comes back open, with the seat's quota specialty beside it.
    assert "<details open>" in text(refused)
    assert f"<code>{world.draw.quotas[seat.quota]['specialty']}</code>" in text(refused)
    response = client.post(url, {f"s{seat.pk}-answer": "decline", f"s{seat.pk}-reason": "出差"})
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.response == "declined" and seat.decline_reason == "出差"
    assert DrawnExpert.objects.filter(draw=world.draw, role="alternate", seated=True).count() == 1
    page = text(client_for(staff).get(f"/experts/draws/{world.draw.pk}/"))
    assert "已谢绝" in page and "出差" in page and "已递补" in page


# --- Ratings --------------------------------------------------------------------------------------


def test_staff_rate_the_seated_experts_of_a_project(everyone, world, now):
    run(everyone["staff"], world)
    url = f"/experts/projects/{world.project.pk}/ratings/"
    assert statuses(everyone, "get", url) == {
        "staff": 200,
        "supervisor": 200,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    page = text(client_for(everyone["staff"]).get(url))
    assert page.count('data-testid="rating-row"') == 5
    assert page.count('data-testid="rate"') == 5
    assert 'data-testid="rate"' not in text(client_for(everyone["supervisor"]).get(url))
    seat = first_member(world)
    data = {
        "expert": str(seat.expert_id),
        f"e{seat.expert_id}-attended": "on",
        f"e{seat.expert_id}-recusal_complied": "on",
        f"e{seat.expert_id}-grade": "5",
        f"e{seat.expert_id}-score_deviation_flagged": "on",
        f"e{seat.expert_id}-note": "评审认真",
    }
    denied = {k: v for k, v in everyone.items() if k != "staff"}
    assert statuses(denied, "post", url, data) == {
        "supervisor": 403,
        "agent": 403,
        "supplier": 403,
        "expert": 403,
        "anonymous": 302,
    }
    assert not Rating.objects.exists()
    assert client_for(everyone["staff"]).post(url, data).status_code == 302
    rating = Rating.objects.get()
    assert (rating.expert_id, rating.grade, rating.attended, rating.recusal_complied) == (
        seat.expert_id,
        5,
        True,
        True,
    )
    assert rating.score_deviation_flagged is True and rating.note == "评审认真"
    again = client_for(everyone["staff"]).post(url, data)
    assert again.status_code == 409 and 'data-code="ALREADY_RATED"' in text(again)
    assert 'data-testid="rated"' in text(client_for(everyone["staff"]).get(url))
