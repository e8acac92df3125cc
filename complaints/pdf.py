"""The regulator's written decision on a case, as a signed PDF: 投诉处理决定书 for a decided case,
不予受理决定书 for a refused one (政府采购法 Art.56; 94号令 Art.21, Art.31–33; 条例 Art.61).

What it states is `decision_content` (the case's facts and the regulator's decision, canonical JSON);
its SHA-256 is printed with the case page's address, so a printed copy can be checked against the case.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from complaints.models import Complaint
from lib.canonical import canonical_sha256, canonical_value
from lib.pdf import (
    beijing,
    build_pdf,
    chinese,
    choice,
    facts_table,
    multiline,
    styles,
    text,
    verification_block,
)

DECIDED = (Complaint.Status.DECIDED, Complaint.Status.REFUSED)
NOTE = (
    "本决定书由电子交易平台根据监督部门在平台上作出的决定生成并签章。"
    "扫描二维码或登录后打开案件页面，可核对本文件的哈希。"
)


def decision_content(complaint: Complaint) -> dict[str, Any]:
    """What the decision states, as canonical JSON values (hashed for the verification block)."""
    value: dict[str, Any] = canonical_value(
        {
            "number": complaint.number,
            "project": complaint.project.number,
            "lot": complaint.lot.number if complaint.lot else None,
            "regime": complaint.regime,
            "subject": complaint.subject,
            "complainant": {"name": complaint.complainant.name, "uscc": complaint.complainant.uscc},
            "respondent": {
                "name": complaint.project.agent.name,
                "uscc": complaint.project.agent.uscc,
            },
            "filed_at": complaint.filed_at,
            "claims": complaint.claims,
            "status": complaint.status,
            "accepted_at": complaint.accepted_at,
            "refused_at": complaint.refused_at,
            "refusal_reason": complaint.refusal_reason,
            "decided_at": complaint.decided_at,
            "outcome": complaint.outcome,
            "remedy": complaint.remedy,
            "decision": complaint.decision,
        }
    )
    return value


def decision_sha256(complaint: Complaint) -> str:
    return canonical_sha256(decision_content(complaint))


def case_url(complaint: Complaint) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("complaint_detail", args=[complaint.pk])


def render_decision(complaint: Complaint) -> bytes:
    """The signed PDF of a decided or refused case."""
    if complaint.status not in DECIDED:
        raise ValueError("only a decided or refused case has a written decision")
    project = complaint.project
    refused = complaint.status == Complaint.Status.REFUSED
    title = "投诉不予受理决定书" if refused else "投诉处理决定书"
    digest = decision_sha256(complaint)
    with chinese():
        s = styles()
        facts = [
            ("案件编号", text(complaint.number)),
            ("适用程序", text(choice(Complaint.Regime, complaint.regime))),
            ("项目", text(f"{project.number} {project.title}")),
            (
                "投诉人",
                f"{text(complaint.complainant.name)}<br/>统一社会信用代码：{text(complaint.complainant.uscc)}",
            ),
            ("被投诉人", text(project.agent.name)),
            ("投诉事项", text(choice(Complaint.Subject, complaint.subject))),
            ("投诉时间", f"{beijing(complaint.filed_at)}（北京时间）"),
        ]
        if refused:
            facts.append(("决定时间", f"{beijing(complaint.refused_at)}（北京时间）"))
        else:
            facts += [
                ("受理时间", f"{beijing(complaint.accepted_at)}（北京时间）"),
                ("决定时间", f"{beijing(complaint.decided_at)}（北京时间）"),
                ("处理结果", text(choice(Complaint.Outcome, complaint.outcome))),
                ("处理措施", text(choice(Complaint.Remedy, complaint.remedy))),
            ]
        story: list[Any] = [
            Paragraph(title, s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 5 * mm),
            facts_table(facts, s),
            Spacer(1, 4 * mm),
            Paragraph("投诉请求", s["heading"]),
            Paragraph(multiline(complaint.claims), s["body"]),
            Paragraph("不予受理的理由" if refused else "处理决定", s["heading"]),
            Paragraph(
                multiline(complaint.refusal_reason if refused else complaint.decision), s["body"]
            ),
            Paragraph("当事人对本决定不服的，可以依法申请行政复议或者提起行政诉讼。", s["body"]),
            verification_block(
                [("决定内容哈希（SHA-256）", digest)],
                url=case_url(complaint),
                url_label="案件页面（登录后）",
                note=NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"{title} {complaint.number}",
            subject=digest,
            footer=f"{complaint.number} · {digest[:16]}",
        )
