"""A drawn expert alone is told, with a legal deadline and a signed link that confirms or declines from
the SMS without signing in (audited as that expert, good once); a decline calls the next alternate, who
is told in turn. Supervisors hear of alerts; center staff too when the alert is about custody."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.test import Client

from accounts.actors import Actor
from accounts.models import Role
from accounts.tokens import TokenRefused
from audit.alerts import raise_alert
from audit.models import Alert, AuditEvent
from experts import services as experts
from experts.models import DrawnExpert, Expert
from notifications.models import Notice
from tests.bidding.world import T0, travel
from tests.conftest import make_user
from tests.experts.helpers import pool
from tests.trading.factories import published, timeline

pytestmark = pytest.mark.django_db


def _drawn(staff, supervisor, agent):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1), **timeline(T0))
    experts_ = pool(staff, count=8, specialty="A08")
    for i, expert in enumerate(experts_):
        assert expert.employer is not None
        user = make_user(f"pool{i}", Role.EXPERT, expert.employer)
        Expert.objects.filter(pk=expert.pk).update(user=user)
    deadline = project.bid_deadline
    assert deadline is not None
    with travel(deadline - dt.timedelta(days=1)):
        draw = experts.commit_draw(
            Actor.for_user(staff),
            project,
            evaluation_at=deadline + dt.timedelta(hours=2),
            committee_size=5,
            quotas=[{"specialty": "A08", "count": 5}],
            supervisor=supervisor,
        )
        experts.run_draw(Actor.for_user(staff), draw)
    return project, draw


def test_a_drawn_expert_confirms_from_the_sms_link_without_signing_in(staff, supervisor, agent):
    project, draw = _drawn(staff, supervisor, agent)
    seated = list(DrawnExpert.objects.filter(draw=draw, seated=True).select_related("expert__user"))
    notices = Notice.objects.filter(kind="expert.drawn")
    # The five seated members, nobody else (not the alternates, the agent, staff or supervisors).
    assert {n.recipient_id for n in notices} == {s.expert.user_id for s in seated}
    assert all(n.legal and n.due_at == draw.evaluation_at for n in notices)
    first = seated[0]
    notice = notices.get(recipient=first.expert.user)
    assert notice.params["link"] in notice.body  # the SMS text carries the link
    link = urlsplit(notice.params["link"])
    page = f"{link.path}?{link.query}"

    browser = Client()  # nobody signed in
    with travel(draw.evaluation_at - dt.timedelta(hours=5)):
        response = browser.get(page)
        assert response.status_code == 200
        assert project.title in response.content.decode()
        token = dict(p.split("=", 1) for p in link.query.split("&"))["t"]
        response = browser.post(link.path, {"t": token, "answer": "confirm"})
        assert response.status_code == 200, response.content
        first.refresh_from_db()
        assert first.response == DrawnExpert.Response.CONFIRMED
        event = AuditEvent.objects.filter(action="experts.expert.confirmed").get()
        assert event.actor_id == first.expert.user_id
        # Good once: the same link again is refused.
        again = browser.post(link.path, {"t": token, "answer": "decline", "reason": "临时有事"})
        assert again.status_code == 409
    first.refresh_from_db()
    assert first.response == DrawnExpert.Response.CONFIRMED
    # Another seat's link does not answer for this one, and a forged token is refused.
    assert browser.get(link.path + "?t=" + token[:-2] + "xx").status_code == 400


def test_a_decline_by_link_calls_the_next_alternate_who_is_told(staff, supervisor, agent):
    _project, draw = _drawn(staff, supervisor, agent)
    seat = DrawnExpert.objects.filter(draw=draw, seated=True).select_related("expert").first()
    assert seat is not None
    token = urlsplit(experts.seat_link(seat)).query.split("t=", 1)[1]
    with travel(draw.evaluation_at - dt.timedelta(hours=5)):
        experts.respond_by_link(token, confirm=False, reason="回避：与投标人有关联")
    alternate = DrawnExpert.objects.get(
        draw=draw, role=DrawnExpert.Role.ALTERNATE, seated=True, quota=seat.quota
    )
    assert Notice.objects.filter(kind="expert.drawn", recipient=alternate.expert.user).count() == 1
    # After the evaluation time the link no longer answers.
    other = (
        DrawnExpert.objects.filter(draw=draw, seated=True, response=DrawnExpert.Response.PENDING)
        .exclude(pk=alternate.pk)
        .first()
    )
    assert other is not None
    late = urlsplit(experts.seat_link(other)).query.split("t=", 1)[1]
    with travel(draw.evaluation_at + dt.timedelta(minutes=1)), pytest.raises(TokenRefused) as exc:
        experts.respond_by_link(late, confirm=True)
    assert exc.value.code == "TOKEN_EXPIRED"


def test_alerts_reach_supervisors_and_custody_alerts_center_staff(staff, supervisor, agent):
    from django.db import transaction

    with transaction.atomic():
        raise_alert(Actor.system("t"), Alert.Kind.SAME_IP, summary="同一IP", project_id=None)
    assert {n.recipient_id for n in Notice.objects.filter(kind="alert.raised")} == {supervisor.pk}
    with transaction.atomic():
        raise_alert(
            Actor.system("t"), Alert.Kind.REFUND_OVERDUE, summary="退款逾期", project_id=None
        )
    overdue = Notice.objects.filter(kind="alert.raised", params__summary="退款逾期")
    assert {n.recipient_id for n in overdue} == {supervisor.pk, staff.pk}
    assert not Notice.objects.filter(recipient=agent).exists()
