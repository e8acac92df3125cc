"""Building blocks for the platform's A4 PDF documents (reportlab): announcements, deposit receipts,
refund notices.

Chinese must render and be extractable on any reader, so the WenQuanYi Micro Hei TrueType font vendored in
lib/fonts/ is embedded (reportlab subsets it and writes a ToUnicode map). Nothing may fall back to
Helvetica, a base-14 font a PDF only names (unembedded): tables, drawings and the canvas are all started in
the embedded face. Rendering is deterministic (reportlab's invariant mode: no creation date, fixed document
id), so anyone can render a document again from the same content and compare.

Every document `build_pdf` returns is signed by the platform's document certificate (lib/pdfsign.py):
the signature is an incremental update after reportlab's bytes, so the rendered document stays the signed
file's first revision (`lib.pdfsign.unsigned_revision`), the part a second render reproduces.

Callers must not hold row locks while rendering (docs/architecture.md): read committed rows, then render
outside `transaction.atomic()`.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
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
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lib.pdfsign import sign_pdf

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(settings.BASE_DIR) / "lib" / "fonts" / "wqy-microhei" / "wqy-microhei.ttc"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE_MARGIN = 18 * mm
CONTENT_WIDTH = A4[0] - 2 * PAGE_MARGIN
GRID = colors.HexColor("#b8c2cc")
SHADE = colors.HexColor("#eef2f6")
MUTED = colors.HexColor("#555f6b")

# reportlab keeps per-document font subsets on shared font objects; one render at a time keeps that safe
# under daphne's threads (a render takes a few tens of milliseconds). Re-entrant, so a caller may hold
# it around building its story as well as `build_pdf` around the build.
render_lock = threading.RLock()


@functools.cache
def register_font() -> str:
    # subfontIndex 0 of the collection is the proportional "WenQuanYi Micro Hei" face.
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    # The font has one weight: <b> and <i> in paragraphs map to the same face instead of failing.
    pdfmetrics.registerFontFamily(
        FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
    )
    return FONT_NAME


def styles() -> dict[str, ParagraphStyle]:
    font = register_font()
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


@contextmanager
def chinese() -> Iterator[None]:
    """Official documents are one text for every reader, in Chinese, whatever the reader's interface
    language: labels taken from models (verbose names, choices) are rendered in Chinese too."""
    with translation.override("zh-hans"), render_lock:
        yield


# --- Formatting -----------------------------------------------------------------------------------


def text(value: Any) -> str:
    """Plain text made safe for reportlab's paragraph markup."""
    return escape("" if value is None else str(value))


def multiline(value: str) -> str:
    return text(value).replace("\r\n", "\n").replace("\n", "<br/>")


def beijing(value: str | dt.datetime | None) -> str:
    """A moment (aware datetime or ISO string) as Beijing wall time to the minute; '—' for none."""
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def beijing_seconds(value: dt.datetime | None) -> str:
    if not value:
        return "—"
    return timezone.localtime(value, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def money(value: str | Decimal | None) -> str:
    """Thousands-separated, two decimals, from a decimal or its string (never a float)."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):,.2f}"


def label(model: type[models.Model], field: str) -> str:
    """A model field's verbose name (in the active language: Chinese inside `chinese()`)."""
    found = model._meta.get_field(field)
    if not isinstance(found, models.Field):
        raise TypeError(
            f"{model.__name__}.{field} is a reverse relation, which has no verbose name"
        )
    return str(found.verbose_name)


def choice(choices: Any, value: str | None) -> str:
    """The label of `value` in a TextChoices class, or the raw value for one it no longer lists."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


# --- Flowables ------------------------------------------------------------------------------------


def table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
    built = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
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
    built.setStyle(TableStyle(commands))
    return built


def facts_table(
    rows: list[tuple[str, str]], s: dict[str, ParagraphStyle], *, label_width: float = 32 * mm
) -> Table:
    """A two-column label/value table. Values are paragraph markup (escape plain text with `text`)."""
    return table(
        [[Paragraph(label, s["cell"]), Paragraph(value, s["cell"])] for label, value in rows],
        [label_width, CONTENT_WIDTH - label_width],
        header=False,
    )


def qr(url: str, size: float) -> Drawing:
    # Sized by the widget itself: measuring it first (getBounds) would encode the QR code twice, and
    # encoding is most of a render's time.
    widget = QrCodeWidget(url, barLevel="M", barWidth=size, barHeight=size)
    # initialFontName keeps the graphics renderer from selecting (and listing) Helvetica for a drawing
    # without text.
    drawing = Drawing(size, size, initialFontName=FONT_NAME)
    drawing.add(widget)
    return drawing


def verification_block(
    hashes: list[tuple[str, str]],
    *,
    url: str,
    url_label: str,
    note: str,
    s: dict[str, ParagraphStyle],
) -> KeepTogether:
    """The boxed block closing a document: labelled hashes, an address, a note, and a QR code of the
    address beside them."""
    lines: list[Paragraph] = []
    for label, value in hashes:
        lines += [Paragraph(label, s["cell"]), Paragraph(text(value), s["hash"])]
    lines += [
        Paragraph(url_label, s["cell"]),
        Paragraph(text(url), s["hash"]),
        Paragraph(note, s["small"]),
    ]
    qr_size = 30 * mm
    block = Table(
        [[lines, qr(url, qr_size)]],
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


def build_pdf(
    story: list[Any],
    *,
    title: str,
    subject: str = "",
    footer: str = "",
    author: str | None = None,
    reason: str | None = None,
) -> bytes:
    """Lay `story` out on A4 pages with the platform's margins and a footer (`footer` on the left, the
    page number on the right), sign it as the platform, and return the signed PDF's bytes.

    `reason` is the signature's stated reason (readers show it beside the signer); by default the
    platform issues the document titled `title`. Every PDF a party relies on passes here, so none
    leaves unsigned, and a cache of rendered PDFs holds the signed bytes it serves."""
    register_font()

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
        title=title,
        author=settings.OCDS_PUBLISHER if author is None else author,
        subject=subject,
        creator="bidhall",
        lang="zh-CN",
        invariant=True,
        # Otherwise the canvas starts in Helvetica, a base-14 font listed (unembedded) on every page.
        initialFontName=FONT_NAME,
    )
    with render_lock:
        document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return sign_pdf(buffer.getvalue(), reason=reason or f"电子交易平台出具：{title}"[:200])
