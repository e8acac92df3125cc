"""Announcement versions as A4 PDF documents (reportlab).

The PDF is drawn from the version's frozen `content` (what the notice stated when it was published), never
from today's project row, so an old version's PDF stays true. Rendering is deterministic (reportlab's
invariant mode: no creation date, fixed document id), so anyone can render a version again and compare.
It is always in Chinese: an announcement is one official text for every reader (实施条例 Art.15), whatever
language the reader's interface is in.

The font, styles, tables, QR code and page frame are shared with the other documents (lib/pdf.py: the
embedded WenQuanYi Micro Hei face, so Chinese renders and extracts on any reader). Callers must not hold
row locks while rendering (docs/architecture.md): render from a committed version, outside
`transaction.atomic()`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from lib.pdf import (
    CONTENT_WIDTH,
    FONT_NAME,
    FONT_PATH,
    SHANGHAI,
    build_pdf,
    chinese,
    facts_table,
    verification_block,
)
from lib.pdf import beijing as _beijing
from lib.pdf import choice as _choice
from lib.pdf import label as _label
from lib.pdf import money as _money
from lib.pdf import multiline as _multiline
from lib.pdf import styles as _styles
from lib.pdf import table as _table
from lib.pdf import text as _text
from trading.models import Announcement, AnnouncementVersion, Lot, Project

__all__ = [
    "FONT_NAME",
    "FONT_PATH",
    "PDF_LAYOUT",
    "SHANGHAI",
    "render_announcement_pdf",
    "verification_url",
]

# Bump when the layout changes, so cached copies of the old layout are not served.
PDF_LAYOUT = "1"
TIMELINE_FIELDS = (
    "documents_from",
    "documents_until",
    "questions_until",
    "deposit_deadline",
    "bid_deadline",
)


def verification_url(version: AnnouncementVersion) -> str:
    """The public page where anyone can check a printed or downloaded copy against the platform."""
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/portal/announcements/{version.announcement_id}/v/{version.number}/"


# --- Formatting -----------------------------------------------------------------------------------


def _size(size: int | None) -> str:
    if not size:
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


# --- Sections -------------------------------------------------------------------------------------


def _facts(version: AnnouncementVersion, project: dict[str, Any], s: dict) -> Table:
    announcement_kind = version.content.get("announcement", {}).get(
        "kind", version.announcement.kind
    )

    def party(key: str) -> str:
        org = project.get(key) or {}
        return f"{_text(org.get('name'))}<br/>统一社会信用代码：{_text(org.get('uscc'))}"

    rows = [
        ("项目编号", _text(project.get("number"))),
        ("项目名称", _text(project.get("title"))),
        ("公告类型", _text(_choice(Announcement.Kind, announcement_kind))),
        ("交易类型", _text(_choice(Project.Kind, project.get("kind")))),
        ("交易方式", _text(_choice(Project.Method, project.get("method")))),
        (_label(Project, "owner"), party("owner")),
        (_label(Project, "agent"), party("agent")),
        (
            "版本",
            f"第 {version.number} 版" + (f"（{_text(version.reason)}）" if version.reason else ""),
        ),
        ("发布时间", f"{_beijing(version.published_at)}（北京时间）"),
    ]
    return facts_table(rows, s)


def _body(version: AnnouncementVersion, s: dict) -> list[Any]:
    text = (version.body or "").replace("\r\n", "\n").strip()
    paragraphs = [part.strip("\n") for part in text.split("\n\n") if part.strip()]
    return [Paragraph(_multiline(part), s["body"]) for part in paragraphs] or [
        Paragraph("—", s["body"])
    ]


def _lots(project: dict[str, Any], s: dict) -> Table:
    header = [
        "标段/包号",
        _label(Lot, "name"),
        _label(Lot, "estimate"),
        _label(Lot, "ceiling_price"),
        _label(Lot, "deposit_amount"),
        _label(Lot, "deposit_forms"),
    ]
    rows: list[list[Any]] = [[Paragraph(_text(h), s["cell"]) for h in header]]
    for lot in project.get("lots", []):
        forms = "、".join(_choice(Lot.DepositForm, form) for form in lot.get("deposit_forms", []))
        values = [
            str(lot.get("number", "")),
            lot.get("name", ""),
            _money(lot.get("estimate")),
            _money(lot.get("ceiling_price")),
            _money(lot.get("deposit_amount")),
            forms or "—",
        ]
        rows.append([Paragraph(_text(v), s["cell"]) for v in values])
    widths = [16 * mm, 0, 29 * mm, 29 * mm, 26 * mm, 30 * mm]
    widths[1] = CONTENT_WIDTH - sum(widths)
    table = _table(rows, widths)
    table.setStyle(TableStyle([("ALIGN", (2, 1), (4, -1), "RIGHT")]))
    return table


def _timeline(project: dict[str, Any], s: dict) -> Table:
    timeline = project.get("timeline", {})
    rows = [[Paragraph("事项", s["cell"]), Paragraph("时间（北京时间）", s["cell"])]]
    for field in TIMELINE_FIELDS:
        if field in timeline:
            rows.append(
                [
                    Paragraph(_text(_label(Project, field)), s["cell"]),
                    Paragraph(_beijing(timeline[field]), s["cell"]),
                ]
            )
    return _table(rows, [60 * mm, CONTENT_WIDTH - 60 * mm])


def _documents(project: dict[str, Any], s: dict) -> Table | Paragraph:
    documents = project.get("documents", [])
    if not documents:
        return Paragraph("本公告未附招标文件。", s["small"])
    rows: list[list[Any]] = [[Paragraph(h, s["cell"]) for h in ("文件名称", "大小", "SHA-256")]]
    for document in documents:
        rows.append(
            [
                Paragraph(_text(document.get("title")), s["cell"]),
                Paragraph(_size(document.get("size")), s["cell"]),
                Paragraph(_text(document.get("sha256")), s["hash"]),
            ]
        )
    # The hash column fits 64 hex digits on one line, so the hash reads and copies as one word.
    return _table(rows, [CONTENT_WIDTH - 18 * mm - 100 * mm, 18 * mm, 100 * mm])


def _verification(version: AnnouncementVersion, s: dict) -> KeepTogether:
    hashes = [("公告内容哈希（SHA-256）", version.sha256)]
    previous = version.content.get("previous_sha256")
    if previous:
        hashes.append(("上一版本内容哈希（SHA-256）", previous))
    return verification_block(
        hashes,
        url=verification_url(version),
        url_label="验证地址",
        note="扫描右侧二维码或访问验证地址，可核对本文件与平台发布的公告版本是否一致。",
        s=s,
    )


# --- The document ---------------------------------------------------------------------------------


def render_announcement_pdf(version: AnnouncementVersion) -> bytes:
    """The A4 PDF of one published announcement version."""
    with chinese():
        s = _styles()
        project = version.content.get("project", {})
        story: list[Any] = [
            Paragraph(_text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 2 * mm),
            Paragraph(_text(version.title), s["title"]),
            Spacer(1, 3 * mm),
            _facts(version, project, s),
            Paragraph("公告正文", s["heading"]),
            *_body(version, s),
        ]
        if project.get("lots"):
            story += [Paragraph("标段/包", s["heading"]), _lots(project, s)]
        if project.get("timeline"):
            story += [Paragraph("时间安排", s["heading"]), _timeline(project, s)]
        story += [Paragraph("招标文件", s["heading"]), _documents(project, s)]
        story.append(_verification(version, s))
        return build_pdf(
            story,
            title=version.title,
            subject=f"{project.get('number', '')} v{version.number} SHA-256 {version.sha256}",
            footer=f"{project.get('number', '')} · {version.title} · 第 {version.number} 版",
        )
