"""The public portal: filters and search, an announcement with its version history, the public
verification of each version's hash, the document download gate, and the Atom feed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import NoReverseMatch

from accounts.actors import Actor
from tests.trading.factories import beijing, draft, published, timeline
from trading import services, views
from trading.models import Announcement, AnnouncementVersion, Project

pytestmark = pytest.mark.django_db

T0 = beijing("2026-03-02 09:00")
ATOM = "{http://www.w3.org/2005/Atom}"


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def page(response) -> str:
    return response.content.decode()


def listed(client, query: str = "") -> list[str]:
    """Titles on the portal's first page for a query string."""
    response = client.get(f"/portal/{query}")
    assert response.status_code == 200
    html = page(response)
    return [a.title for a in Announcement.objects.all() if f">{a.title}</a>" in html]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def tenders(agent, staff):
    """Four notices of different kinds, regions and dates, and a draft that must never appear."""
    with travel(T0):
        school = published(agent, staff, title="珠海市第一中学教学楼改造工程", region="440402")
    with travel(T0 + dt.timedelta(days=10)):
        computers = published(
            agent,
            staff,
            title="教育局计算机采购项目",
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            region="440403",
            # 25 days on would be Monday 6 April 2026, a 清明 holiday: no deadline may fall there.
            start=T0 + dt.timedelta(days=10, hours=1),
            **timeline(T0 + dt.timedelta(days=10, hours=1), days_to_deadline=26),
            lots=[
                {
                    "name": "计算机",
                    "estimate": "1000000",
                    "deposit_amount": "20000",
                    "deposit_forms": [],  # GP: every legal form, the supplier chooses
                }
            ],
        )
    with travel(T0 + dt.timedelta(days=12)):
        road = published(agent, staff, title="金湾区道路改造工程", region="440404")
        services.terminate_project(Actor.for_user(agent), road, reason="规划调整")
    draft(agent, title="尚未发布的草稿项目")
    return {"school": school, "computers": computers, "road": road}


# --- The list -------------------------------------------------------------------------------------


def test_drafts_never_appear_and_published_notices_do(client, tenders):
    titles = listed(client)
    assert "尚未发布的草稿项目" not in page(client.get("/portal/"))
    assert "珠海市第一中学教学楼改造工程招标公告" in titles
    assert "教育局计算机采购项目采购公告" in titles
    assert "金湾区道路改造工程终止公告" in titles
    assert "尚未发布的草稿项目" not in page(client.get("/portal/?q=草稿"))


def test_filters_by_announcement_kind_and_project_kind(client, tenders):
    assert listed(client, "?kind=termination") == ["金湾区道路改造工程终止公告"]
    assert listed(client, "?project_kind=gp") == ["教育局计算机采购项目采购公告"]


def test_filters_by_region_and_publication_date(client, tenders):
    assert listed(client, "?region=440403") == ["教育局计算机采购项目采购公告"]
    titles = listed(client, "?date_from=2026-03-11&date_to=2026-03-12")
    assert sorted(titles) == ["教育局计算机采购项目采购公告"]
    titles = listed(client, "?date_from=2026-03-12")
    assert "珠海市第一中学教学楼改造工程招标公告" not in titles
    assert "金湾区道路改造工程终止公告" in titles


def test_filters_open_and_closed_tenders(client, tenders):
    with travel(T0 + dt.timedelta(days=20)):
        open_titles = listed(client, "?status=open")
        closed_titles = listed(client, "?status=closed")
    # The school tender's deadline (T0+1h+25d) is still ahead; the road project is terminated.
    assert "珠海市第一中学教学楼改造工程招标公告" in open_titles
    assert "金湾区道路改造工程招标公告" in closed_titles
    assert "金湾区道路改造工程终止公告" in closed_titles
    assert not set(open_titles) & set(closed_titles)
    with travel(T0 + dt.timedelta(days=40)):
        assert listed(client, "?status=open") == []


