"""Announcement versions as A4 PDF documents (reportlab).

The PDF is drawn from the version's frozen `content` (what the notice stated when it was published), never
from today's project row, so an old version's PDF stays true. Rendering is deterministic (reportlab's
invariant mode: no creation date, fixed document id), so anyone can render a version again and compare.
It is always in Chinese: an announcement is one official text for every reader (实施条例 Art.15), whatever
language the reader's interface is in.

Chinese must render and be extractable on any reader, so the WenQuanYi Micro Hei TrueType font vendored in
lib/fonts/ is embedded (reportlab subsets it and writes a ToUnicode map). Callers must not hold row locks
while rendering (docs/architecture.md): render from a committed version, outside `transaction.atomic()`.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from trading.models import Announcement, AnnouncementVersion, Lot, Project

# Bump when the layout changes, so cached copies of the old layout are not served.
PDF_LAYOUT = "1"
FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(settings.BASE_DIR) / "lib" / "fonts" / "wqy-microhei" / "wqy-microhei.ttc"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMELINE_FIELDS = (
    "documents_from",
    "documents_until",
    "questions_until",
    "deposit_deadline",
    "bid_deadline",
)
PAGE_MARGIN = 18 * mm
CONTENT_WIDTH = A4[0] - 2 * PAGE_MARGIN
GRID = colors.HexColor("#b8c2cc")
SHADE = colors.HexColor("#eef2f6")
MUTED = colors.HexColor("#555f6b")

# reportlab keeps per-document font subsets on shared font objects; one render at a time keeps that safe
# under daphne's threads (a render takes a few tens of milliseconds).
_render_lock = threading.Lock()


def verification_url(version: AnnouncementVersion) -> str:
    """The public page where anyone can check a printed or downloaded copy against the platform."""
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/portal/announcements/{version.announcement_id}/v/{version.number}/"


@functools.cache
def _register_font() -> str:
    # subfontIndex 0 of the collection is the proportional "WenQuanYi Micro Hei" face.
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    # The font has one weight: <b> and <i> in paragraphs map to the same face instead of failing.
    pdfmetrics.registerFontFamily(
        FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
    )
    return FONT_NAME


def _styles() -> dict[str, ParagraphStyle]:
    font = _register_font()
    # wordWrap="CJK" breaks lines between any two Chinese characters, as Chinese typesetting does.
    base = ParagraphStyle(
        "base", fontName=font, bulletFontName=font, fontSize=10, leading=15, wordWrap="CJK"
    )
    return {
        "body": ParagraphStyle("body", parent=base, fontSize=10.5, leading=17, spaceAfter=5),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=4
        ),
        "publisher": ParagraphStyle(
            "publisher", parent=base, fontSize=9, alignment=TA_CENTER, textColor=MUTED
        ),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=5
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12.5),
        "hash": ParagraphStyle("hash", parent=base, fontSize=7.2, leading=10),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=MUTED),
    }


# --- Formatting -----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """Plain text made safe for reportlab's paragraph markup."""
    return escape("" if value is None else str(value))


def _multiline(value: str) -> str:
    return _text(value).replace("\r\n", "\n").replace("\n", "<br/>")


def _beijing(value: str | dt.datetime | None) -> str:
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _money(value: str | None) -> str:
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):,.2f}"


def _size(size: int | None) -> str:
    if not size:
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _label(model: type, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def _choice(choices: Any, value: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


# --- Sections -------------------------------------------------------------------------------------


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple] = [
        # Cells default to Helvetica even when they only hold paragraphs: keep the one embedded font.
        ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(commands))
    return table


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
    return _table(
        [[Paragraph(label, s["cell"]), Paragraph(value, s["cell"])] for label, value in rows],
        [32 * mm, CONTENT_WIDTH - 32 * mm],
        header=False,
    )


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


def _qr(url: str, size: float) -> Drawing:
    # Sized by the widget itself: measuring it first (getBounds) would encode the QR code twice, and
    # encoding is most of a render's time.
    widget = QrCodeWidget(url, barLevel="M", barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    # Keeps the graphics renderer from selecting (and listing) Helvetica for a drawing without text.
    drawing.initialFontName = FONT_NAME
    drawing.add(widget)
    return drawing


def _verification(version: AnnouncementVersion, s: dict) -> KeepTogether:
    url = verification_url(version)
    previous = version.content.get("previous_sha256")
    lines = [
        Paragraph("公告内容哈希（SHA-256）", s["cell"]),
        Paragraph(_text(version.sha256), s["hash"]),
    ]
    if previous:
        lines += [
            Paragraph("上一版本内容哈希（SHA-256）", s["cell"]),
            Paragraph(_text(previous), s["hash"]),
        ]
    lines += [
        Paragraph("验证地址", s["cell"]),
        Paragraph(_text(url), s["hash"]),
        Paragraph(
            "扫描右侧二维码或访问验证地址，可核对本文件与平台发布的公告版本是否一致。",
            s["small"],
        ),
    ]
    qr_size = 30 * mm
    block = Table(
        [[lines, _qr(url, qr_size)]],
        colWidths=[CONTENT_WIDTH - qr_size - 8 * mm, qr_size + 8 * mm],
        hAlign="LEFT",
    )
    block.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
                ("BOX", (0, 0), (-1, -1), 0.8, GRID),
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return KeepTogether([Spacer(1, 6 * mm), block])


# --- The document ---------------------------------------------------------------------------------


def render_announcement_pdf(version: AnnouncementVersion) -> bytes:
    """The A4 PDF of one published announcement version."""
    with translation.override("zh-hans"), _render_lock:
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

        footer = f"{project.get('number', '')} · {version.title} · 第 {version.number} 版"

        def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
            canvas.saveState()
            canvas.setFont(FONT_NAME, 7.5)
            canvas.setFillColor(MUTED)
            canvas.drawString(PAGE_MARGIN, 10 * mm, footer[:90])
            canvas.drawRightString(A4[0] - PAGE_MARGIN, 10 * mm, f"第 {doc.page} 页")
            canvas.restoreState()

        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=PAGE_MARGIN,
            rightMargin=PAGE_MARGIN,
            topMargin=PAGE_MARGIN,
            bottomMargin=PAGE_MARGIN,
            title=version.title,
            author=settings.OCDS_PUBLISHER,
            subject=f"{project.get('number', '')} v{version.number} SHA-256 {version.sha256}",
            creator="bidhall",
            lang="zh-CN",
            invariant=True,
            # Otherwise the canvas starts in Helvetica, a base-14 font listed (unembedded) on every page.
            initialFontName=FONT_NAME,
        )
        document.build(story, onFirstPage=decorate, onLaterPages=decorate)
        return buffer.getvalue()
