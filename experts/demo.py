"""Demo expert pool and one supervised draw (idempotent).

- a specialty tree (A08 建筑工程 → A0801 土建, A0802 安装; C01 工程造价; B02 信息技术);
- 30 experts across specialties and regions, some of whom a draw must leave out: one works for the demo
  agent, one for the regulator, one is suspended, one lives outside the allowed region, and two have
  declared ties to demo suppliers (a shareholding, a relative) — those two are excluded from any tender
  the suppliers register for;
- one draw for the published tender 珠海市第一中学教学楼改造工程施工: committed and run by `staff`,
  signed off by `supervisor`. The draw is NOT steered: after it has run, the demo login `expert` is linked
  to the pool record of the first seated member, so that login has a seat to confirm whatever the seed
  picked. `python manage.py verify_draw <id>` passes on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.demo import ORGANIZATIONS
from accounts.models import Organization, User
from accounts.tokens import make_token
from audit.services import record
from experts import applications, services
from experts.models import DrawnExpert, DrawRequest, Expert, ExpertApplication, Specialty
from trading.models import Project

TENDER = "珠海市第一中学教学楼改造工程施工"

SPECIALTIES = [
    ("A08", "建筑工程"),
    ("A0801", "土建"),
    ("A0802", "安装"),
    ("B02", "信息技术"),
    ("C01", "工程造价"),
]

# (name, title, years, region, specialties, employer key) — employer keys are accounts.demo ORGANIZATIONS.
EXPERTS: list[tuple[str, str, int, str, list[str], str | None]] = [
    ("王建国", "senior", 18, "440402", ["A0801"], "institute"),
    ("李志强", "professor", 26, "440402", ["A0801"], None),
    ("张伟明", "senior", 12, "440403", ["A0801"], None),
    ("刘海涛", "senior", 15, "440404", ["A0801", "C01"], "institute"),
    ("陈立新", "equivalent", 21, "440100", ["A0801"], None),
    ("杨春华", "senior", 10, "440300", ["A0801"], None),
    ("赵永刚", "professor", 30, "440402", ["A0801"], None),
    ("黄德胜", "senior", 14, "440402", ["A0801"], "institute"),
    ("周文斌", "senior", 11, "440404", ["A0801"], None),
    ("吴国平", "senior", 16, "440403", ["A0802"], None),
    ("徐光明", "senior", 13, "440402", ["A0802"], "institute"),
    ("孙红梅", "professor", 24, "440100", ["A0802"], None),
    ("马俊杰", "senior", 9, "440402", ["A0802"], None),
    ("朱振华", "senior", 19, "440300", ["A0802", "A0801"], None),
    ("胡晓东", "senior", 12, "440402", ["C01"], None),
    ("郭丽娟", "senior", 17, "440402", ["C01"], "institute"),
    ("何建平", "equivalent", 22, "440404", ["C01"], None),
    ("林小燕", "senior", 10, "440403", ["C01"], None),
    ("罗志明", "professor", 28, "440100", ["C01"], None),
    ("梁宏伟", "senior", 15, "440402", ["C01"], None),
    ("宋佳", "senior", 9, "440402", ["B02"], None),
    ("郑浩然", "senior", 11, "440300", ["B02"], None),
    ("谢文静", "professor", 20, "440402", ["B02"], None),
    ("韩磊", "senior", 13, "440404", ["B02"], None),
    ("唐明辉", "senior", 14, "440402", ["B02", "C01"], None),
    # Left out of the demo draw, each for a recorded reason (shown to supervisors only):
    ("冯建业", "senior", 16, "440402", ["A0801"], "agent"),  # works for the agent
    ("邓海波", "senior", 18, "440402", ["C01"], "regulator"),  # regulator staff
    ("曹永安", "senior", 20, "440403", ["A0801"], None),  # suspended below
    ("彭志远", "senior", 12, "430100", ["A0802"], None),  # outside the allowed region (Guangdong)
    ("曾庆丰", "senior", 15, "440402", ["A0801"], None),  # shareholder of supplier (tie below)
    ("吕秀英", "senior", 17, "440402", ["C01"], None),  # relative at supplier2 (relation below)
]


def _organizations() -> dict[str, Organization]:
    by_uscc = {
        o.uscc: o for o in Organization.objects.filter(uscc__in=[o[1] for o in ORGANIZATIONS])
    }
    return {key: by_uscc[uscc] for key, uscc, _name, _kind in ORGANIZATIONS if uscc in by_uscc}


def _pool(staff: Actor, orgs: dict[str, Organization]) -> None:
    for code, name in SPECIALTIES:
        # Reference data (the center's specialty catalogue); there is no service for it.
        Specialty.objects.get_or_create(code=code, defaults={"name": name})
    for index, (name, title, years, region, codes, employer) in enumerate(EXPERTS, start=1):
        if Expert.objects.filter(name=name).exists():
            continue
        expert = services.add_expert(
            staff,
            name=name,
            title=title,
            years_in_field=years,
            region=region,
            specialties=codes,
            employer=orgs.get(employer) if employer else None,
            phone=f"1380000{index:04d}",
        )
        if name == "曹永安":
            services.set_status(
                staff,
                expert,
                status=Expert.Status.SUSPENDED,
                until=None,
                reason="一年内两次无故缺席（示例数据）",
            )
        elif name == "曾庆丰":
            services.declare_tie(
                staff,
                expert,
                orgs["supplier"],
                role="shareholder",
                start=dt.date(2021, 6, 1),
            )
        elif name == "吕秀英":
            services.declare_relation(
                staff,
                expert,
                orgs["supplier2"],
                kind="relative",
                person_name="法定代表人之配偶（示例数据）",
            )


def _draw(staff: User, supervisor: User, project: Project, out: Any) -> DrawRequest | None:
    draw = DrawRequest.objects.filter(project=project, replaces_in__isnull=True).first()
    as_staff = Actor.for_user(staff)
    if draw is None:
        if project.bid_deadline is None:
            return None
        # Evaluation half an hour after the bids are opened.
        evaluation_at = project.bid_deadline + dt.timedelta(minutes=30)
        if evaluation_at <= timezone.now():
            out.write("experts: the demo tender's evaluation time has passed; no demo draw\n")
            return None
        draw = services.commit_draw(
            as_staff,
            project,
            evaluation_at=evaluation_at,
            committee_size=7,
            owner_representatives=1,
            quotas=[
                {"specialty": "A0801", "count": 3},
                {"specialty": "A0802", "count": 1},
                {"specialty": "C01", "count": 2},
            ],
            alternates=2,
            allowed_regions=["44"],
            supervisor=supervisor,
        )
    if draw.status == DrawRequest.Status.COMMITTED:
        services.run_draw(as_staff, draw)
        draw.refresh_from_db()
    if draw.status == DrawRequest.Status.DRAWN:
        draw = services.sign_off(Actor.for_user(supervisor), draw)
    return draw


def _link_demo_expert(staff: User, user: User, draw: DrawRequest) -> Expert | None:
    """Give the demo login `expert` the pool record of the first seated member of the (unsteered) draw,
    so the demo has a seat to confirm. There is no service for linking a login to an existing pool
    record, so this writes the link and its audit event in one transaction, as a service would."""
    if Expert.objects.filter(user=user).exists():
        return Expert.objects.get(user=user)
    seat = (
        DrawnExpert.objects.filter(draw=draw, seated=True, expert__user__isnull=True)
        .select_related("expert")
        .order_by("quota", "position")
        .first()
    )
    if seat is None:
        return None
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=seat.expert_id)
        expert.user = user
        expert.save(update_fields=["user"])
        record(
            Actor.for_user(staff),
            "experts.expert.user_linked",
            expert,
            {"user": user.username, "reason": "demo: the login of the first seated member"},
        )
    return expert


# One expert application waiting for center staff's review (专家申请审核), its email verified.
APPLICANT = {
    "name": "宁志远",
    "id_number": "440400198001011239",
    "title": "senior",
    "years_in_field": 14,
    "region": "440402",
    "employer": "珠海市建筑设计研究院有限公司",
    "employer_uscc": "91440400MA4W1A0738",
    "specialties": ["A0801", "C01"],
    "email": "ning@demo.bidhall.test",
    "phone": "13600136000",
}


def _application() -> None:
    if ExpertApplication.objects.filter(id_number=APPLICANT["id_number"]).exists():
        return
    public = Actor.system("seed_demo")
    application = applications.apply(public, APPLICANT)
    token = make_token("expert-email", {"application": application.pk, "email": application.email})
    applications.verify_email(public, token)


def seed(out: Any) -> None:
    staff = User.objects.get(username="staff")
    supervisor = User.objects.get(username="supervisor")
    expert_user = User.objects.get(username="expert")
    _pool(Actor.for_user(staff), _organizations())
    _application()
    project = Project.objects.filter(title=TENDER, status=Project.Status.PUBLISHED).first()
    draw = _draw(staff, supervisor, project, out) if project is not None else None
    linked = _link_demo_expert(staff, expert_user, draw) if draw is not None else None
    out.write(
        f"experts: {Expert.objects.count()} experts"
        + (f", draw {draw.pk} ({draw.get_status_display()})" if draw else "")
        + (f", login 'expert' is {linked.name}" if linked else "")
        + "\n"
    )
