"""The demos' committees: five seats drawn for a demo project, signed off and confirmed (idempotent)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from experts import services as experts
from experts.models import DrawnExpert, DrawRequest
from lib.errors import present
from trading.models import Project


def seat_committee(
    project: Project, staff: User, supervisor: User, specialty: str
) -> DrawRequest | None:
    """A committee of five of `specialty` for an evaluation 30 minutes after the project's deadline,
    run by `staff` with `supervisor` present and signed off, every seat confirmed by its expert. None
    when that evaluation time has passed without a draw (a second seeding much later)."""
    draw = DrawRequest.objects.filter(project=project, replaces_in__isnull=True).first()
    if draw is None:
        deadline = present(project.bid_deadline, "a published project's deadline")
        evaluation_at = deadline + dt.timedelta(minutes=30)
        if timezone.now() >= evaluation_at:
            return None
        draw = experts.commit_draw(
            Actor.for_user(staff),
            project,
            evaluation_at=evaluation_at,
            committee_size=5,
            quotas=[{"specialty": specialty, "count": 5}],
            alternates=2,
            supervisor=supervisor,
        )
    if draw.status == DrawRequest.Status.COMMITTED:
        experts.run_draw(Actor.for_user(staff), draw)
        draw.refresh_from_db()
    if draw.status == DrawRequest.Status.DRAWN:
        experts.sign_off(Actor.for_user(supervisor), draw)
        draw.refresh_from_db()
    for seat in draw.drawn.filter(
        seated=True, response=DrawnExpert.Response.PENDING
    ).select_related("expert__user"):
        if seat.expert.user is not None:
            experts.respond(Actor.for_user(seat.expert.user), seat, confirm=True)
    return draw
