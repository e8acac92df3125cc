"""A complaint case in progress (idempotent): on the published GP demo project, a supplier's 质疑 was
answered, it complained, and the regulator accepted the case and waits for the agent's explanation;
a second supplier's complaint waits for the acceptance review."""

from __future__ import annotations

from typing import Any

from accounts.actors import Actor
from accounts.models import User
from complaints import services
from complaints.models import Complaint
from trading import services as trading
from trading.models import Project

PROJECT_TITLE = "斗门区智慧课堂设备采购项目"
CASES = [
    # (supplier username, the 质疑, the agent's reply, facts, claims, accepted)
    (
        "supplier",
        "交互式黑板技术参数第3.2项要求的触控识别方式仅一家品牌具备，具有排他性。",
        "该参数为满足教学需要设定，市场上至少三个品牌满足。",
        "采购人答复所称三个品牌中，两家并不具备该触控识别方式，参数设置排斥潜在供应商。",
        "责令修改采购文件第3.2项技术参数后继续采购活动。",
        True,
    ),
    (
        "supplier4",
        "录播系统包的资格条件要求本地服务网点，限制外地供应商。",
        "本地服务网点为保障售后响应时间所必需。",
        "要求在本地设立服务网点属于以不合理条件对供应商实行差别待遇。",
        "认定该资格条件无效并责令修改采购文件。",
        False,
    ),
]


def seed(out: Any) -> None:
    project = Project.objects.filter(title=PROJECT_TITLE, status=Project.Status.PUBLISHED).first()
    if project is None or project.complaints.exists():
        out.write(f"complaints: {Complaint.objects.count()} demo cases\n")
        return
    agent = Actor.for_user(User.objects.get(username="agent"))
    supervisor = Actor.for_user(User.objects.get(username="supervisor"))
    for username, challenge, reply, facts, claims, accepted in CASES:
        supplier = Actor.for_user(User.objects.get(username=username))
        objection = trading.raise_objection(supplier, project, text=challenge)
        trading.reply_objection(agent, objection, reply=reply)
        complaint = services.file_complaint(
            supplier,
            project,
            subject=Complaint.Subject.DOCUMENTS,
            facts=facts,
            claims=claims,
            objection=objection,
        )
        if accepted:
            services.accept_complaint(supervisor, complaint)
    out.write(f"complaints: {Complaint.objects.count()} demo cases\n")