def test_searches_by_title_and_by_project_number(client, tenders):
    assert listed(client, "?q=计算机") == ["教育局计算机采购项目采购公告"]
    number = tenders["school"].number
    assert listed(client, f"?q={number}") == ["珠海市第一中学教学楼改造工程招标公告"]
    assert listed(client, f"?q={number.lower()}") == ["珠海市第一中学教学楼改造工程招标公告"]


def test_searches_latin_letters_in_either_case_and_number_prefixes(client, agent, staff):
    lights = published(agent, staff, title="LED 路灯节能改造工程")
    published(agent, staff, title="另一个工程")
    assert listed(client, "?q=led 路灯") == ["LED 路灯节能改造工程招标公告"]
    # A prefix of a number finds the projects numbered so; a wrong one finds nothing.
    titles = listed(client, f"?q={lights.number[:-1].lower()}")
    assert "LED 路灯节能改造工程招标公告" in titles
    assert listed(client, "?q=XX2026CO99999") == []


def test_invalid_filters_are_ignored(client, tenders):
    response = client.get("/portal/?kind=nonsense&date_from=yesterday&page=abc")
    assert response.status_code == 200
    assert "珠海市第一中学教学楼改造工程招标公告" in page(response)


def test_pages_through_the_list_newest_first(client, tenders, monkeypatch):
    monkeypatch.setattr(views, "PORTAL_PAGE_SIZE", 2)
    first, second = page(client.get("/portal/")), page(client.get("/portal/?page=2"))
    assert "共 4 条公告" in first
    assert "金湾区道路改造工程终止公告" in first
    assert "珠海市第一中学教学楼改造工程招标公告" in second
    assert "第 2 / 2 页" in second
    # The page links keep the filters.
    filtered = page(client.get("/portal/?project_kind=construction"))
    assert "共 3 条公告" in filtered
    assert 'href="?project_kind=construction&amp;page=2"' in filtered


# --- One announcement and its versions ------------------------------------------------------------


def test_the_detail_shows_the_latest_version_lots_timeline_and_history(client, agent, staff):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(hours=1))
    with travel(T0 + dt.timedelta(days=12)):
        services.publish_amendment(
            Actor.for_user(agent), project, title="工期变更", body="工期改为 300 日历天"
        )
        announcement = Announcement.objects.get(project=project, kind="tender")
        response = client.get(f"/portal/announcements/{announcement.pk}/")
    html = page(response)
    assert response.status_code == 200
    assert "36,500,000.00" in html  # 最高投标限价
    assert "500,000.00" in html  # deposit
    assert "银行保函" in html
    project.refresh_from_db()
    # The deadline moved to keep 15 days after the amendment; the page shows it in Beijing time.
    assert project.bid_deadline.astimezone(T0.tzinfo).strftime("%Y-%m-%d %H:%M") in html
    assert f'data-countdown-to="{project.bid_deadline.astimezone(T0.tzinfo).isoformat()}"' in html
    versions = list(announcement.versions.order_by("number"))
    assert len(versions) == 2
    for version in versions:
        assert version.sha256 in html
        assert f"/portal/announcements/{announcement.pk}/v/{version.number}/" in html
    assert "变更：工期变更" in html  # the second version's reason
    assert "变更公告" in html  # the related amendment notice is linked


def test_the_detail_renders_without_the_pdf_view(client, agent, staff, monkeypatch):
    project = published(agent, staff)
    announcement = Announcement.objects.get(project=project)

    def missing(*args, **kwargs):
        raise NoReverseMatch("announcement_pdf is not built yet")

    monkeypatch.setattr(views, "reverse", missing)
    response = client.get(f"/portal/announcements/{announcement.pk}/")
    assert response.status_code == 200
    assert 'data-testid="version-pdf"' not in page(response)


def test_an_unknown_announcement_is_not_found(client):
    assert client.get("/portal/announcements/999/").status_code == 404
    assert client.get("/portal/announcements/999/v/1/").status_code == 404


