"""Announcement versions as PDF: Chinese that renders and extracts, the stated content, the verification
block, and the public download."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.actors import Actor
from lib.pdfsign import unsigned_revision, verify_pdf
from tests.pdfsigned import assert_platform_signed
from tests.trading.factories import beijing, draft, published
from trading import services
from trading.models import Announcement, AnnouncementVersion
from trading.pdf import FONT_NAME, render_announcement_pdf, verification_url

pytestmark = pytest.mark.django_db

T0 = beijing("2026-03-02 09:00")


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """Extracted text without line breaks, so wrapped lines read as one."""
    return re.sub(r"\s*\n\s*", "", text)


def main_version(project, number: int = 1) -> AnnouncementVersion:
    return AnnouncementVersion.objects.get(
        announcement__project=project, announcement__kind=Announcement.Kind.TENDER, number=number
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def project(agent, staff, media):
    with travel(T0):
        project = draft(agent, start=T0 + dt.timedelta(minutes=5))
        services.upload_document(
            Actor.for_user(agent),
            project,
            SimpleUploadedFile("招标文件.pdf", b"%PDF-1.4 tender documents", "application/pdf"),
            title="招标文件（正式版）",
        )
        services.submit_project(Actor.for_user(agent), project)
        services.approve_project(Actor.for_user(staff), project)
        services.publish_project(Actor.for_user(agent), project)
    project.refresh_from_db()
    return project


def test_it_writes_the_chinese_title_number_and_hashes_as_extractable_text(project):
    version = main_version(project)
    text = text_of(render_announcement_pdf(version))
    assert version.title == "珠海市第一中学教学楼改造工程招标公告"
    assert version.title in text
    assert project.number in text
    assert version.sha256 in text  # the content hash in the verification block
    assert project.documents.get().sha256 in text  # the tender document's hash
    assert "招标文件（正式版）" in text
    assert "新建教学楼一栋，建筑面积 12,000 平方米。" in flat(text)
    assert "测试招标代理" in text and "珠海市教育局" in text
    assert "第 1 版" in text


def test_it_lists_lots_with_the_ceiling_price_and_the_timeline_in_beijing_time(project):
    text = text_of(render_announcement_pdf(main_version(project)))
    assert "最高投标限价（元）" in text
    assert "38,000,000.00" in text and "36,500,000.00" in text and "500,000.00" in text
    assert "现金（转账至子账户）、银行保函" in flat(text)
    # The bid deadline is stored in UTC (01:05) and printed in Beijing time.
    assert "2026-03-27 09:05" in text
    assert "投标截止/开标时间" in text
    assert "2026-03-02 09:00（北京时间）" in text  # publication time


def test_it_embeds_the_chinese_font(project):
    pdf = render_announcement_pdf(main_version(project))
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            fonts.append((str(font["/BaseFont"]), "/FontFile2" in descriptor))
    assert fonts
    # Every font on the page is a subset of the embedded TrueType face; nothing relies on the reader.
    assert all(FONT_NAME in name and embedded for name, embedded in fonts), fonts
    assert FONT_NAME.encode() in pdf


def test_it_points_to_the_public_verification_page(project, settings):
    settings.SITE_URL = "https://ggzy.example.cn"
    version = main_version(project)
    url = verification_url(version)
    assert url == (f"https://ggzy.example.cn/portal/announcements/{version.announcement_id}/v/1/")
    assert url in flat(text_of(render_announcement_pdf(version)))


def test_each_version_states_what_it_said_when_published(project, agent):
    old_deadline = "2026-03-27 09:05"
    with travel(T0 + dt.timedelta(days=2)):
        services.publish_amendment(
            Actor.for_user(agent),
            project,
            title="关于延长投标截止时间的变更公告",
            body="投标截止时间延后三日。",
            bid_deadline=project.bid_deadline + dt.timedelta(days=3),
        )
    first, second = main_version(project, 1), main_version(project, 2)
    first_text, second_text = (text_of(render_announcement_pdf(v)) for v in (first, second))
    assert old_deadline in first_text and "2026-03-30 09:05" not in first_text
    assert "2026-03-30 09:05" in second_text
    assert "第 2 版" in second_text
    # The later version names its predecessor's hash, chaining the printed copies.
    assert first.sha256 in second_text
    amendment = AnnouncementVersion.objects.get(
        announcement__project=project, announcement__kind=Announcement.Kind.AMENDMENT
    )
    assert "投标截止时间延后三日。" in text_of(render_announcement_pdf(amendment))


def test_a_long_body_wraps_over_several_pages(agent, staff):
    body = "\n\n".join(
        f"第{i}条：投标人应当按照招标文件的要求编制投标文件，并对其真实性、合法性负责。" * 6
        for i in range(1, 30)
    )
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=5))
        version = services.publish_amendment(
            Actor.for_user(agent), project, title="关于招标文件第五章的变更公告", body=body
        )
    pdf = render_announcement_pdf(version)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    text = flat(text_of(pdf))
    assert "第29条：投标人应当按照招标文件的要求编制投标文件" in text
    assert "第 3 页" in text_of(pdf)


def test_rendering_is_repeatable(project):
    """The rendered document is the same bytes every time; only the platform's signature appended to it
    (its signing time and ECDSA value) differs between two renders."""
    version = main_version(project)
    first, second = render_announcement_pdf(version), render_announcement_pdf(version)
    assert unsigned_revision(first) == unsigned_revision(second)
    assert len(unsigned_revision(first)) < len(first)
    assert verify_pdf(first).ok and verify_pdf(second).ok


def test_anyone_downloads_the_pdf_inline(project):
    version = main_version(project)
    url = reverse("announcement_pdf", kwargs={"pk": version.announcement_id, "number": 1})
    assert url == f"/announcements/{version.announcement_id}/v1.pdf"
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="{project.number}-tender-{version.announcement_id}-v1.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    assert version.title in text_of(response.content)
    assert_platform_signed(response.content)


def test_the_cached_pdf_is_the_signed_one_served_again(project):
    """The announcement PDF is cached (a version never changes): the cache holds the signed bytes, so
    every download is the same signed file."""
    version = main_version(project)
    url = reverse("announcement_pdf", kwargs={"pk": version.announcement_id, "number": 1})
    first, second = Client().get(url).content, Client().get(url).content
    assert first == second
    assert_platform_signed(first)


def test_an_unknown_version_is_not_found(project):
    version = main_version(project)
    client = Client()
    assert client.get(f"/announcements/{version.announcement_id}/v2.pdf").status_code == 404
    assert client.get("/announcements/999999/v1.pdf").status_code == 404
    assert client.post(f"/announcements/{version.announcement_id}/v1.pdf").status_code == 405
