"""The draw record (专家抽取记录) as an A4 PDF.

One function, two copies: the standard copy (center staff, the file) states the request, the commitment
(request, pool and seed hashes, commit time), the revealed seed, every drawn member and alternate in draw
order with their responses, the number of experts excluded, the supervisor's sign-off, and the command
that recomputes the draw. The supervisor's copy adds the excluded experts' names and reasons, which are
for supervisors only (`experts.access`).

Drawn from committed rows with the shared PDF building blocks (lib/pdf.py: the embedded WenQuanYi Micro
Hei face, so Chinese renders and extracts everywhere). Callers render outside `transaction.atomic()`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from experts.models import DrawnExpert, DrawRequest, Expert
from experts.rules import EXCLUSION_REASONS
from lib.pdf import (
    CONTENT_WIDTH,
    beijing,
    beijing_seconds,
    build_pdf,
    chinese,
    choice,
    facts_table,
    styles,
    table,
    text,
    verification_block,
)

# Bump when the layout changes.
PDF_LAYOUT = "1"


def verify_command(draw: DrawRequest) -> str:
    return f"python manage.py verify_draw {draw.pk}"


def draw_url(draw: DrawRequest) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("draw_detail", args=[draw.pk])


def _person(user: Any) -> str:
    if user is None:
        return "—"
    name = getattr(user, "display_name", "") or ""
    return f"{name}（{user.username}）" if name else user.username


def _facts(draw: DrawRequest, s: dict) -> Any:
    project = draw.project
    quotas = "；".join(f"{q['specialty']} × {q['count']}" for q in draw.quotas)
    rows = [
        ("项目编号", text(project.number)),
        ("项目名称", text(project.title)),
        ("标段/包", text(f"{draw.lot.number}. {draw.lot.name}") if draw.lot else "整个项目"),
        ("组别", text(choice(DrawRequest.Panel, draw.panel))),
        (
            "成员总数",
            text(f"{draw.committee_size} 人（其中招标人代表 {draw.owner_representatives} 人）"),
        ),
        ("专业配额", text(quotas)),
        ("每个专业的候补人数", text(draw.alternates)),
        ("限定地区", text("、".join(draw.allowed_regions) or "不限")),
        ("排除地区", text("、".join(draw.excluded_regions) or "无")),
        ("评标时间", f"{beijing(draw.evaluation_at)}（北京时间）"),
        ("申请人", text(_person(draw.requested_by))),
        ("封存时间", f"{beijing_seconds(draw.committed_at)}（北京时间）"),
        (
            "抽取时间",
            f"{beijing_seconds(draw.drawn_at)}（北京时间）" if draw.drawn_at else "尚未抽取",
        ),
        ("状态", text(choice(DrawRequest.Status, draw.status))),
    ]
    if draw.replaces_in_id:
        rows.insert(3, ("替补抽取", text(f"补足抽取记录 #{draw.replaces_in_id} 的空缺席位")))
    return facts_table(rows, s, label_width=34 * mm)


def _commitment(draw: DrawRequest, s: dict) -> Any:
    rows = [
        ("抽取请求哈希", f'<font size="7.2">{text(draw.request_hash)}</font>'),
        ("合格专家池哈希", f'<font size="7.2">{text(draw.pool_hash)}</font>'),
        ("种子哈希（SHA-256）", f'<font size="7.2">{text(draw.seed_hash)}</font>'),
        (
            "公开的种子",
            f'<font size="7.2">{text(draw.seed)}</font>' if draw.drawn_at else "抽取前保密",
        ),
    ]
    return facts_table(rows, s, label_width=34 * mm)


def _drawn(draw: DrawRequest, s: dict) -> Any:
    header = ["专业", "顺序", "身份", "姓名", "职称", "地区", "回复"]
    rows: list[list[Any]] = [[Paragraph(h, s["cell"]) for h in header]]
    drawn = draw.drawn.select_related("expert").order_by("quota", "position")
    for row in drawn:
        role = choice(DrawnExpert.Role, row.role)
        if row.role == DrawnExpert.Role.ALTERNATE and row.seated:
            role += "（已递补）"
        response = choice(DrawnExpert.Response, row.response)
        if row.decline_reason:
            response += f"：{row.decline_reason}"
        specialty = draw.quotas[row.quota]["specialty"] if row.quota < len(draw.quotas) else ""
        values = [
            specialty,
            str(row.position + 1),
            role,
            row.expert.name,
            choice(Expert.Title, row.expert.title),
            row.expert.region,
            response,
        ]
        rows.append([Paragraph(text(v), s["cell"]) for v in values])
    widths = [18 * mm, 11 * mm, 24 * mm, 24 * mm, 24 * mm, 17 * mm, 0]
    widths[-1] = CONTENT_WIDTH - sum(widths)
    return table(rows, widths)


def _exclusions(draw: DrawRequest, s: dict, *, supervisor_copy: bool) -> list[Any]:
    exclusions = list(
        draw.exclusions.select_related("expert", "expert__employer").order_by(
            "expert__name", "expert_id"
        )
    )
    story: list[Any] = [
        Paragraph(
            text(f"按回避规则排除专家 {len(exclusions)} 名。")
            + ("" if supervisor_copy else "排除名单及原因仅载于监督人员存档联。"),
            s["body"],
        )
    ]
    if supervisor_copy and exclusions:
        rows: list[list[Any]] = [[Paragraph(h, s["cell"]) for h in ("姓名", "工作单位", "原因")]]
        for row in exclusions:
            reasons = "；".join(str(EXCLUSION_REASONS.get(code, code)) for code in row.reasons)
            employer = row.expert.employer.name if row.expert.employer else "—"
            rows.append(
                [Paragraph(text(v), s["cell"]) for v in (row.expert.name, employer, reasons)]
            )
        story.append(table(rows, [26 * mm, 60 * mm, CONTENT_WIDTH - 86 * mm]))
    return story


def _sign_off(draw: DrawRequest, s: dict) -> Paragraph:
    if draw.signed_off_at:
        line = (
            f"现场监督 {_person(draw.supervisor)} 已于 {beijing_seconds(draw.signed_off_at)}"
            "（北京时间）确认本次抽取。"
        )
    elif draw.supervisor_id:
        line = f"指定现场监督 {_person(draw.supervisor)}，尚未确认。"
    else:
        line = "尚未经监督确认。"
    if draw.disclosed_at:
        line += f"名单已于 {beijing_seconds(draw.disclosed_at)}（北京时间）公开。"
    return Paragraph(text(line), s["body"])


def render_draw_record(draw: DrawRequest, *, supervisor_copy: bool = False) -> bytes:
    """The A4 PDF of one draw's record; `supervisor_copy` adds the excluded experts and reasons."""
    with chinese():
        s = styles()
        title = "评标专家抽取记录" + ("（监督人员存档联）" if supervisor_copy else "")
        story: list[Any] = [
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 2 * mm),
            Paragraph(text(title), s["title"]),
            Spacer(1, 3 * mm),
            _facts(draw, s),
            Paragraph("承诺与公开", s["heading"]),
            Paragraph(
                "抽取前封存合格专家池和随机种子，仅公布其哈希；抽取后公开种子，任何人可按公开的算法复核。",
                s["small"],
            ),
            _commitment(draw, s),
            Paragraph("抽取结果（按抽取顺序）", s["heading"]),
        ]
        if draw.drawn_at:
            story.append(_drawn(draw, s))
        else:
            story.append(Paragraph("尚未抽取。", s["body"]))
        story += [Paragraph("回避排除", s["heading"])]
        story += _exclusions(draw, s, supervisor_copy=supervisor_copy)
        story += [Paragraph("监督确认", s["heading"]), _sign_off(draw, s)]
        story.append(
            verification_block(
                [("种子哈希（SHA-256）", draw.seed_hash), ("复核命令", verify_command(draw))],
                url=draw_url(draw),
                url_label="抽取记录地址",
                note=(
                    f"在平台服务器上运行 {text(verify_command(draw))} 可用公开的种子重新计算本次抽取；"
                    "种子须与种子哈希一致，专家池与请求须与其哈希一致，结果须与本记录一致。"
                ),
                s=s,
            )
        )
        return build_pdf(
            story,
            title=title,
            subject=f"{draw.project.number} draw {draw.pk} seed_hash {draw.seed_hash}",
            footer=f"{draw.project.number} · 专家抽取记录 #{draw.pk}",
        )
