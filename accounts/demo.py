"""Demo parties: organizations of every kind and one login per role (see README)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import members, registration, services
from accounts.actors import Actor
from accounts.models import (
    IntegrityRecord,
    Organization,
    OrgRole,
    Role,
    User,
)
from accounts.tokens import make_token

DEMO_PASSWORD = "bidhall-demo-2026"

ORGANIZATIONS = [
    # (key, USCC, name, kind)
    ("center", "12440400455580013L", "珠海市公共资源交易中心", Organization.Kind.CENTER),
    ("regulator", "11440400007000011B", "珠海市发展和改革局", Organization.Kind.REGULATOR),
    ("owner", "1144040000700002X3", "珠海市教育局", Organization.Kind.OWNER),
    ("agent", "91440400MA4W2B012X", "广东正诚招标代理有限公司", Organization.Kind.AGENT),
    ("agent2", "91440400MA4W2B020Q", "珠海市建设工程咨询有限公司", Organization.Kind.AGENT),
    ("supplier", "91440400MA4W1A0145", "珠海华信建设工程有限公司", Organization.Kind.SUPPLIER),
    ("supplier2", "91440400MA4W1A0220", "广东粤海建筑集团有限公司", Organization.Kind.SUPPLIER),
    ("supplier3", "91440400MA4W1A030T", "珠海城建市政工程有限公司", Organization.Kind.SUPPLIER),
    ("supplier4", "91440400MA4W1A049P", "横琴新区宏达科技有限公司", Organization.Kind.SUPPLIER),
    ("landbidder", "91440400MA4W1A057J", "珠海金湾置业有限公司", Organization.Kind.SUPPLIER),
    ("barred", "91440400MA4W1A065D", "珠海斗门诚信贸易有限公司", Organization.Kind.SUPPLIER),
    ("institute", "91440400MA4W1A0738", "珠海市建筑设计研究院有限公司", Organization.Kind.SUPPLIER),
]

USERS = [
    # (username, organization key, role, display name)
    ("staff", "center", Role.CENTER_STAFF, "陈工作（交易中心）"),
    ("supervisor", "regulator", Role.SUPERVISOR, "李监督（发改局）"),
    ("agent", "agent", Role.AGENT, "王代理（正诚招标）"),
    ("agent2", "agent2", Role.AGENT, "赵代理（建设咨询）"),
    ("supplier", "supplier", Role.SUPPLIER, "张投标（华信建设）"),
    ("supplier2", "supplier2", Role.SUPPLIER, "刘投标（粤海建筑）"),
    ("supplier3", "supplier3", Role.SUPPLIER, "黄投标（城建市政）"),
    ("supplier4", "supplier4", Role.SUPPLIER, "周投标（宏达科技）"),
    ("landbidder", "landbidder", Role.SUPPLIER, "吴竞买（金湾置业）"),
    ("barred", "barred", Role.SUPPLIER, "郑投标（诚信贸易，受限）"),
    ("expert", "institute", Role.EXPERT, "孙专家（设计研究院）"),
]


# Organizations that came in through self-registration (主体注册): (key, USCC, name, admin username,
# where their application stands, the reasons it was returned with).
SELF_REGISTERED = [
    ("selfreg", "91440400MA4W1A815M", "珠海自助注册建材有限公司", "zizhu", "approved", ""),
    ("pending", "91440400MA4W1A823G", "珠海待审核工程有限公司", "daishen", "submitted", ""),
    (
        "returned",
        "91440400MA4W1A831B",
        "珠海退回补正科技有限公司",
        "buzheng",
        "returned",
        "营业执照扫描件不清晰，请重新上传；基本账户开户行请填写全称。",
    ),
]
# Users the approved self-registered supplier's administrator invited, with their roles inside it.
INVITED = [
    ("zizhu_bid", "孙投标（自助注册建材）", [OrgRole.BID_OPERATOR]),
    ("zizhu_fin", "钱财务（自助注册建材）", [OrgRole.FINANCE]),
]
# A minimal PDF standing for a scanned business licence.
DEMO_LICENSE = b"%PDF-1.4\n% bidhall demo business licence\n%%EOF\n"


def seed_self_registered(staff: User) -> None:
    """The registration demo, through the same services the pages call (idempotent)."""
    public = Actor.system("seed_demo")
    reviewer = Actor.for_user(staff)
    for key, uscc, name, username, outcome, reasons in SELF_REGISTERED:
        if Organization.objects.filter(uscc=uscc).exists():
            continue
        application = registration.register(
            public,
            uscc=uscc,
            data={
                "name": name,
                "kind": Organization.Kind.SUPPLIER,
                "legal_representative": "示例法人",
                "basic_account_bank": "中国工商银行珠海分行",
                "basic_account_number": f"20020202091000{len(key):05d}",
                "region": "440402",
                "contact_name": f"{name[2:5]}联系人",
                "contact_email": f"{key}@demo.bidhall.test",
                "contact_phone": "13800138000",
            },
            license=SimpleUploadedFile("license.pdf", DEMO_LICENSE, "application/pdf"),
            username=username,
            password=DEMO_PASSWORD,
            display_name=f"{name[2:5]}管理员",
        )
        admin = application.created_by
        registration.verify_email(
            public, make_token("email", {"user": admin.pk, "email": admin.email})
        )
        if outcome == "approved":
            registration.approve(reviewer, application)
        elif outcome == "returned":
            registration.return_application(reviewer, application, reasons=reasons)
        if key == "selfreg":
            admin.refresh_from_db()
            for invited, display_name, roles in INVITED:
                invitation = members.invite(
                    Actor.for_user(admin),
                    email=f"{invited}@demo.bidhall.test",
                    roles=[str(role) for role in roles],
                    display_name=display_name,
                )
                members.accept_invitation(
                    public,
                    token=make_token("invitation", {"invitation": invitation.pk}),
                    username=invited,
                    password=DEMO_PASSWORD,
                )


def seed(out: Any) -> dict[str, Any]:
    actor = Actor.system("seed_demo")
    orgs: dict[str, Organization] = {}
    for key, uscc, name, kind in ORGANIZATIONS:
        org = Organization.objects.filter(uscc=uscc).first()
        if org is None:
            org = services.create_organization(
                actor, uscc=uscc, name=name, kind=kind, region="440400"
            )
        orgs[key] = org

    users: dict[str, User] = {}
    for username, org_key, role, display_name in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.create_user(
                actor,
                organization=orgs[org_key],
                username=username,
                role=role,
                password=DEMO_PASSWORD,
                display_name=display_name,
            )
        users[username] = user

    barred = orgs["barred"]
    if not barred.integrity_records.exists():
        today = timezone.localdate()
        services.bar_organization(
            Actor.for_user(users["staff"]),
            barred,
            category=IntegrityRecord.Category.BAD_CONDUCT,
            source=IntegrityRecord.Source.REGULATOR,
            reason="提供虚假材料谋取中标（示例数据）",
            decision_number="珠发改处〔2026〕12号",
            barred_from=today - dt.timedelta(days=30),
            barred_until=today + dt.timedelta(days=365),
        )
    seed_self_registered(users["staff"])
    return {"organizations": orgs, "users": users}


def logins() -> list[tuple[str, str, str]]:
    fixed = [(username, DEMO_PASSWORD, str(Role(role).label)) for username, _, role, _ in USERS]
    registered = [
        (username, DEMO_PASSWORD, f"{Role(Role.SUPPLIER).label} · {outcome}")
        for _, _, _, username, outcome, _ in SELF_REGISTERED
    ]
    invited = [
        (username, DEMO_PASSWORD, "、".join(str(OrgRole(r).label) for r in roles))
        for username, _, roles in INVITED
    ]
    return fixed + registered + invited
