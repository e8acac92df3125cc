"""The experts API: permitted/denied pairs for every endpoint (staff, supervisor, agent, supplier, expert,
anonymous), the error shape, the draw from request to disclosure, exclusions for supervisors only, and
names hidden from outsiders until disclosure."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.actors import Actor
from accounts.models import Organization, Role
from experts import services
from experts.models import DrawnExpert, DrawRequest, Expert, Rating
from tests.conftest import make_org, make_user
from tests.experts.helpers import sealed_seed
from tests.experts.world import (
    TIED_NAME,
    disclose,
    first_member,
    link,
    run,
    seated_names,
    sign_off,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/experts"
TIE_LABEL = "近三年曾在投标人任职、任董监事或持股/控制"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def clients(api, staff, supervisor, agent, supplier, expert):
    return {
        "staff": api(staff),
        "supervisor": api(supervisor),
        "agent": api(agent),
        "supplier": api(supplier),
        "expert": api(expert),
        "anonymous": api(None),
    }


def codes(clients, method: str, url: str, body: dict | None = None, **only) -> dict[str, Any]:
    """{persona: status, or (status, error code) for a refusal}."""
    out = {}
    for name, client in clients.items():
        if only.get("skip") and name in only["skip"]:
            continue
        response = getattr(client, method)(url, body or {}, format="json")
        if response.status_code >= 400:
            out[name] = (response.status_code, response.json()["error"]["code"])
        else:
            out[name] = response.status_code
    return out


OUTSIDERS_403 = {
    "agent": (403, "FORBIDDEN"),
    "supplier": (403, "FORBIDDEN"),
    "expert": (403, "FORBIDDEN"),
    "anonymous": (403, "NOT_AUTHENTICATED"),
}
OUTSIDERS_404 = {
    "agent": (404, "NOT_FOUND"),
    "supplier": (404, "NOT_FOUND"),
    "expert": (404, "NOT_FOUND"),
    "anonymous": (403, "NOT_AUTHENTICATED"),
}


# --- The pool -------------------------------------------------------------------------------------


def test_the_specialty_catalogue_is_for_logged_in_users(clients, world):
    response = clients["supplier"].get(f"{API}/specialties/")
    assert response.status_code == 200
    assert {"code": "A0801", "name": "土建"} in response.json()
    assert_error(clients["anonymous"].get(f"{API}/specialties/"), 403, "NOT_AUTHENTICATED")


def test_the_pool_lists_for_staff_and_supervisors_with_filters(clients, world, staff):
    assert codes(clients, "get", f"{API}/pool/") == {
        "staff": 200,
        "supervisor": 200,
        **OUTSIDERS_403,
    }
    services.set_status(
        Actor.for_user(staff), world.experts[3], status="blacklisted", until=None, reason="违规"
    )
    Expert.objects.filter(pk=world.experts[4].pk).update(region="440100")
    client = clients["supervisor"]
    assert client.get(f"{API}/pool/?specialty=A08").json()["count"] == 10
    assert client.get(f"{API}/pool/?specialty=B02").json()["count"] == 0
    blacklisted = client.get(f"{API}/pool/?status=blacklisted").json()
    assert [row["name"] for row in blacklisted["results"]] == ["专家03"]
    assert client.get(f"{API}/pool/?region=4401").json()["results"][0]["name"] == "专家04"
    assert client.get(f"{API}/pool/?q=专家05").json()["count"] == 1
    assert_error(client.get(f"{API}/pool/?status=gone"), 400, "INVALID_PARAMETER")
    row = client.get(f"{API}/pool/?q=专家05").json()["results"][0]
    assert row["specialties"] == ["A0801"] and row["title"] == "senior"


def test_only_staff_add_experts(clients, world, expert):
    body = {
        "name": "新专家",
        "title": "professor",
        "years_in_field": 20,
        "region": "440402",
        "specialties": ["A0801", "C01"],
        "user": expert.username,
    }
    assert codes(clients, "post", f"{API}/pool/", body, skip={"staff"}) == {
        "supervisor": (403, "FORBIDDEN"),
        **OUTSIDERS_403,
    }
    assert not Expert.objects.filter(name="新专家").exists()
    response = clients["staff"].post(f"{API}/pool/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["specialties"] == ["A0801", "C01"] and created["username"] == expert.username
    assert created["ties"] == [] and created["relations"] == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"years_in_field": 5}, 400, "TOO_FEW_YEARS"),
        ({"specialties": ["Z99"]}, 400, "INVALID_SPECIALTY"),
        ({"title": "genius"}, 400, "INVALID_TITLE"),
        ({"employer": 999999}, 400, "VALIDATION_ERROR"),
        ({"user": "nobody"}, 400, "VALIDATION_ERROR"),
        ({"specialties": []}, 400, "VALIDATION_ERROR"),
    ],
)
def test_a_refused_expert_names_the_rule(clients, world, change, status, code):
    body = {
        "name": "新专家",
        "title": "senior",
        "years_in_field": 12,
        "region": "440402",
        "specialties": ["A0801"],
        **change,
    }
    assert_error(clients["staff"].post(f"{API}/pool/", body, format="json"), status, code)


def test_the_expert_record_and_its_ties_relations_and_status(clients, world, supplier):
    target = world.experts[6]
    url = f"{API}/pool/{target.pk}/"
    assert codes(clients, "get", url) == {"staff": 200, "supervisor": 200, **OUTSIDERS_404}
    org = supplier.organization.pk
    actions = [
        ("ties/", {"organization": org, "role": "director", "start": "2023-01-01"}, 201),
        ("relations/", {"organization": org, "kind": "other", "description": "同学"}, 201),
        ("status/", {"status": "suspended", "until": "2026-06-30", "reason": "缺席"}, 200),
    ]
    for path, body, ok in actions:
        assert codes(clients, "post", url + path, body, skip={"staff"}) == {
            "supervisor": (403, "FORBIDDEN"),
            **OUTSIDERS_404,
        }
        assert clients["staff"].post(url + path, body, format="json").status_code == ok
    record = clients["supervisor"].get(url).json()
    assert record["status"] == "suspended" and record["status_until"] == "2026-06-30"
    assert [t["role"] for t in record["ties"]] == ["employee", "director"]  # newest first
    assert record["relations"][0]["description"] == "同学"
    assert_error(
        clients["staff"].post(
            url + "ties/", {"organization": org, "role": "x", "start": "2023-01-01"}, format="json"
        ),
        400,
        "INVALID_ROLE",
    )


# --- Draws ----------------------------------------------------------------------------------------


def draw_body(world, supervisor, **overrides) -> dict[str, Any]:
    body = {
        "project": world.project.pk,
        "lot_number": 1,
        "committee_size": 5,
        "quotas": [{"specialty": "A0801", "count": 5}],
        "alternates": 2,
        "allowed_regions": ["4404"],
        "evaluation_at": "2026-03-30T09:30:00+08:00",
        "supervisor": supervisor.pk,
    }
    body.update(overrides)
    return body


def test_staff_create_and_commit_a_draw(clients, world, supervisor, now):
    body = draw_body(world, supervisor)
    assert codes(clients, "post", f"{API}/draws/", body, skip={"staff"}) == {
        "supervisor": (403, "FORBIDDEN"),
        **OUTSIDERS_403,
    }
    count = DrawRequest.objects.count()
    response = clients["staff"].post(f"{API}/draws/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert DrawRequest.objects.count() == count + 1
    draw = DrawRequest.objects.get(pk=created["id"])
    assert created["seed_hash"] == draw.seed_hash
    assert created["seed"] is None  # sealed until the draw
    assert sealed_seed(draw) not in response.content.decode()
    assert created["status"] == "committed" and created["supervisor"] == supervisor.username
    assert created["lot"]["number"] == 1 and created["quotas"] == body["quotas"]
    assert created["exclusion_count"] == 1 and "exclusions" not in created
    assert created["pool"]["quotas"][0]["specialty"] == "A0801"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (
            {"committee_size": 4, "quotas": [{"specialty": "A0801", "count": 4}]},
            400,
            "COMMITTEE_SIZE",
        ),
        ({"quotas": [{"specialty": "A0801", "count": 3}]}, 400, "QUOTAS_MISMATCH"),
        ({"alternates": 1}, 400, "TOO_FEW_ALTERNATES"),
        ({"quotas": [{"specialty": "Z9", "count": 5}]}, 400, "INVALID_SPECIALTY"),
        ({"evaluation_at": "2026-03-30T09:30:00"}, 400, "VALIDATION_ERROR"),
        ({"evaluation_at": "2026-03-01T09:30:00+08:00"}, 400, "EVALUATION_IN_PAST"),
        ({"lot_number": 9}, 400, "VALIDATION_ERROR"),
        ({"project": 999999}, 404, "NOT_FOUND"),
        ({"allowed_regions": ["1100"]}, 400, "POOL_TOO_SMALL"),
        # Numbers from outside are read by lib.numbers, the one strict reading (int() would take these).
        ({"committee_size": "５"}, 400, "NUMBER_INVALID"),
        ({"alternates": "2.0"}, 400, "NUMBER_INVALID"),
        ({"alternates": " 2"}, 400, "NUMBER_INVALID"),
        ({"alternates": True}, 400, "NUMBER_INVALID"),
        ({"alternates": "1_0"}, 400, "NUMBER_INVALID"),
        ({"committee_size": "9" * 100_000}, 400, "NUMBER_INVALID"),
        ({"committee_size": 100}, 400, "NUMBER_OUT_OF_RANGE"),
        ({"project": "１"}, 400, "NUMBER_INVALID"),
    ],
)
def test_a_refused_draw_request_names_the_rule(
    clients, world, supervisor, now, change, status, code
):
    response = clients["staff"].post(
        f"{API}/draws/", draw_body(world, supervisor, **change), format="json"
    )
    assert_error(response, status, code)


@pytest.mark.parametrize("sent", [True, "１", "1.0", "9" * 40], ids=repr)
def test_an_id_in_the_body_is_read_strictly(clients, world, supervisor, now, sent):
    body = {**draw_body(world, supervisor), "supervisor": sent}
    assert_error(clients["staff"].post(f"{API}/draws/", body, format="json"), 400, "NUMBER_INVALID")


def test_a_supervisor_must_be_a_supervisor(clients, world, agent, now):
    response = clients["staff"].post(f"{API}/draws/", draw_body(world, agent), format="json")
    assert_error(response, 400, "INVALID_SUPERVISOR")


def test_the_draw_list_is_for_staff_and_supervisors(clients, world):
    assert codes(clients, "get", f"{API}/draws/") == {
        "staff": 200,
        "supervisor": 200,
        **OUTSIDERS_403,
    }
    listing = clients["staff"].get(f"{API}/draws/?status=committed").json()
    assert [row["id"] for row in listing["results"]] == [world.draw.pk]
    assert listing["results"][0]["members"] is None and "drawn" not in listing["results"][0]
    assert clients["staff"].get(f"{API}/draws/?status=drawn").json()["count"] == 0


def test_only_staff_run_a_draw_and_the_seed_is_revealed(clients, world, now):
    url = f"{API}/draws/{world.draw.pk}/run/"
    assert codes(clients, "post", url, skip={"staff"}) == {
        "supervisor": (403, "FORBIDDEN"),
        **OUTSIDERS_403,
    }
    response = clients["staff"].post(url)
    assert response.status_code == 200
    body = response.json()
    draw = world.refresh()
    assert body["status"] == "drawn" and body["seed"] == draw.seed
    assert [(d["quota"], d["position"], d["role"]) for d in body["drawn"]] == [
        (0, p, "member" if p < 5 else "alternate") for p in range(7)
    ]
    assert [d["response"] for d in body["drawn"]] == ["pending"] * 5 + ["standby"] * 2
    assert_error(clients["staff"].post(url), 409, "ALREADY_DRAWN")


def test_only_the_designated_supervisor_signs_off(clients, world, api, staff, now):
    url = f"{API}/draws/{world.draw.pk}/sign-off/"
    assert_error(clients["supervisor"].post(url), 409, "WRONG_STATUS")
    run(staff, world)
    other = api(make_user("other_sup", Role.SUPERVISOR, make_org("regulator", "另一监督局")))
    assert_error(other.post(url), 403, "FORBIDDEN")
    assert codes(clients, "post", url, skip={"supervisor"}) == {
        "staff": (403, "FORBIDDEN"),
        **OUTSIDERS_403,
    }
    response = clients["supervisor"].post(url)
    assert response.status_code == 200 and response.json()["status"] == "signed_off"
    assert response.json()["signed_off_at"]


def test_staff_disclose_after_sign_off(clients, world, staff, supervisor, now):
    url = f"{API}/draws/{world.draw.pk}/disclose/"
    run(staff, world)
    assert_error(clients["staff"].post(url), 409, "WRONG_STATUS")
    sign_off(supervisor, world)
    assert codes(clients, "post", url, skip={"staff"}) == {
        "supervisor": (403, "FORBIDDEN"),
        **OUTSIDERS_403,
    }
    response = clients["staff"].post(url)
    assert response.status_code == 200 and response.json()["disclosed_at"]


def test_a_replacement_draw_fills_a_vacancy(clients, world, staff, now):
    run(staff, world)
    for index in range(3):
        seat = (
            DrawnExpert.objects.filter(draw=world.draw, seated=True, response="pending")
            .select_related("expert")
            .order_by("position")
            .first()
        )
        user = make_user(f"decliner{index}", Role.EXPERT, seat.expert.employer)
        link(user, seat.expert)
        services.respond(Actor.for_user(user), seat, confirm=False, reason="回避")
    assert clients["staff"].get(f"{API}/draws/{world.draw.pk}/").json()["vacancies"] == {"0": 1}
    url = f"{API}/draws/{world.draw.pk}/replacement/"
    assert codes(clients, "post", url, {"quota": 0}, skip={"staff"}) == {
        "supervisor": (403, "FORBIDDEN"),
        **OUTSIDERS_403,
    }
    assert_error(clients["staff"].post(url, {"quota": 3}, format="json"), 400, "VALIDATION_ERROR")
    response = clients["staff"].post(url, {"quota": 0}, format="json")
    assert response.status_code == 201, response.content
    replacement = response.json()
    assert replacement["replaces_in"] == world.draw.pk and replacement["seed"] is None
    ran = clients["staff"].post(f"{API}/draws/{replacement['id']}/run/").json()
    assert len(ran["drawn"]) == 1 and ran["drawn"][0]["seated"] is True
    assert clients["staff"].get(f"{API}/draws/{world.draw.pk}/").json()["vacancies"] == {}


# --- What each reader sees of a draw --------------------------------------------------------------


def test_exclusions_and_their_reasons_go_to_supervisors_only(clients, world, staff, now):
    run(staff, world)
    url = f"{API}/draws/{world.draw.pk}/"
    supervisor_view = clients["supervisor"].get(url).json()
    assert supervisor_view["exclusions"] == [
        {
            "expert": {
                "id": world.tied.pk,
                "name": TIED_NAME,
                "title": "senior",
                "region": "440400",
                "employer": {"id": world.tied.employer_id, "name": world.tied.employer.name},
            },
            "reasons": [{"code": "BIDDER_TIE", "label": TIE_LABEL}],
        }
    ]
    staff_view = clients["staff"].get(url)
    assert "exclusions" not in staff_view.json() and staff_view.json()["exclusion_count"] == 1
    assert TIED_NAME not in staff_view.content.decode()
    assert "BIDDER_TIE" not in staff_view.content.decode()
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    assert "exclusions" not in clients["staff"].get(url).json()
    for name in ("agent", "supplier", "expert", "anonymous"):
        response = clients[name].get(url)
        assert response.status_code == 200
        assert "exclusions" not in response.json() and "exclusion_count" not in response.json()
        assert TIED_NAME not in response.content.decode()
    # Each reader's shape is one the schema documents (full record, supervisor's, public record).
    from tests.config.test_edge import assert_matches_schema

    for name in ("staff", "supervisor", "agent", "anonymous"):
        assert_matches_schema(clients[name].get(url), "/api/v1/experts/draws/{id}/", "get")


def test_outsiders_get_the_public_record_and_names_only_after_disclosure(
    clients, world, staff, supervisor, now
):
    url = f"{API}/draws/{world.draw.pk}/"
    committed = clients["supplier"].get(url).json()
    assert committed["seed_hash"] == world.draw.seed_hash and committed["seed"] is None
    run(staff, world)
    sign_off(supervisor, world)
    seated = seated_names(world)
    everyone_drawn = list(
        DrawnExpert.objects.filter(draw=world.draw).values_list("expert__name", flat=True)
    )
    for name in ("agent", "supplier", "expert", "anonymous"):
        response = clients[name].get(url)
        body = response.json()
        assert body["members"] is None and body["seed"] == world.draw.seed
        for hidden in ("drawn", "pool", "evaluation_at", "quotas"):
            assert hidden not in body
        assert not any(n in response.content.decode() for n in everyone_drawn)
        committee = clients[name].get(f"{API}/projects/{world.project.pk}/committee/")
        assert committee.status_code == 200 and committee.json() == []
    for name in ("staff", "supervisor"):
        body = clients[name].get(url).json()
        assert sorted(d["expert"]["name"] for d in body["drawn"]) == sorted(everyone_drawn)
    disclose(staff, world)
    for name in ("agent", "supplier", "expert", "anonymous"):
        body = clients[name].get(url).json()
        assert sorted(m["name"] for m in body["members"]) == sorted(seated)
        assert "drawn" not in body  # alternates and responses stay internal
        committee = clients[name].get(f"{API}/projects/{world.project.pk}/committee/").json()
        assert sorted(m["name"] for m in committee) == sorted(seated)
        assert {m["specialty"] for m in committee} == {"A08"}


def test_a_draw_of_an_unannounced_project_is_not_found(clients, world):
    from trading.models import Project

    Project.objects.filter(pk=world.project.pk).update(status="approved")
    url = f"{API}/draws/{world.draw.pk}/"
    assert clients["staff"].get(url).status_code == 200
    assert clients["agent"].get(url).status_code == 200  # its own project
    assert_error(clients["supplier"].get(url), 404, "NOT_FOUND")
    assert_error(clients["anonymous"].get(url), 404, "NOT_FOUND")
    assert_error(
        clients["anonymous"].get(f"{API}/projects/{world.project.pk}/committee/"), 404, "NOT_FOUND"
    )


def test_verification_recomputes_the_draw(clients, world, staff, now):
    url = f"{API}/draws/{world.draw.pk}/verify/"
    sealed = clients["anonymous"].get(url).json()
    assert sealed["ok"] is False and "sealed" in sealed["problems"][0]
    run(staff, world)
    for name in clients:
        body = clients[name].get(url).json()
        assert body == {
            "ok": True,
            "problems": [],
            "command": f"python manage.py verify_draw {world.draw.pk}",
        }
    DrawnExpert.objects.filter(draw=world.draw, position=0).update(role="alternate")
    broken = clients["supervisor"].get(url).json()
    assert broken["ok"] is False
    assert broken["problems"] == [
        "the recorded experts differ from the recomputed draw",
        f"the drawn experts differ from the draw event (seq {drawn_event_seq(world.draw)})",
    ]


# --- The drawn expert -----------------------------------------------------------------------------


def test_the_expert_lists_and_answers_their_seats(clients, world, staff, expert, api, now):
    run(staff, world)
    assert clients["expert"].get(f"{API}/mine/").json() == []
    seat = first_member(world)
    link(expert, seat.expert)
    assert codes(clients, "get", f"{API}/mine/") == {
        "staff": (403, "FORBIDDEN"),
        "supervisor": (403, "FORBIDDEN"),
        "agent": (403, "FORBIDDEN"),
        "supplier": (403, "FORBIDDEN"),
        "expert": 200,
        "anonymous": (403, "NOT_AUTHENTICATED"),
    }
    (mine,) = clients["expert"].get(f"{API}/mine/").json()
    assert mine["id"] == seat.pk and mine["project"]["number"] == world.project.number
    assert mine["evaluation_at"] == "2026-03-30T09:30:00+08:00"
    assert mine["response"] == "pending" and mine["specialty"] == "A08"
    url = f"{API}/seats/{seat.pk}/respond/"
    other = api(make_user("other_expert", Role.EXPERT, make_org(Organization.Kind.SUPPLIER)))
    assert_error(other.post(url, {"confirm": True}, format="json"), 404, "NOT_FOUND")
    assert codes(clients, "post", url, {"confirm": True}, skip={"expert"}) == {
        "staff": (403, "FORBIDDEN"),
        "supervisor": (403, "FORBIDDEN"),
        "agent": (404, "NOT_FOUND"),
        "supplier": (404, "NOT_FOUND"),
        "anonymous": (403, "NOT_AUTHENTICATED"),
    }
    assert_error(
        clients["expert"].post(url, {"confirm": False, "reason": " "}, format="json"),
        400,
        "REASON_REQUIRED",
    )
    assert_error(clients["expert"].post(url, {}, format="json"), 400, "VALIDATION_ERROR")
    response = clients["expert"].post(url, {"confirm": True}, format="json")
    assert response.status_code == 200 and response.json()["response"] == "confirmed"
    assert_error(
        clients["expert"].post(url, {"confirm": True}, format="json"), 409, "ALREADY_ANSWERED"
    )


# --- Ratings --------------------------------------------------------------------------------------


def test_only_staff_rate_and_staff_and_supervisors_read_ratings(clients, world, staff, now):
    run(staff, world)
    seat = first_member(world)
    body = {
        "expert": seat.expert_id,
        "project": world.project.pk,
        "attended": True,
        "recusal_complied": True,
        "grade": 4,
        "score_deviation_flagged": True,
        "note": "按时到场",
    }
    assert codes(clients, "post", f"{API}/ratings/", body, skip={"staff"}) == {
        "supervisor": (403, "FORBIDDEN"),
        **OUTSIDERS_404,
    }
    assert not Rating.objects.exists()
    response = clients["staff"].post(f"{API}/ratings/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["grade"] == 4 and response.json()["score_deviation_flagged"] is True
    assert_error(
        clients["staff"].post(f"{API}/ratings/", body, format="json"), 409, "ALREADY_RATED"
    )
    other = DrawnExpert.objects.filter(draw=world.draw, seated=True).exclude(pk=seat.pk).first()
    assert_error(
        clients["staff"].post(
            f"{API}/ratings/", {**body, "expert": other.expert_id, "grade": 7}, format="json"
        ),
        400,
        "INVALID_GRADE",
    )
    assert codes(clients, "get", f"{API}/ratings/?project={world.project.pk}") == {
        "staff": 200,
        "supervisor": 200,
        **OUTSIDERS_403,
    }
    listing = clients["supervisor"].get(f"{API}/ratings/?expert={seat.expert_id}").json()
    assert listing["count"] == 1 and listing["results"][0]["expert"]["id"] == seat.expert_id


def test_the_schema_documents_the_experts_endpoints(client):
    schema = client.get("/api/v1/schema/").content.decode()
    for path in ("/api/v1/experts/draws/{id}/sign-off/", "/api/v1/experts/seats/{id}/respond/"):
        assert path in schema


def drawn_event_seq(draw: DrawRequest) -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.get(action="experts.draw.drawn", object_id=str(draw.pk)).seq
