"""Draft → submitted → approved (or returned) → published, with every step audited and authorized."""

from __future__ import annotations

import pytest

from accounts.actors import Actor
from audit.models import AuditEvent
from lib.errors import DomainError, NotPermitted
from tests.trading.factories import draft, published
from trading import services
from trading.exceptions import WrongStatus
from trading.models import Announcement, Project

pytestmark = pytest.mark.django_db


def test_an_agent_drafts_a_project_its_organization_may_manage(agent, supplier):
    project = draft(agent)
    assert project.status == Project.Status.DRAFT
    assert project.number.startswith("BH")
    assert project.agent == agent.organization
    assert agent.has_perm("trading.change_project", project)
    assert not supplier.has_perm("trading.change_project", project)
    assert AuditEvent.objects.filter(
        action="trading.project.created", object_id=str(project.pk)
    ).exists()


def test_only_agents_draft_projects(supplier, staff):
    for user in (supplier, staff):
        with pytest.raises(NotPermitted):
            draft(user)


def test_the_full_path_to_publication(agent, staff):
    project = published(agent, staff)
    assert project.status == Project.Status.PUBLISHED
    announcement = Announcement.objects.get(project=project)
    assert announcement.kind == Announcement.Kind.TENDER
    version = announcement.versions.get()
    assert version.content["project"]["lots"][0]["ceiling_price"] == "36500000.00"
    actions = list(
        AuditEvent.objects.filter(object_type="trading.project", object_id=str(project.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "trading.project.created",
        "trading.project.submitted",
        "trading.project.approved",
        "trading.project.published",
    ]


def test_staff_return_a_project_with_reasons_and_the_agent_resubmits(agent, staff):
    project = draft(agent)
    services.submit_project(Actor.for_user(agent), project)
    with pytest.raises(DomainError):
        services.return_project(Actor.for_user(staff), project, reason=" ")
    services.return_project(Actor.for_user(staff), project, reason="缺少资金来源证明")
    project.refresh_from_db()
    assert (project.status, project.return_reason) == (Project.Status.RETURNED, "缺少资金来源证明")
    services.update_project(Actor.for_user(agent), project, description="资金来源：财政资金")
    services.submit_project(Actor.for_user(agent), project)
    services.approve_project(Actor.for_user(staff), project)
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED


def test_only_approved_projects_can_be_published(agent, staff):
    project = draft(agent)
    with pytest.raises(WrongStatus):
        services.publish_project(Actor.for_user(agent), project)
    services.submit_project(Actor.for_user(agent), project)
    with pytest.raises(WrongStatus):
        services.publish_project(Actor.for_user(agent), project)


def test_agents_cannot_approve_and_other_agents_cannot_touch(agent, staff):
    from tests.conftest import make_org, make_user

    rival = make_user("rival", "agent", make_org("agent", "另一代理"))
    project = draft(agent)
    services.submit_project(Actor.for_user(agent), project)
    with pytest.raises(NotPermitted):
        services.approve_project(Actor.for_user(agent), project)
    with pytest.raises(NotPermitted):
        services.update_project(Actor.for_user(rival), project, title="抢改")


def test_a_submitted_project_can_no_longer_be_edited(agent):
    project = draft(agent)
    services.submit_project(Actor.for_user(agent), project)
    with pytest.raises(WrongStatus):
        services.update_project(Actor.for_user(agent), project, title="偷改")


def test_a_minimum_price_cannot_be_configured(agent):
    with pytest.raises(DomainError) as refused:
        draft(agent, minimum_price="30000000")
    assert refused.value.code == "MINIMUM_PRICE_FORBIDDEN"
    lots = [{"name": "一标段", "estimate": "1000000", "floor_price": "900000"}]
    with pytest.raises(DomainError) as refused:
        draft(agent, lots=lots)
    assert refused.value.code == "MINIMUM_PRICE_FORBIDDEN"
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("estimate", "code"),
    [
        (1.5, "AMOUNT_NOT_STRING"),
        ("12.345", "AMOUNT_INVALID"),
        ("-1", "AMOUNT_INVALID"),
        ("abc", "AMOUNT_INVALID"),
        ("1e20", "AMOUNT_INVALID"),
        ("１２３", "AMOUNT_INVALID"),
        ("100000000000000000000", "AMOUNT_OUT_OF_RANGE"),
    ],
)
def test_bad_money_is_refused_with_a_code(agent, estimate, code):
    with pytest.raises(DomainError) as refused:
        draft(agent, lots=[{"name": "x", "estimate": estimate}])
    assert refused.value.code == code
    assert not Project.objects.exists()
