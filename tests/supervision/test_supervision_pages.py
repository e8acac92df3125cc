"""The supervision workspace (/supervision/): who may open what, the dashboard's projects by stage and
live rooms, a project's evidence package and audit report, the replay, alerts and the audit search."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from pypdf import PdfReader

from accounts.actors import Actor
from audit.alerts import raise_alert
from audit.models import Alert, AuditEvent
from audit.services import record_checkpoint
from bidding.auction import services
from bidding.models import Auction, LandListing
from clock.services import run_due
from experts.models import DrawRequest
from supervision import evidence
from tests.bidding.auction_world import START, make_world
from tests.bidding.land_world import LISTING_END, LISTING_START, make_land_world
from tests.bidding.world import build, people
from tests.pdfsigned import assert_platform_signed

pytestmark = pytest.mark.django_db

SUPERVISORS_ONLY = ("project", "evidence", "report", "replay")
WITH_STAFF = ("dashboard", "live", "alerts", "search")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def at(seconds: float):
    return time_machine.travel(START + dt.timedelta(seconds=seconds), tick=False)


def bid(world, user, price: str, seconds: float):
    with at(seconds):
        auction = Auction.objects.get(pk=world.auction.pk)
        answer = services.place_bid(world.actor(user), auction, price, f"k{seconds}")
    assert answer.accepted, answer
    return answer


@pytest.fixture
def closed(agent, staff):
    """A reverse auction with three bids, one in the anti-sniping window (one extension), closed."""
    world = make_world(agent, staff)
    a, b, _ = world.bidders
    bid(world, a, "999000.00", 10)
    bid(world, b, "998000.00", 20)
    bid(world, a, "997000.00", 590)  # within 60 s of the end: the end moves to 590 + 120
    with at(800):
        services.advance(Actor.system("clock"), world.auction.pk)
    world.auction.refresh_from_db()
    assert world.auction.status == Auction.Status.CLOSED and world.auction.extensions_used == 1
    return world


def alert(kind: str, project_id: int | None, summary: str = "同一IP") -> Alert:
    with transaction.atomic():
        return raise_alert(Actor.system("test"), kind, summary=summary, project_id=project_id)


def urls(world) -> dict[str, str]:
    project, auction = world.project.pk, world.auction.pk
    return {
        "dashboard": "/supervision/",
        "live": "/supervision/live.json",
        "project": f"/supervision/projects/{project}/",
        "evidence": f"/supervision/projects/{project}/evidence.zip",
        "report": f"/supervision/projects/{project}/report.pdf",
        "replay": f"/supervision/auctions/{auction}/replay/",
        "alerts": "/supervision/alerts/",
        "search": f"/supervision/audit/?project={world.project.number}",
    }


# --- Who -----------------------------------------------------------------------------------------------


def test_supervisors_see_everything_staff_the_dashboard_alerts_and_search_others_nothing(
    closed, supervisor, staff, agent, supplier, expert
):
    pages = urls(closed)
    bidder = closed.bidders[0]
    for name, url in pages.items():
        assert client_for(supervisor).get(url).status_code == 200, name
        expected = 200 if name in WITH_STAFF else 403
        assert client_for(staff).get(url).status_code == expected, name
        for user in (agent, supplier, expert, bidder):
            assert client_for(user).get(url).status_code == 403, (name, user)
        anonymous = client_for(None).get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], name


def test_the_nav_links_supervisors_and_staff_to_the_workspace(supervisor, staff, supplier):
    for user, shown in ((supervisor, True), (staff, True), (supplier, False)):
        page = client_for(user).get("/").content.decode()
        assert ('data-testid="nav-supervision"' in page) is shown


def test_supervision_pages_answer_get_only_except_the_alert_note(closed, supervisor):
    client = client_for(supervisor)
    before = AuditEvent.objects.count()
    for name, url in urls(closed).items():
        for method in ("post", "put", "delete"):
            assert getattr(client, method)(url).status_code == 405, (name, method)
    assert AuditEvent.objects.count() == before


# --- Dashboard -----------------------------------------------------------------------------------------


def test_projects_by_stage_counts_and_filters(closed, agent, staff, supervisor, other_supplier):
    waiting = make_world(agent, staff, with_auction=False)  # no auction set up yet
    land = make_land_world(agent, staff, bidders=1)
    client = client_for(supervisor)
    page = client.get("/supervision/").content.decode()
    counts = dict(re.findall(r'data-stage="(\w+)" data-count="(\d+)"', page))
    assert counts["auction_closed"] == "1"
    assert counts["auction_pending"] == "1"
    assert counts["land_scheduled"] == "1"
    # The stage filter lists that stage's projects only, each linking to its supervision page.
    page = client.get("/supervision/", {"stage": "auction_pending"}).content.decode()
    rows = re.findall(r'data-testid="project-row" data-id="(\d+)"', page)
    assert rows == [str(waiting.project.pk)]
    assert f'href="/supervision/projects/{waiting.project.pk}/"' in page
    # By kind and by number/title.
    page = client.get("/supervision/", {"kind": "land"}).content.decode()
    assert re.findall(r'data-testid="project-row" data-id="(\d+)"', page) == [str(land.project.pk)]
    page = client.get("/supervision/", {"q": closed.project.number}).content.decode()
    assert re.findall(r'data-testid="project-row" data-id="(\d+)"', page) == [
        str(closed.project.pk)
    ]
    # Center staff are sent to the ordinary project page.
    page = client_for(staff).get("/supervision/", {"q": closed.project.number}).content.decode()
    assert f'href="/projects/{closed.project.pk}/"' in page
    assert f"/supervision/projects/{closed.project.pk}/" not in page


def test_live_counters_of_a_live_auction_with_identities_for_supervisors_only(
    agent, staff, supervisor
):
    world = make_world(agent, staff)
    a, b, _ = world.bidders
    bid(world, a, "999000.00", 5)
    bid(world, b, "998000.00", 8)
    with at(9):
        mine = client_for(supervisor).get("/supervision/live.json")
        theirs = client_for(staff).get("/supervision/live.json").json()
    assert mine["Cache-Control"] == "private, no-store"
    rows = mine.json()["auctions"]
    assert [r["id"] for r in rows] == [world.auction.pk]
    row = rows[0]
    assert row["accepted"] == 2 and row["participants"] == 3
    assert row["best_price"] == "998000.00"  # a string: money is never a float
    assert row["best_name"] == b.organization.name and row["best_alias"].startswith("竞价人")
    assert row["room_url"] == f"/bidding/auctions/{world.auction.pk}/"
    assert dt.datetime.fromisoformat(row["ends_at"]) == START + dt.timedelta(seconds=600)
    assert theirs["auctions"][0]["best_name"] is None  # staff: the anonymous view, as in the room
    assert theirs["auctions"][0]["best_alias"] == row["best_alias"]
    # After the end the clock closes the room and the dashboard drops it (reading changes nothing).
    with at(601):
        assert client_for(supervisor).get("/supervision/live.json").json()["auctions"] != []
        run_due()
        assert client_for(supervisor).get("/supervision/live.json").json()["auctions"] == []
    assert Auction.objects.get(pk=world.auction.pk).status == Auction.Status.CLOSED
    assert not AuditEvent.objects.filter(actor_id=supervisor.pk).exists()


def test_live_land_listing_openings_and_draws_awaiting_sign_off(
    agent, staff, supervisor, supplier, other_supplier, expert
):
    land = make_land_world(agent, staff, bidders=2)
    first, second = land.bidders
    land.bid(first, "100000000.00", LISTING_START + dt.timedelta(days=3))
    land.bid(second, "101000000.00", LISTING_START + dt.timedelta(days=4))
    after = LISTING_END + dt.timedelta(seconds=1)
    listing = land.advance(after)
    assert listing.stage == LandListing.Stage.CONFIRMING
    with time_machine.travel(after + dt.timedelta(seconds=5), tick=False):
        live = client_for(supervisor).get("/supervision/live.json").json()
    assert [x["id"] for x in live["land"]] == [listing.pk]
    assert live["land"][0]["stage"] == "confirming"
    assert live["land"][0]["listing_url"] == f"/bidding/land/{listing.pk}/"

    world = build(people(staff, supervisor, agent, supplier, other_supplier, expert), "decrypting")
    DrawRequest.objects.filter(pk=world.draw.pk).update(status=DrawRequest.Status.DRAWN)
    with world.at():
        live = client_for(supervisor).get("/supervision/live.json").json()
    [opening] = live["openings"]
    assert (opening["bids"], opening["decrypted"], opening["awaiting"]) == (3, 1, 2)
    assert opening["room_url"] == f"/bidding/lots/{world.lot.pk}/opening/"
    assert [d["id"] for d in live["draws"]] == [world.draw.pk]


def test_the_chain_head_and_last_checkpoint_are_on_the_dashboard(closed, supervisor):
    checkpoint = record_checkpoint()
    alert("same_ip", closed.project.pk)
    page = client_for(supervisor).get("/supervision/").content.decode()
    data = json.loads(re.search(r'id="supervision-live-data"[^>]*>(.*?)</script>', page)[1])
    assert data["chain"]["checkpoint"]["seq"] == checkpoint.seq
    assert data["chain"]["checkpoint"]["ok"] is True
    assert data["chain"]["head"]["seq"] >= checkpoint.seq
    assert f'data-testid="checkpoint-seq">{checkpoint.seq}<' in page
    assert 'data-testid="checkpoint-ok" data-ok="1"' in page
    assert data["chain"]["head"]["hash"] in page
    assert data["alerts_open"] == 1


# --- One project: evidence and report ------------------------------------------------------------------


def test_the_project_page_links_rooms_replays_and_prints_the_key_and_command(closed, supervisor):
    page = client_for(supervisor).get(f"/supervision/projects/{closed.project.pk}/")
    text = page.content.decode()
    key = evidence.public_key_hex()
    assert key in text
    assert f"verify_evidence evidence-{closed.project.number}.zip --public-key {key}" in text
    assert f"/supervision/auctions/{closed.auction.pk}/replay/" in text
    assert f"/bidding/auctions/{closed.auction.pk}/" in text
    assert closed.auction.closing_audit_hash in text


def test_the_evidence_package_downloads_and_verifies(closed, supervisor):
    response = client_for(supervisor).get(f"/supervision/projects/{closed.project.pk}/evidence.zip")
    assert response["Content-Type"] == "application/zip"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="evidence-{closed.project.number}.zip"'
    )
    package = response.content
    assert evidence.verify(package) == []
    archive = zipfile.ZipFile(io.BytesIO(package))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["project"]["number"] == closed.project.number
    auctions = json.loads(archive.read("auctions.json"))
    assert [e["type"] for e in auctions[0]["events"]].count("bid") == 3


def test_the_audit_report_renders_chinese_and_names_what_it_covers(closed, supervisor):
    alert("same_ip", closed.project.pk, summary="不同投标人从同一IP地址操作")
    handled = alert("rotation", closed.project.pk, summary="同一中标人反复胜过同一批投标人")
    from supervision.alerts import handle_alert

    handle_alert(Actor.for_user(supervisor), handled, note="已核查，系正常竞争")
    response = client_for(supervisor).get(f"/supervision/projects/{closed.project.pk}/report.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert_platform_signed(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", "", text)
    assert "监督审计报告" in flat
    assert re.sub(r"\s+", "", closed.project.title) in flat
    assert closed.auction.closing_audit_hash in flat
    assert "bidding.auction.bid_accepted" in flat
    assert "已核查，系正常竞争" in flat and "未处理" in flat
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert all("WenQuanYi" in f for f in fonts), fonts  # embedded CJK face only
    # The manifest SHA-256 it prints is a package's, and every file digest matches a package built now
    # (the project did not change): the report and a separate download agree file by file.
    manifest_sha = re.search(r"manifest\.json的SHA-256([0-9a-f]{64})", flat)[1]
    assert reader.metadata["/Subject"] == manifest_sha
    again = json.loads(
        zipfile.ZipFile(io.BytesIO(evidence.build(closed.project))).read("manifest.json")
    )
    for name, digest in again["files"].items():
        assert digest in flat, name


# --- Replay --------------------------------------------------------------------------------------------


def test_the_replay_holds_every_event_with_beijing_millisecond_times_and_identities(
    closed, supervisor
):
    page = client_for(supervisor).get(f"/supervision/auctions/{closed.auction.pk}/replay/")
    text = page.content.decode()
    data = json.loads(re.search(r'id="replay-data"[^>]*>(.*?)</script>', text)[1])
    steps = data["steps"]
    auction = closed.auction
    assert [s["seq"] for s in steps] == list(range(1, auction.seq + 1))  # complete, in order
    assert [s["type"] for s in steps] == ["started", "bid", "bid", "bid", "extended", "closed"]
    a, b, _ = closed.bidders
    bids = [s for s in steps if s["type"] == "bid"]
    assert [s["name"] for s in bids] == [
        a.organization.name,
        b.organization.name,
        a.organization.name,
    ]
    assert bids[0]["at_text"] == "2026-04-11 10:00:10.000"  # Beijing time, to the millisecond
    assert bids[1]["best_price"] == "998000.00" and bids[1]["best_name"] == b.organization.name
    assert bids[1]["prices"] == {bids[1]["alias"]: "998000.00"}
    extended = steps[4]
    assert extended["extensions_used"] == 1
    assert dt.datetime.fromisoformat(extended["ends_at"]) == START + dt.timedelta(seconds=710)
    assert extended["ends_text"] == "2026-04-11 10:11:50.000"
    assert steps[3]["extensions_used"] == 0
    final = steps[-1]
    assert final["best_price"] == auction.results[0]["price"] == "997000.00"
    assert final["best_alias"] == auction.results[0]["alias"]
    assert [r["name"] for r in final["results"]] == [a.organization.name, b.organization.name]
    assert data["names"][bids[0]["alias"]] == a.organization.name


def test_an_unfinished_auction_has_no_replay_yet(agent, staff, supervisor):
    world = make_world(agent, staff)
    with at(5):
        response = client_for(supervisor).get(f"/supervision/auctions/{world.auction.pk}/replay/")
    assert response.status_code == 409
    assert 'data-testid="error"' in response.content.decode()
    assert client_for(supervisor).get("/supervision/auctions/999999/replay/").status_code == 404


def test_a_land_phase_replays_too(agent, staff, supervisor):
    land = make_land_world(agent, staff, bidders=2)
    first, second = land.bidders
    land.bid(first, "100000000.00", LISTING_START + dt.timedelta(days=3))
    land.bid(second, "101000000.00", LISTING_START + dt.timedelta(days=4))
    land.advance(LISTING_END + dt.timedelta(seconds=1))
    phase = land.phase("listing")
    assert phase.finished
    response = client_for(supervisor).get(f"/supervision/auctions/{phase.pk}/replay/")
    data = json.loads(
        re.search(r'id="replay-data"[^>]*>(.*?)</script>', response.content.decode())[1]
    )
    bids = [s for s in data["steps"] if s["type"] == "bid"]
    assert [s["price"] for s in bids] == ["100000000.00", "101000000.00"]
    assert data["steps"][-1]["best_price"] == "101000000.00"  # ascending: the highest leads
    assert data["steps"][-1]["best_name"] == second.organization.name


# --- Alerts --------------------------------------------------------------------------------------------


def test_alerts_filter_by_kind_handled_and_project(closed, agent, staff, supervisor):
    other = make_world(agent, staff, with_auction=False)
    ip = alert("same_ip", closed.project.pk)
    rotation = alert("rotation", other.project.pk)
    done = alert("score_outlier", closed.project.pk)
    from supervision.alerts import handle_alert

    handle_alert(Actor.for_user(supervisor), done, note="已处理")
    client = client_for(supervisor)

    def listed(**params) -> list[int]:
        page = client.get("/supervision/alerts/", params).content.decode()
        return [int(x) for x in re.findall(r'data-testid="alert" data-id="(\d+)"', page)]

    assert set(listed()) == {ip.pk, rotation.pk, done.pk}
    assert listed(kind="rotation") == [rotation.pk]
    assert set(listed(handled="false")) == {ip.pk, rotation.pk}
    assert listed(handled="true") == [done.pk]
    assert set(listed(project=closed.project.pk)) == {ip.pk, done.pk}
    assert listed(project=closed.project.pk, handled="false") == [ip.pk]
    # Each alert links its project: to the supervision page for a supervisor, the public one for staff.
    page = client.get("/supervision/alerts/").content.decode()
    assert (
        f'href="/supervision/projects/{other.project.pk}/"><code>{other.project.number}</code>'
        in page
    )
    page = client_for(staff).get("/supervision/alerts/").content.decode()
    assert f'href="/projects/{other.project.pk}/"><code>{other.project.number}</code>' in page


def test_a_supervisor_handles_an_alert_with_a_note_once(closed, supervisor, staff):
    target = alert("same_ip", closed.project.pk)
    client = client_for(supervisor)
    page = client.get("/supervision/alerts/?handled=false").content.decode()
    assert f'action="/supervision/alerts/{target.pk}/handle/"' in page
    # An empty note is refused and changes nothing.
    response = client.post(f"/supervision/alerts/{target.pk}/handle/", {"note": "  "}, follow=True)
    assert "请填写处理意见" in response.content.decode()
    target.refresh_from_db()
    assert target.handled_at is None
    response = client.post(
        f"/supervision/alerts/{target.pk}/handle/",
        {"note": "已约谈相关投标人", "next": "/supervision/alerts/?handled=false"},
    )
    assert (
        response.status_code == 302 and response["Location"] == "/supervision/alerts/?handled=false"
    )
    target.refresh_from_db()
    assert target.note == "已约谈相关投标人" and target.handled_by == supervisor
    event = AuditEvent.objects.get(action="audit.alert.handled")
    assert event.actor_id == supervisor.pk and event.payload == {"note": "已约谈相关投标人"}
    # Once only; an outside `next` is not followed.
    response = client.post(
        f"/supervision/alerts/{target.pk}/handle/",
        {"note": "再次", "next": "https://example.com/"},
        follow=False,
    )
    assert response["Location"] == "/supervision/alerts/"
    assert AuditEvent.objects.filter(action="audit.alert.handled").count() == 1
    # Center staff read the alerts but have no form and may not post one.
    other = alert("rotation", closed.project.pk)
    page = client_for(staff).get("/supervision/alerts/").content.decode()
    assert f'data-id="{other.pk}"' in page and 'data-testid="handle-form"' not in page
    assert (
        client_for(staff).post(f"/supervision/alerts/{other.pk}/handle/", {"note": "x"}).status_code
        == 403
    )


# --- Audit search --------------------------------------------------------------------------------------


def test_the_audit_search_filters_like_the_api(closed, agent, staff, supervisor, api):
    client = client_for(supervisor)
    a = closed.bidders[0]

    def seqs(**params) -> list[int]:
        response = client.get("/supervision/audit/", params)
        assert response.status_code == 200, response.content.decode()[:500]
        return [
            int(x)
            for x in re.findall(r'data-testid="event" data-seq="(\d+)"', response.content.decode())
        ]

    def api_seqs(**params) -> list[int]:
        return [e["seq"] for e in api(supervisor).get("/api/v1/audit/events/", params).json()]

    by_project = seqs(project=closed.project.number)
    assert by_project == sorted(api_seqs(project=closed.project.number), reverse=True)
    by_org = seqs(organization=a.organization_id, action="bidding.auction.bid_accepted")
    assert len(by_org) == 2
    assert seqs(actor=a.username) == sorted(api_seqs(actor=a.username), reverse=True)
    # A time range in Beijing time, as the browser's datetime-local field sends it.
    window = seqs(
        project=closed.project.number, since="2026-04-11T10:00:15", until="2026-04-11T10:09:51"
    )
    accepted = AuditEvent.objects.filter(action="bidding.auction.bid_accepted").order_by("seq")
    assert window == [accepted[2].seq, accepted[1].seq]
    assert seqs(project=closed.project.number, action="nothing.like.this") == []
    bad = client.get("/supervision/audit/", {"since": "yesterday"})
    assert bad.status_code == 400 and "时间格式无效" in bad.content.decode()
    unknown = client.get("/supervision/audit/", {"project": "NOPE"})
    assert unknown.status_code == 400 and "没有该项目" in unknown.content.decode()
    # Nothing searched yet: a form, no table.
    assert 'data-testid="events"' not in client.get("/supervision/audit/").content.decode()


def test_the_search_pages_newest_first(closed, supervisor, settings, monkeypatch):
    from supervision import views

    monkeypatch.setattr(views, "SEARCH_PAGE", 2)
    client = client_for(supervisor)
    first = client.get("/supervision/audit/", {"action": "bidding.auction.bid_accepted"})
    text = first.content.decode()
    shown = [int(x) for x in re.findall(r'data-testid="event" data-seq="(\d+)"', text)]
    accepted = list(
        AuditEvent.objects.filter(action="bidding.auction.bid_accepted")
        .order_by("-seq")
        .values_list("seq", flat=True)
    )
    assert shown == accepted[:2]
    older = re.search(r'href="\?([^"]+)" data-testid="older"', text)[1].replace("&amp;", "&")
    rest = client.get(f"/supervision/audit/?{older}").content.decode()
    assert [int(x) for x in re.findall(r'data-testid="event" data-seq="(\d+)"', rest)] == [
        accepted[2]
    ]


def test_a_tender_and_a_land_listing_have_their_pages_and_reports(
    agent, staff, supervisor, supplier, other_supplier, expert, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    tender = build(people(staff, supervisor, agent, supplier, other_supplier, expert), "opened")
    land = make_land_world(agent, staff, bidders=2)
    land.bid(land.bidders[0], "100000000.00", LISTING_START + dt.timedelta(days=3))
    land.advance(LISTING_END + dt.timedelta(seconds=1))
    client = client_for(supervisor)
    page = client.get(f"/supervision/projects/{tender.project.pk}/").content.decode()
    assert 'data-testid="project-stage" data-stage="opened"' in page
    assert f"/bidding/lots/{tender.lot.pk}/opening/" in page
    assert f"/experts/draws/{tender.draw.pk}/" in page
    page = client.get(f"/supervision/projects/{land.project.pk}/").content.decode()
    listing = land.refresh()
    assert f'data-stage="land_{listing.stage}"' in page
    assert f"/bidding/land/{listing.pk}/" in page
    assert f"/supervision/auctions/{land.phase('listing').pk}/replay/" in page
    for project, expected in ((tender.project, "本项目无网上竞价"), (land.project, "挂牌期报价")):
        response = client.get(f"/supervision/projects/{project.pk}/report.pdf")
        reader = PdfReader(io.BytesIO(response.content))
        flat = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
        assert expected in flat and project.number in flat
        package = client.get(f"/supervision/projects/{project.pk}/evidence.zip").content
        assert evidence.verify(package) == []
