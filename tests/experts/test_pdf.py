"""The draw record PDF: Chinese that extracts, the request, the commitment and the revealed seed, the
drawn experts in order with their responses, the exclusions (names and reasons in the supervisor's copy
only), the sign-off and the command that recomputes the draw."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from accounts.actors import Actor
from experts import services
from experts.models import DrawnExpert
from experts.pdf import render_draw_record
from lib.pdf import FONT_NAME
from tests.experts.helpers import sealed_seed
from tests.experts.world import (
    TIED_NAME,
    client_for,
    first_member,
    link,
    run,
    sign_off,
)
from tests.pdfsigned import assert_platform_signed

pytestmark = pytest.mark.django_db

TIE_LABEL = "近三年曾在投标人任职、任董监事或持股/控制"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """Extracted text without line breaks, so wrapped lines read as one."""
    return re.sub(r"\s*\n\s*", "", text)


def fonts_of(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.fixture
def signed(world, staff, supervisor, expert, now):
    run(staff, world)
    seat = first_member(world)
    link(expert, seat.expert)
    services.respond(Actor.for_user(expert), seat, confirm=False, reason="出差在外")
    sign_off(supervisor, world)
    return world


def test_the_standard_copy_states_the_whole_draw(signed):
    draw = signed.draw
    text = text_of(render_draw_record(draw))
    plain = flat(text)
    assert "评标专家抽取记录" in plain and "评标专家抽取记录（监督人员存档联）" not in plain
    for fact in (
        draw.project.number,
        draw.project.title,
        "A08 × 5",
        "5 人（其中招标人代表 0 人）",
        "2026-03-30 09:30（北京时间）",  # the evaluation time, in Beijing time
        "2026-03-29 09:30:00（北京时间）",  # committed
    ):
        assert fact in plain, fact
    for value in (draw.request_hash, draw.pool_hash, draw.seed_hash, draw.seed):
        assert value in plain
    # Members and alternates in draw order, with their responses.
    rows = list(draw.drawn.select_related("expert").order_by("quota", "position"))
    positions = [plain.index(row.expert.name) for row in rows]
    assert positions == sorted(positions)
    assert "已谢绝：出差在外" in plain and "候补（已递补）" in plain and "候补未启用" in plain
    # The exclusions are counted, not named.
    assert "按回避规则排除专家 1 名" in plain
    assert TIED_NAME not in plain and TIE_LABEL not in plain
    assert "监督" in plain and "supervisor" in plain and "确认本次抽取" in plain
    assert f"python manage.py verify_draw {draw.pk}" in plain


def test_the_supervisors_copy_names_the_excluded_and_why(signed):
    plain = flat(text_of(render_draw_record(signed.draw, supervisor_copy=True)))
    assert "评标专家抽取记录（监督人员存档联）" in plain
    assert TIED_NAME in plain and TIE_LABEL in plain


def test_chinese_is_embedded_and_no_base_font_is_named(signed):
    pdf = render_draw_record(signed.draw, supervisor_copy=True)
    assert pdf.startswith(b"%PDF")
    fonts = fonts_of(pdf)
    assert fonts and all(FONT_NAME in name for name in fonts), fonts


def test_a_committed_draw_keeps_its_seed_out_of_the_record(world, now):
    plain = flat(text_of(render_draw_record(world.draw)))
    assert world.draw.seed_hash in plain
    assert sealed_seed(world.draw) not in plain and "抽取前保密" in plain and "尚未抽取" in plain


def test_the_download_gives_each_reader_their_copy(signed, staff, supervisor):
    url = f"/experts/draws/{signed.draw.pk}/record.pdf"
    supervisor_pdf, staff_pdf = (client_for(u).get(url).content for u in (supervisor, staff))
    assert_platform_signed(supervisor_pdf)
    assert_platform_signed(staff_pdf)
    supervisor_copy, staff_copy = flat(text_of(supervisor_pdf)), flat(text_of(staff_pdf))
    assert TIED_NAME in supervisor_copy and TIED_NAME not in staff_copy
    assert DrawnExpert.objects.filter(draw=signed.draw).count() == 7
