"""OCDS 1.1.5 open data: one release per published announcement version, valid against the standard's
schema and codelists (tests/trading/ocds_1_1_5, resolved locally), served at /api/v1/ocds/<ocid>/ and exported
by `manage.py export_ocds`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource

from accounts.actors import Actor
from tests.conftest import make_org
from tests.trading.factories import beijing, draft
from trading import ocds, services
from trading.models import Announcement, Project

pytestmark = pytest.mark.django_db

T0 = beijing("2026-03-02 09:00")
OCDS_DIR = Path(__file__).parent / "ocds_1_1_5"
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


# --- Validation against the standard --------------------------------------------------------------

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# jsonschema only checks date-time and uri when optional packages are installed; check them here so the
# format check can never silently pass.
format_checker = FormatChecker(formats=())


@format_checker.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@format_checker.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@cache
def package_validator() -> Draft4Validator:
    package_schema = json.loads((OCDS_DIR / "release-package-schema.json").read_text())
    release_schema = json.loads((OCDS_DIR / "release-schema.json").read_text())
    # The package schema refers to the release schema by its published URL; map it to the local copy
    # (the machines have no internet, and nothing is fetched).
    registry = Registry().with_resource(RELEASE_SCHEMA_URL, Resource.from_contents(release_schema))
    return Draft4Validator(package_schema, registry=registry, format_checker=format_checker)


@cache
def codelist(name: str) -> frozenset[str]:
    with (OCDS_DIR / "codelists" / f"{name}.csv").open(newline="") as handle:
        return frozenset(row["Code"] for row in csv.DictReader(handle))


def codelist_problems(package: dict[str, Any]) -> list[str]:
    problems = []

    def check(name: str, values: list[str] | str | None, where: str) -> None:
        for value in [values] if isinstance(values, str) else values or []:
            if value not in codelist(name):
                problems.append(f"{where}: {value!r} is not in {name}.csv")

    for release in package["releases"]:
        where = release["id"]
        tender = release.get("tender", {})
        check("releaseTag", release["tag"], where)
        check("method", tender.get("procurementMethod"), where)
        check("tenderStatus", tender.get("status"), where)
        check("procurementCategory", tender.get("mainProcurementCategory"), where)
        for party in release.get("parties", []):
            check("partyRole", party["roles"], where)
        documents = tender.get("documents", []) + [
            document for award in release.get("awards", []) for document in award["documents"]
        ]
        for document in documents:
            check("documentType", document["documentType"], where)
        for lot in tender.get("lots", []):
            check("tenderStatus", lot["status"], where)  # the Lots extension's Lot.status enum
        for award in release.get("awards", []):
            check("awardStatus", award["status"], where)
    return problems


def assert_valid(package: dict[str, Any] | str) -> dict[str, Any]:
    """Validate the package as JSON text would be read: amounts as exact Decimals."""
    text = package if isinstance(package, str) else ocds.dumps(package)
    data = json.loads(text, parse_float=Decimal)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in package_validator().iter_errors(data)
    ]
    assert not errors, errors[:10]
    assert not codelist_problems(data), codelist_problems(data)
    ids = [release["id"] for release in data["releases"]]
    assert len(ids) == len(set(ids)), "release ids repeat"
    return data


# --- Scenarios ------------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def publish(agent, staff, *, upload: bool = False, **fields) -> Project:
    project = draft(agent, start=T0 + dt.timedelta(minutes=5), **fields)
    if upload:
        services.upload_document(
            Actor.for_user(agent),
            project,
            SimpleUploadedFile("招标文件.pdf", b"%PDF-1.4 tender documents", "application/pdf"),
            title="招标文件",
        )
    services.submit_project(Actor.for_user(agent), project)
    services.approve_project(Actor.for_user(staff), project)
    services.publish_project(Actor.for_user(agent), project)
    project.refresh_from_db()
    return project


@pytest.fixture
def amended(agent, staff, supplier, media) -> Project:
    """Published with a document, then a clarification (day 1) and an amendment moving the deadline
    (day 2). Two lots."""
    with travel(T0):
        project = publish(
            agent,
            staff,
            upload=True,
            lots=[
                {"name": "施工总承包", "estimate": "987654321.98", "deposit_amount": "0"},
                {
                    "name": "监理",
                    "estimate": "38000000.01",
                    "ceiling_price": "36500000.00",
                    "deposit_amount": "500000.00",
                    "deposit_forms": ["bank_guarantee"],
                },
            ],
        )
    with travel(T0 + dt.timedelta(days=1)):
        question = services.ask_question(
            Actor.for_user(supplier), project, text="工期是否可以调整？"
        )
        services.answer_question(Actor.for_user(agent), question, answer="工期不变。")
    with travel(T0 + dt.timedelta(days=2)):
        services.publish_amendment(
            Actor.for_user(agent),
            project,
            title="关于延长投标截止时间的变更公告",
            body="投标截止时间延后三日。",
            bid_deadline=project.bid_deadline + dt.timedelta(days=3),
        )
    project.refresh_from_db()
    return project


def package_of(project: Project) -> dict[str, Any]:
    return json.loads(ocds.dumps(ocds.project_release_package(project)), parse_float=Decimal)


# --- Releases -------------------------------------------------------------------------------------


def test_a_project_with_a_clarification_and_an_amendment_has_one_release_per_version(amended):
    data = assert_valid(ocds.project_release_package(amended))
    releases = data["releases"]
    assert [r["tag"] for r in releases] == [
        ["tender"],
        ["tenderAmendment"],  # the clarification
        ["tenderAmendment"],  # the amendment
        ["tenderUpdate"],  # the tender notice, version 2, with the new deadline
    ]
    assert [r["date"] for r in releases] == sorted(r["date"] for r in releases)
    assert {r["ocid"] for r in releases} == {amended.ocid}
    tender_notice = Announcement.objects.get(project=amended, kind=Announcement.Kind.TENDER)
    assert releases[0]["id"] == f"{amended.ocid}-{tender_notice.pk}-v1"
    assert releases[3]["id"] == f"{amended.ocid}-{tender_notice.pk}-v2"
    assert all(r["initiationType"] == "tender" and r["language"] == "zh" for r in releases)

    amendment = releases[2]["tender"]["amendments"]
    assert amendment == [
        {
            "id": releases[2]["id"].removeprefix(f"{amended.ocid}-"),
            "date": releases[2]["date"],
            "rationale": "关于延长投标截止时间的变更公告",
            "description": "投标截止时间延后三日。",
            "amendsReleaseID": releases[1]["id"],
            "releaseID": releases[2]["id"],
        }
    ]
    assert "amendments" not in releases[0]["tender"]
    assert "问1：工期是否可以调整？" in releases[1]["tender"]["amendments"][0]["description"]


def test_each_release_states_what_its_notice_said_that_day(amended):
    releases = package_of(amended)["releases"]
    first, last = releases[0]["tender"], releases[-1]["tender"]
    assert first["tenderPeriod"] == {
        "startDate": "2026-03-02T09:05:00+08:00",
        "endDate": "2026-03-27T09:05:00+08:00",
    }
    assert last["tenderPeriod"]["endDate"] == "2026-03-30T09:05:00+08:00"
    assert first["enquiryPeriod"] == {"endDate": "2026-03-11T09:05:00+08:00"}
    assert first["status"] == last["status"] == "active"


def test_the_tender_block(amended):
    release = package_of(amended)["releases"][0]
    tender = release["tender"]
    assert tender["id"] == amended.number
    assert tender["title"] == "珠海市第一中学教学楼改造工程"
    assert tender["procurementMethod"] == "open"
    assert tender["procurementMethodDetails"] == "公开招标"
    assert tender["mainProcurementCategory"] == "works"
    assert [lot["id"] for lot in tender["lots"]] == ["lot-1", "lot-2"]
    assert tender["lots"][1] == {
        "id": "lot-2",
        "title": "监理",
        "description": "最高投标限价：36500000.00 元；投标保证金：500000.00 元",
        "status": "active",
        "value": {"amount": Decimal("38000000.01"), "currency": "CNY"},
    }
    # Owner and agent, identified by their unified social credit identifiers.
    owner, agent = amended.owner, amended.agent
    assert release["parties"] == [
        {
            "id": f"CN-USCI-{owner.uscc}",
            "name": owner.name,
            "identifier": {"scheme": "CN-USCI", "id": owner.uscc, "legalName": owner.name},
            "roles": ["buyer"],
        },
        {
            "id": f"CN-USCI-{agent.uscc}",
            "name": agent.name,
            "identifier": {"scheme": "CN-USCI", "id": agent.uscc, "legalName": agent.name},
            "roles": ["procuringEntity"],
        },
    ]
    assert release["buyer"] == {"id": f"CN-USCI-{owner.uscc}", "name": owner.name}
    assert tender["procuringEntity"] == {"id": f"CN-USCI-{agent.uscc}", "name": agent.name}


def test_amounts_are_exact_json_numbers(amended):
    text = ocds.dumps(ocds.project_release_package(amended))
    # The sum of the lots as a JSON number with the Decimal's own digits (cents kept).
    assert '"value":{"amount":1025654321.99,"currency":"CNY"}' in text
    assert '"value":{"amount":987654321.98,"currency":"CNY"}' in text
    data = json.loads(text, parse_float=Decimal)
    assert data["releases"][0]["tender"]["value"]["amount"] == Decimal("1025654321.99")


def test_the_json_writer_never_goes_through_float():
    # 18 significant digits: a float would print 1234567890123456.8.
    amount = Decimal("1234567890123456.78")
    assert ocds.dumps({"amount": amount, "zero": Decimal("0.00")}) == (
        '{"amount":1234567890123456.78,"zero":0.00}'
    )
    assert json.loads(ocds.dumps([amount]), parse_float=Decimal) == [amount]
    assert ocds.dumps({"名称": '引号"与换行\n'}) == '{"名称":"引号\\"与换行\\n"}'
    with pytest.raises(TypeError):
        ocds.dumps({"amount": 1.5})
    with pytest.raises(ValueError):
        ocds.dumps({"amount": Decimal("NaN")})


def test_documents_carry_their_sha256_and_link_to_the_notice_pdf(amended):
    release = package_of(amended)["releases"][0]
    notice_version = Announcement.objects.get(
        project=amended, kind=Announcement.Kind.TENDER
    ).versions.get(number=1)
    notice, tender_file = release["tender"]["documents"]
    assert notice["documentType"] == "tenderNotice"
    assert notice["url"] == (
        f"{settings.SITE_URL}/announcements/{notice_version.announcement_id}/v1.pdf"
    )
    assert notice["format"] == "application/pdf"
    assert notice["description"].startswith(f"SHA-256: {notice_version.sha256}")
    document = amended.documents.get()
    assert tender_file["id"] == f"document-{document.pk}"
    assert tender_file["documentType"] == "biddingDocuments"
    assert tender_file["description"] == f"SHA-256: {document.sha256}"
    download = reverse(ocds.DOCUMENT_DOWNLOAD_URL_NAME, kwargs={"pk": document.pk})
    assert tender_file["url"] == f"{settings.SITE_URL}{download}"
    assert tender_file["format"] == "application/pdf"
    assert tender_file["datePublished"] == "2026-03-02T09:00:00+08:00"
    kinds = [r["tender"]["documents"][0]["documentType"] for r in package_of(amended)["releases"]]
    assert kinds == ["tenderNotice", "clarifications", "tenderNotice", "tenderNotice"]


def test_a_terminated_project_ends_with_a_cancellation(agent, staff):
    with travel(T0):
        project = publish(agent, staff)
    with travel(T0 + dt.timedelta(days=1)):
        services.terminate_project(Actor.for_user(agent), project, reason="项目资金未落实")
    project.refresh_from_db()
    data = assert_valid(ocds.project_release_package(project))
    first, last = data["releases"]
    assert (first["tag"], first["tender"]["status"]) == (["tender"], "active")
    assert (last["tag"], last["tender"]["status"]) == (["tenderCancellation"], "cancelled")
    assert last["tender"]["documents"][0]["documentType"] == "cancellationDetails"
    assert {lot["status"] for lot in last["tender"]["lots"]} == {"cancelled"}


def test_a_government_procurement(agent, staff):
    with travel(T0):
        project = publish(
            agent,
            staff,
            title="珠海市政务服务中心办公设备采购",
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            lots=[
                {
                    "name": "办公设备",
                    "estimate": "2000000.00",
                    "deposit_amount": "40000.00",
                    "deposit_forms": [],  # GP: every legal form, the supplier chooses
                }
            ],
        )
    data = assert_valid(ocds.project_release_package(project))
    (release,) = data["releases"]
    assert release["tag"] == ["tender"]
    tender = release["tender"]
    assert tender["mainProcurementCategory"] == "goods"
    assert (tender["procurementMethod"], tender["procurementMethodDetails"]) == ("open", "公开招标")
    assert tender["documents"][0]["title"] == "珠海市政务服务中心办公设备采购采购公告"
    assert tender["value"] == {"amount": Decimal("2000000.00"), "currency": "CNY"}


def test_an_invitation_tender_is_selective(agent, staff, supplier, other_supplier):
    third = make_org("supplier", "丙建设公司")
    with travel(T0):
        project = publish(
            agent,
            staff,
            method=Project.Method.INVITATION,
            category=Project.Category.SURVEY_DESIGN,
            lots=[{"name": "勘察设计", "estimate": "3000000.00", "deposit_amount": "0"}],
            invitees=[supplier.organization_id, other_supplier.organization_id, third.pk],
        )
    (release,) = assert_valid(ocds.project_release_package(project))["releases"]
    assert release["tender"]["procurementMethod"] == "selective"
    assert release["tender"]["procurementMethodDetails"] == "邀请招标"
    assert release["tender"]["mainProcurementCategory"] == "services"


def test_a_land_listing_is_open_and_names_no_procurement_category(agent, staff):
    with travel(T0):
        project = publish(
            agent,
            staff,
            title="珠海市金湾区 JW2026-01 地块国有建设用地使用权",
            kind=Project.Kind.LAND,
            category=Project.Category.LAND,
            method=Project.Method.LAND_LISTING,
            lots=[{"name": "JW2026-01 地块", "estimate": "150000000.00", "deposit_amount": "0"}],
        )
    (release,) = assert_valid(ocds.project_release_package(project))["releases"]
    assert release["tag"] == ["tender"]
    assert release["tender"]["procurementMethod"] == "open"
    assert release["tender"]["procurementMethodDetails"] == "挂牌出让"
    assert "mainProcurementCategory" not in release["tender"]


def test_award_notices_become_award_releases(agent, staff):
    with travel(T0):
        project = publish(agent, staff)
    actor = Actor.for_user(agent)
    for day, kind, title in (
        (30, Announcement.Kind.CANDIDATES, "中标候选人公示"),
        (31, Announcement.Kind.CANDIDATES, "中标候选人公示（更正）"),
        (35, Announcement.Kind.RESULT, "中标结果公告"),
    ):
        with travel(T0 + dt.timedelta(days=day)), transaction.atomic():
            locked = services.lock_project(project)
            services.publish_version(actor, locked, kind, title=title, body="第一名：甲建设公司")
    data = assert_valid(ocds.project_release_package(project))
    tags = [r["tag"] for r in data["releases"]]
    assert tags == [["tender"], ["award"], ["awardUpdate"], ["award"]]
    candidates, result = data["releases"][1], data["releases"][3]
    assert candidates["tender"]["status"] == "complete"
    (award,) = candidates["awards"]
    assert (award["id"], award["status"], award["relatedLots"]) == (
        f"{project.number}-lot-1",
        "pending",
        ["lot-1"],
    )
    assert award["documents"][0]["documentType"] == "evaluationReports"
    assert result["awards"][0]["id"] == award["id"]  # the same award, now active
    assert result["awards"][0]["status"] == "active"
    assert result["awards"][0]["documents"][0]["documentType"] == "awardNotice"


def test_the_format_check_is_live():
    package = {
        "uri": "https://example.cn/api/v1/ocds/x/",
        "version": "1.1",
        "publishedDate": "2026-03-02 09:00",
        "publisher": {"name": "x"},
        "releases": [],
    }
    errors = [e for e in package_validator().iter_errors(package) if e.validator == "format"]
    assert [list(e.absolute_path) for e in errors] == [["publishedDate"]]


# --- The endpoint ---------------------------------------------------------------------------------


def test_anyone_reads_a_published_projects_package(amended):
    response = Client().get(f"/api/v1/ocds/{amended.ocid}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = assert_valid(response.content.decode())
    assert data["uri"] == f"{settings.SITE_URL}/api/v1/ocds/{amended.ocid}/"
    assert data["version"] == "1.1"
    assert data["publisher"] == {"name": settings.OCDS_PUBLISHER}
    assert data["extensions"] == [ocds.LOTS_EXTENSION]
    # The date of the newest content, so the same data always gives the same package.
    assert data["publishedDate"] == data["releases"][-1]["date"]
    assert len(data["releases"]) == 4


def test_a_terminated_project_stays_public(agent, staff):
    with travel(T0):
        project = publish(agent, staff)
        services.terminate_project(Actor.for_user(agent), project, reason="项目取消")
    assert Client().get(f"/api/v1/ocds/{project.ocid}/").status_code == 200


def test_an_unpublished_project_is_not_found(agent, staff):
    with travel(T0):
        unpublished = draft(agent, start=T0 + dt.timedelta(minutes=5))
        approved = draft(agent, start=T0 + dt.timedelta(minutes=5))
        services.submit_project(Actor.for_user(agent), approved)
        services.approve_project(Actor.for_user(staff), approved)
    client = Client()
    for ocid in (
        unpublished.ocid,
        approved.ocid,
        f"ocds-other-{approved.number}",
        "nonsense",
    ):
        response = client.get(f"/api/v1/ocds/{ocid}/")
        assert response.status_code == 404, ocid
        assert response.json()["error"]["code"] == "NOT_FOUND"


# --- The export -----------------------------------------------------------------------------------


def test_export_ocds_prints_one_package_with_every_published_project(amended, agent, staff):
    with travel(T0):
        other = publish(agent, staff, title="珠海市香洲区道路改造工程")
        unpublished = draft(agent, start=T0 + dt.timedelta(minutes=5))
    out = io.StringIO()
    call_command("export_ocds", stdout=out)
    data = assert_valid(out.getvalue())
    ocids = [release["ocid"] for release in data["releases"]]
    assert ocids == [amended.ocid] * 4 + [other.ocid]
    assert unpublished.ocid not in ocids
    assert data["uri"] == f"{settings.SITE_URL}/api/v1/ocds/"
    assert data["publishedDate"] == max(r["date"] for r in data["releases"])
    # The same releases as the endpoint gives project by project.
    assert data["releases"][:4] == package_of(amended)["releases"]


def test_export_ocds_for_one_project(amended, agent, staff):
    with travel(T0):
        publish(agent, staff, title="珠海市香洲区道路改造工程")
    out = io.StringIO()
    call_command("export_ocds", "--project", amended.number, stdout=out)
    data = assert_valid(out.getvalue())
    assert {release["ocid"] for release in data["releases"]} == {amended.ocid}
    assert data["uri"] == f"{settings.SITE_URL}/api/v1/ocds/{amended.ocid}/"
    # The same package the endpoint serves (the export only adds a line break between releases).
    served = Client().get(f"/api/v1/ocds/{amended.ocid}/").content.decode()
    assert json.loads(out.getvalue(), parse_float=Decimal) == json.loads(
        served, parse_float=Decimal
    )


def test_export_ocds_refuses_an_unknown_or_unpublished_project(agent):
    with travel(T0):
        unpublished = draft(agent, start=T0 + dt.timedelta(minutes=5))
    for number in ("BH-NOPE", unpublished.number):
        with pytest.raises(CommandError):
            call_command("export_ocds", "--project", number, stdout=io.StringIO())


def test_an_empty_export_is_refused_rather_than_invalid(db):
    # A release package must hold at least one release (release-package-schema: minItems 1).
    out = io.StringIO()
    with pytest.raises(CommandError, match="no published project"):
        call_command("export_ocds", stdout=out)
    assert out.getvalue() == ""
