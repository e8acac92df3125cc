"""Commit–reveal draws: avoidance, reproducibility, verification, uniformity, confirmation, secrecy."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.actors import Actor
from experts import draw as drawing
from experts import services
from experts.models import DrawExclusion, DrawnExpert, DrawRequest, Expert
from lib.errors import Conflict, NotPermitted
from tests.conftest import make_org, make_user
from tests.experts.helpers import EVALUATION, commit, pool, tender_with_bidders
from tests.trading.factories import beijing

pytestmark = pytest.mark.django_db
DAY_BEFORE = EVALUATION - dt.timedelta(days=1)


@pytest.fixture
def project(agent, staff, supplier, other_supplier):
    return tender_with_bidders(agent, staff, [supplier, other_supplier])


def run(staff, draw):
    with time_machine.travel(DAY_BEFORE + dt.timedelta(minutes=5), tick=False):
        return services.run_draw(Actor.for_user(staff), draw)


# --- Avoidance ------------------------------------------------------------------------------------


def test_each_conflict_keeps_an_expert_out_with_its_reason(staff, project, supplier, agent):
    experts = pool(staff, count=14)
    tied, relative, agent_staff, barred, far, former = experts[:6]
    actor = Actor.for_user(staff)
    services.declare_tie(
        actor, tied, supplier.organization, role="shareholder", start=dt.date(2020, 1, 1)
    )
    services.declare_relation(
        actor, relative, supplier.organization, kind="relative", person_name="法定代表人之子"
    )
    services.declare_tie(
        actor, agent_staff, agent.organization, role="employee", start=dt.date(2024, 1, 1)
    )
    services.set_status(actor, barred, status="blacklisted", until=None, reason="曾违规")
    Expert.objects.filter(pk=far.pk).update(region="110000")
    # Left the bidder more than three years before the evaluation: no longer a conflict.
    services.declare_tie(
        actor,
        former,
        supplier.organization,
        role="employee",
        start=dt.date(2015, 1, 1),
        end=dt.date(2022, 12, 31),
    )
    draw = commit(staff, project, allowed_regions=["4404"])
    reasons = {e.expert_id: e.reasons for e in DrawExclusion.objects.filter(draw=draw)}
    assert reasons == {
        tied.pk: ["BIDDER_TIE"],
        relative.pk: ["BIDDER_RELATIVE"],
        agent_staff.pk: ["OWNER_OR_AGENT_STAFF"],
        barred.pk: ["NOT_ACTIVE"],
        far.pk: ["REGION"],
    }
    drawn = {d.expert_id for d in run(staff, draw)}
    assert not drawn & set(reasons)


def test_regulator_staff_are_left_out(staff, project):
    experts = pool(staff, count=10)
    regulator = make_org("regulator", "某监督局")
    Expert.objects.filter(pk=experts[0].pk).update(employer=regulator)
    draw = commit(staff, project)
    assert DrawExclusion.objects.get(draw=draw).reasons == ["REGULATOR_STAFF"]


def test_experts_drawn_too_often_for_one_owner_rest(staff, project, settings):
    settings.EXPERT_SAME_OWNER_MAX_DRAWS = 1
    pool(staff, count=20)
    first = commit(staff, project)
    seated = {d.expert_id for d in run(staff, first) if d.seated}
    second = commit(staff, project, at=DAY_BEFORE + dt.timedelta(hours=1))
    excluded = {
        e.expert_id
        for e in DrawExclusion.objects.filter(draw=second)
        if "FREQUENT_SAME_OWNER" in e.reasons
    }
    assert excluded == seated


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ties=st.lists(st.integers(0, 13), max_size=8), seed=st.binary(min_size=32, max_size=32))
def test_no_excluded_expert_is_ever_drawn(staff, project, supplier, ties, seed):
    """Property: whatever the conflicts and whatever the seed, nobody excluded sits on the committee."""
    # Each example in a savepoint rolled back after it, so examples do not see each other's ties.
    with transaction.atomic():
        experts = pool(staff, count=14, prefix=f"P{seed.hex()[:6]}")
        for index in set(ties):
            services.declare_tie(
                Actor.for_user(staff),
                experts[index],
                supplier.organization,
                role="employee",
                start=dt.date(2025, 1, 1),
            )
        draw = commit(
            staff,
            project,
            size=5 if len(set(ties)) <= 7 else 3,
            panel="committee" if len(set(ties)) <= 7 else "negotiation",
        )
        excluded = set(DrawExclusion.objects.filter(draw=draw).values_list("expert_id", flat=True))
        assert {experts[i].pk for i in set(ties)} == excluded
        picks = drawing.select(seed.hex(), draw.pool, draw.request_document())
        assert picks
        assert not {p.expert_id for p in picks} & excluded
        transaction.set_rollback(True)


# --- Commit, reveal, verify -----------------------------------------------------------------------


def test_the_seed_is_committed_before_and_revealed_after(staff, project):
    pool(staff, count=10)
    draw = commit(staff, project)
    assert draw.seed_revealed is False
    assert draw.seed == "" and draw.sealed_seed
    run(staff, draw)
    draw.refresh_from_db()
    assert draw.seed_revealed is True
    assert drawing.seed_hash(draw.seed) == draw.seed_hash
    assert services.verify(draw) == []


def _everything_readable() -> list[object]:
    """Every value of every column of every table, as someone with database read access sees it."""
    from django.apps import apps

    values: list[object] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, memoryview):
            values.append(bytes(value))
        elif value is not None:
            values.append(value)

    for model in apps.get_models():
        for row in model._default_manager.all().values():
            walk(row)
    return values


def test_reading_the_whole_database_before_the_draw_does_not_tell_the_committee(staff, project):
    pool(staff, count=10)
    draw = commit(staff, project)
    before = _everything_readable()
    drawn = run(staff, draw)
    draw.refresh_from_db()
    committee = [(d.quota, d.position, d.expert_id, d.role) for d in drawn]
    seed = bytes.fromhex(draw.seed)
    # The seed was nowhere: not as text (any case), not as raw bytes inside a blob.
    for value in before:
        if isinstance(value, bytes):
            assert seed not in value and draw.seed.encode() not in value.lower()
        else:
            assert draw.seed not in str(value).lower()
    # And no 32-byte value that was readable reproduces the commitment or the committee.
    candidates = {v.lower() for v in before if isinstance(v, str) and len(v) == 64}
    candidates |= {v.hex() for v in before if isinstance(v, bytes) and len(v) == 32}
    for candidate in candidates:
        try:
            picks = drawing.select(candidate, draw.pool, draw.request_document())
        except ValueError:
            continue
        assert drawing.seed_hash(candidate) != draw.seed_hash
        assert [(p.quota, p.position, p.expert_id, p.role) for p in picks] != committee


def test_a_seed_that_does_not_match_its_commitment_stops_the_draw(staff, project):
    from bidding import crypto
    from bidding.services import project_public_key

    pool(staff, count=10)
    draw = commit(staff, project)
    # Someone with write access seals a seed of their choosing to the (public) project key.
    chosen = crypto.seal_to(project_public_key(project), secrets.token_hex(32).encode())
    DrawRequest.objects.filter(pk=draw.pk).update(sealed_seed=chosen)
    with pytest.raises(Conflict) as refused:
        run(staff, draw)
    assert refused.value.code == "SEED_SEAL_BROKEN"
    assert not DrawnExpert.objects.filter(draw=draw).exists()


def test_a_draw_is_reproducible_from_its_record(staff, project):
    pool(staff, count=10)
    draw = commit(staff, project)
    drawn = run(staff, draw)
    draw.refresh_from_db()  # the seed is revealed by the draw
    again = drawing.select(draw.seed, draw.pool, draw.request_document())
    assert [(p.quota, p.position, p.expert_id, p.role) for p in again] == [
        (d.quota, d.position, d.expert_id, d.role) for d in drawn
    ]
    assert sum(d.role == "member" for d in drawn) == 5
    assert sum(d.role == "alternate" for d in drawn) == 2


@pytest.mark.parametrize(
    "tamper", ["seed", "pool", "request", "picks", "seed_with_hash", "pool_with_hash"]
)
def test_verify_draw_catches_an_edited_record(staff, project, capsys, tamper):
    pool(staff, count=10)
    draw = commit(staff, project)
    run(staff, draw)
    call_command("verify_draw", str(draw.pk))
    assert "OK" in capsys.readouterr().out
    if tamper == "seed":
        DrawRequest.objects.filter(pk=draw.pk).update(seed=secrets.token_hex(32))
    elif tamper == "pool":
        edited = draw.pool
        edited["quotas"][0]["eligible"] = edited["quotas"][0]["eligible"][1:]
        DrawRequest.objects.filter(pk=draw.pk).update(pool=edited)
    elif tamper == "request":
        DrawRequest.objects.filter(pk=draw.pk).update(alternates=3)
    elif tamper in ("seed_with_hash", "pool_with_hash"):
        # A consistent rewrite: new seed (or pool) with its hash, the picks recomputed from it. The
        # row then verifies against itself; only the audit events disagree.
        seed, edited = draw.seed, draw.pool
        if tamper == "seed_with_hash":
            seed = secrets.token_hex(32)
        else:
            edited["quotas"][0]["eligible"] = edited["quotas"][0]["eligible"][1:]
        DrawRequest.objects.filter(pk=draw.pk).update(
            seed=seed,
            seed_hash=drawing.seed_hash(seed),
            pool=edited,
            pool_hash=drawing.document_hash(edited),
        )
        DrawnExpert.objects.filter(draw=draw).delete()
        DrawnExpert.objects.bulk_create(
            DrawnExpert(
                draw=draw, expert_id=p.expert_id, quota=p.quota, position=p.position, role=p.role
            )
            for p in drawing.select(seed, edited, draw.request_document())
        )
    else:
        member = DrawnExpert.objects.filter(draw=draw, role="member").first()
        outsider = Expert.objects.exclude(
            pk__in=DrawnExpert.objects.filter(draw=draw).values("expert_id")
        ).first()
        DrawnExpert.objects.filter(pk=member.pk).update(expert=outsider)
    with pytest.raises(SystemExit) as exited:
        call_command("verify_draw", str(draw.pk))
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "BROKEN" in err
    if tamper == "seed_with_hash":
        assert "seed_hash differs from the commit event" in err
        assert "seed differs from the draw event" in err
    if tamper == "pool_with_hash":
        assert "pool_hash differs from the commit event" in err


def test_a_draw_runs_once(staff, project):
    pool(staff, count=10)
    draw = commit(staff, project)
    run(staff, draw)
    with pytest.raises(Conflict):
        run(staff, draw)


def test_selection_is_uniform_over_the_eligible_pool():
    """Chi-square over 6,000 independent seeds choosing 1 of 12: every expert equally likely."""
    pool_doc = {"quotas": [{"specialty": "A08", "eligible": list(range(100, 112))}]}
    request = {"quotas": [{"specialty": "A08", "count": 1}], "alternates": 0}
    trials = 6000
    counts = Counter(
        drawing.select(secrets.token_hex(32), pool_doc, request)[0].expert_id for _ in range(trials)
    )
    expected = trials / 12
    chi_square = sum((counts[e] - expected) ** 2 / expected for e in range(100, 112))
    # 11 degrees of freedom: P(χ² > 31.26) = 0.001, so a fair draw fails this one time in a thousand.
    assert chi_square < 31.26, counts


def test_positions_are_uniform_too():
    """Each expert is as likely to be first alternate as first member (no position bias)."""
    pool_doc = {"quotas": [{"specialty": "A08", "eligible": list(range(6))}]}
    request = {"quotas": [{"specialty": "A08", "count": 2}], "alternates": 1}
    trials = 3000
    last = Counter(
        drawing.select(secrets.token_hex(32), pool_doc, request)[-1].expert_id
        for _ in range(trials)
    )
    expected = trials / 6
    assert sum((last[e] - expected) ** 2 / expected for e in range(6)) < 20.52  # df 5, p = 0.001


# --- Supervision, confirmation, secrecy -----------------------------------------------------------


def test_the_designated_supervisor_signs_off(staff, project, supervisor):
    pool(staff, count=10)
    other = make_user("other_supervisor", "supervisor", make_org("regulator", "另一监督局"))
    draw = commit(staff, project, supervisor=supervisor)
    run(staff, draw)
    with pytest.raises(NotPermitted):
        services.sign_off(Actor.for_user(other), draw)
    with pytest.raises(NotPermitted):
        services.sign_off(Actor.for_user(staff), draw)
    services.sign_off(Actor.for_user(supervisor), draw)
    assert DrawRequest.objects.get(pk=draw.pk).status == "signed_off"


def _expert_user(expert, username):
    user = make_user(username, "expert", expert.employer)
    Expert.objects.filter(pk=expert.pk).update(user=user)
    return user


def test_a_decline_seats_the_next_alternate_in_draw_order(staff, project):
    pool(staff, count=10)
    draw = commit(staff, project)
    drawn = run(staff, draw)
    member = next(d for d in drawn if d.role == "member")
    first_alternate = next(d for d in drawn if d.role == "alternate" and d.position == 5)
    user = _expert_user(member.expert, "declining_expert")
    with pytest.raises(NotPermitted):
        services.respond(Actor.for_user(staff), member, confirm=False, reason="x")
    services.respond(Actor.for_user(user), member, confirm=False, reason="出差在外")
    first_alternate.refresh_from_db()
    assert first_alternate.seated is True and first_alternate.response == "pending"
    assert services.vacancies(draw) == {}


def test_when_alternates_run_out_the_replacement_is_drawn_not_chosen(staff, project):
    pool(staff, count=10)
    draw = commit(staff, project, alternates=2)
    drawn = run(staff, draw)
    members = [d for d in drawn if d.role == "member"][:3]
    for i, member in enumerate(members):
        services.respond(
            Actor.for_user(_expert_user(DrawnExpert.objects.get(pk=member.pk).expert, f"e{i}")),
            DrawnExpert.objects.get(pk=member.pk),
            confirm=False,
            reason="回避",
        )
    assert services.vacancies(draw) == {0: 1}
    with time_machine.travel(DAY_BEFORE + dt.timedelta(hours=1), tick=False):
        replacement = services.commit_replacement(Actor.for_user(staff), draw, 0)
        (seat,) = services.run_draw(Actor.for_user(staff), replacement)
    assert seat.expert_id not in {d.expert_id for d in drawn}
    replacement.refresh_from_db()
    assert services.verify(replacement) == []
    assert services.vacancies(draw) == {}


def test_identities_stay_secret_until_disclosed(staff, project, agent, supplier, supervisor):
    pool(staff, count=10)
    draw = commit(staff, project, supervisor=supervisor)
    run(staff, draw)
    assert services.may_see_identities(supervisor, draw) is True
    assert services.may_see_identities(staff, draw) is True
    assert services.may_see_identities(agent, draw) is False
    assert services.may_see_identities(supplier, draw) is False
    services.sign_off(Actor.for_user(supervisor), draw)
    services.disclose(Actor.for_user(staff), DrawRequest.objects.get(pk=draw.pk))
    assert services.may_see_identities(agent, DrawRequest.objects.get(pk=draw.pk)) is True


def test_only_staff_request_draws(agent, supplier, supervisor, project):
    pool_staff = None  # noqa: F841 - the pool is irrelevant: permission is checked first
    for user in (agent, supplier, supervisor):
        with pytest.raises(NotPermitted):
            services.commit_draw(
                Actor.for_user(user),
                project,
                evaluation_at=EVALUATION,
                committee_size=5,
                quotas=[{"specialty": "A08", "count": 5}],
            )


__all__ = ["beijing"]