def test_each_version_verifies_and_the_content_hashes_to_the_published_sha(client, agent, staff):
    project = published(agent, staff)
    version = AnnouncementVersion.objects.get(announcement__project=project)
    url = f"/portal/announcements/{version.announcement_id}/v/1/"
    html = page(client.get(url))
    assert "一致" in html and "不一致" not in html
    raw = client.get(url + "content.json").content
    assert hashlib.sha256(raw).hexdigest() == version.sha256


def test_tampered_stored_content_is_detected(client, agent, staff):
    project = published(agent, staff)
    version = AnnouncementVersion.objects.get(announcement__project=project)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE trading_announcementversion "
                "SET content = jsonb_set(content, '{body}', %s::jsonb) WHERE id = %s",
                [json.dumps("最高投标限价改为 1 元"), version.pk],
            )
        else:
            cursor.execute(
                "UPDATE trading_announcementversion "
                "SET content = json_set(content, '$.body', %s) WHERE id = %s",
                ["最高投标限价改为 1 元", version.pk],
            )
    html = page(client.get(f"/portal/announcements/{version.announcement_id}/v/1/"))
    verdict = html.split('data-testid="verdict"')[1].split("</dd>")[0]
    assert "不一致" in verdict
    assert "最高投标限价改为 1 元" in html


# --- Documents ------------------------------------------------------------------------------------


def upload(agent, project, name: str = "招标文件.pdf", data: bytes = b"%PDF tender"):
    return services.upload_document(
        Actor.for_user(agent), project, SimpleUploadedFile(name, data), title=name
    )


def test_documents_need_a_registration_to_download(
    client, media, agent, staff, supplier, other_supplier
):
    with travel(T0):
        project = draft(agent, start=T0 - dt.timedelta(minutes=1))
        document = upload(agent, project)
        services.submit_project(Actor.for_user(agent), project)
        services.approve_project(Actor.for_user(staff), project)
        services.publish_project(Actor.for_user(agent), project)
        services.register(Actor.for_user(supplier), project.lots.get())
        url = f"/portal/documents/{document.pk}/"
        refused = client.get(url)
        assert refused.status_code == 403
        assert "仅向已报名本项目的投标人提供下载" in page(refused)
        client.force_login(other_supplier)
        assert client.get(url).status_code == 403
        client.force_login(supplier)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF tender"
        assert "attachment" in response["Content-Disposition"]
        client.force_login(agent)
        assert client.get(url).status_code == 200
        # Listed on the announcement with its hash.
        announcement = Announcement.objects.get(project=project)
        assert document.sha256 in page(client.get(f"/portal/announcements/{announcement.pk}/"))


def test_unpublished_documents_are_not_found(client, media, agent, staff):
    project = draft(agent)
    hidden = upload(agent, project)
    assert client.get(f"/portal/documents/{hidden.pk}/").status_code == 404
    with travel(T0):
        public = published(agent, staff, registration_required=False)
        later = upload(agent, public, "补充文件.pdf", b"later")
    # Uploaded after publication: public only with the next amendment.
    assert client.get(f"/portal/documents/{later.pk}/").status_code == 404


def test_documents_of_a_tender_without_registration_are_open(client, media, agent, staff):
    with travel(T0):
        project = draft(agent, registration_required=False)
        document = upload(agent, project)
        services.submit_project(Actor.for_user(agent), project)
        services.approve_project(Actor.for_user(staff), project)
        services.publish_project(Actor.for_user(agent), project)
    assert client.get(f"/portal/documents/{document.pk}/").status_code == 200


# --- The Atom feed --------------------------------------------------------------------------------


def test_the_atom_feed_parses_and_lists_the_latest_announcement(client, tenders):
    response = client.get("/portal/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4
    latest = Announcement.objects.order_by("-last_published_at", "-id").first()
    assert entries[0].find(f"{ATOM}title").text == f"[终止公告] {latest.title}"
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.endswith(f"/portal/announcements/{latest.pk}/")
    assert "尚未发布的草稿项目" not in response.content.decode()
