"""Open data: OCDS 1.1.5 release packages of the published projects (issue 3).

One release per published announcement version, built from that version's frozen `content`, so a release
says what the notice said on its day and old releases never change. Codelist choices:

- tags: the main notice (招标/采购/土地挂牌出让公告) v1 → `tender`, later versions → `tenderUpdate`;
  变更公告 and 澄清公告 → `tenderAmendment` (with `tender.amendments`); 终止公告 → `tenderCancellation`;
  中标候选人公示, 结果公告 and 成交公示 → `award` (`awardUpdate` for their later versions).
- parties: the 招标人/采购人 is the `buyer`, the 代理机构 the `procuringEntity` (partyRole codelist).
  Identifiers use the org-id.guide scheme `CN-USCI` (Unified Social Credit Identifier, 统一社会信用代码):
  org-id.guide registers no "CN-USCC" prefix, and CN-SAIC only covers business registration.
- `procurementMethod`: 公开招标, 电子反拍 and 挂牌出让 are `open`; 邀请招标 is `selective`; 竞争性磋商,
  竞争性谈判 and 询价 are announced on the platform to every qualified supplier, so `open`, with the
  method's Chinese name in `procurementMethodDetails` (as for every method); 单一来源 is `direct`;
  框架协议's public solicitation is `open` ("框架协议"). Its 入围结果公告 (a 结果公告) and its
  cumulative 成交结果公告 of the second-stage purchases (a 成交公示 series) are award notices: OCDS
  1.1.5 has no framework fields (`techniques` came in 1.2), so the members, prices and purchases are
  in the notices' text.
- `mainProcurementCategory`: works (施工, 房建市政), goods, services (服务, 勘察设计); omitted for land and
  property rights, which are sales rather than procurement.
- Lots use the Lots extension (declared in `extensions`). The 最高投标限价 and the deposit have no OCDS field,
  so each lot's description states them.
- 合同公告 (GP contracts, `contracts.services`) → the `contracts` section: one contract per version,
  with `id` (the contract number), `awardID` (the lot's award id, as in the result notice), `title`,
  `value`, `dateSigned`, `status` (signed, published or in performance → `active`; accepted or
  terminated → `terminated`), `documents` (the notice, `contractNotice`; the signed files,
  `contractSigned`), `amendments` (each version in force after the first, with its reason) and
  `implementation` (milestones: `delivery`, `met` or `scheduled`/`notMet` by their due day;
  transactions: the milestones' payments, payer the buyer, payee the supplier). The version's
  `contract_event` gives the tag: signed → `contract`, amended → `contractAmendment`, a delivery,
  payment or acceptance → `implementation`, terminated → `contractTermination`. The supplier joins
  `parties` (`supplier`, and `payee` once paid; the buyer is then also `payer`).
- OCDS documents have no hash field. The SHA-256 goes into the document's `description` as
  "SHA-256: <64 hex digits>" (standard fields only; no undeclared extension field).

Money is Decimal all the way: OCDS wants amounts as JSON numbers, and `dumps`/`iter_json` below write a
Decimal's own digits as the number (json.dumps has no Decimal output; float() would round amounts above
about 15 significant digits). Read them back exactly with `json.loads(text, parse_float=Decimal)`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from trading.models import Announcement, AnnouncementVersion, Project, ProjectDocument
from trading.pdf import verification_url

OCDS_VERSION = "1.1"
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_lots_extension/v1.1.5/extension.json"
)
ORG_ID_SCHEME = "CN-USCI"
CURRENCY = "CNY"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# The name another part of the platform gives its tender-document download view; the URL is left out
# of the document while no such view exists.
DOCUMENT_DOWNLOAD_URL_NAME = "document_download"

Kind = Announcement.Kind
MAIN_NOTICES = {Kind.TENDER, Kind.PROCUREMENT, Kind.LAND_LISTING}
AWARD_NOTICES = {Kind.CANDIDATES, Kind.RESULT, Kind.DEAL}
CONTRACT_TAGS = {
    "signed": "contract",
    "amended": "contractAmendment",
    "implementation": "implementation",
    "terminated": "contractTermination",
}
CONTRACT_STATUS = {
    "signed": "active",
    "published": "active",
    "performing": "active",
    "accepted": "terminated",
    "terminated": "terminated",
}
AMENDING_NOTICES = {Kind.AMENDMENT, Kind.CLARIFICATION}
DOCUMENT_TYPES: dict[str, str] = {
    Kind.TENDER: "tenderNotice",
    Kind.PROCUREMENT: "tenderNotice",
    Kind.LAND_LISTING: "tenderNotice",
    # A 变更公告 is a notice re-stating the tender: documentType has no "amendment" code.
    Kind.AMENDMENT: "tenderNotice",
    Kind.CLARIFICATION: "clarifications",
    Kind.TERMINATION: "cancellationDetails",
    # 中标候选人公示 publishes the committee's ranking: the evaluation outcome, before the award.
    Kind.CANDIDATES: "evaluationReports",
    Kind.RESULT: "awardNotice",
    Kind.DEAL: "awardNotice",
    Kind.CONTRACT: "contractNotice",
}
METHODS = {
    Project.Method.OPEN: "open",
    Project.Method.INVITATION: "selective",
    Project.Method.REVERSE_AUCTION: "open",
    Project.Method.LAND_LISTING: "open",
    # Announced on the platform to every supplier that meets the conditions (the announcement route
    # of 财政部令第74号 Art.12 and 214号 Art.6); the Chinese name goes to procurementMethodDetails.
    Project.Method.CONSULTATION: "open",
    Project.Method.NEGOTIATION: "open",
    Project.Method.INQUIRY: "open",
    # One supplier named in advance, no competition: OCDS's `direct`.
    Project.Method.SINGLE_SOURCE: "direct",
    # A closed framework agreement's public solicitation (公开征集, 110号令): anyone may respond.
    Project.Method.FRAMEWORK: "open",
}
CATEGORIES = {
    Project.Category.WORKS: "works",
    Project.Category.HOUSING_MUNICIPAL: "works",
    Project.Category.GOODS: "goods",
    Project.Category.SERVICES: "services",
    Project.Category.SURVEY_DESIGN: "services",
}


# --- JSON with exact Decimal numbers --------------------------------------------------------------


def iter_json(value: Any) -> Iterator[str]:
    """JSON text of `value` in pieces. Decimals are written as JSON numbers with their exact digits."""
    if isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ("," if index else "") + json.dumps(str(key), ensure_ascii=False) + ":"
            yield from iter_json(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from iter_json(item)
        yield "]"
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a JSON number: {value}")
        yield format(value, "f")
    elif isinstance(value, float):
        raise TypeError("OCDS amounts are written from Decimal, never float")
    else:
        yield json.dumps(value, ensure_ascii=False)


def dumps(value: Any) -> str:
    return "".join(iter_json(value))


# --- Building releases ----------------------------------------------------------------------------


def _when(value: str | dt.datetime | None) -> str | None:
    """An RFC 3339 date-time in Beijing time (the offset says so), from a stored UTC value."""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI).isoformat()


def _amount(value: str | None) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    return {"amount": Decimal(value), "currency": CURRENCY}


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _party_id(org: dict[str, Any]) -> str:
    return f"{ORG_ID_SCHEME}-{org['uscc']}"


def _parties(project: dict[str, Any]) -> list[dict[str, Any]]:
    parties: dict[str, dict[str, Any]] = {}
    for key, role in (("owner", "buyer"), ("agent", "procuringEntity")):
        org = project.get(key)
        if not org:
            continue
        party = parties.setdefault(
            _party_id(org),
            {
                "id": _party_id(org),
                "name": org["name"],
                "identifier": {
                    "scheme": ORG_ID_SCHEME,
                    "id": org["uscc"],
                    "legalName": org["name"],
                },
                "roles": [],
            },
        )
        party["roles"].append(role)
    return list(parties.values())


def _reference(org: dict[str, Any] | None) -> dict[str, str] | None:
    return {"id": _party_id(org), "name": org["name"]} if org else None


def _release_tag(kind: str, number: int, contract_event: str | None = None) -> list[str]:
    if kind == Kind.CONTRACT:
        return [CONTRACT_TAGS.get(contract_event or "", "contractUpdate")]
    if kind in MAIN_NOTICES:
        return ["tender"] if number == 1 else ["tenderUpdate"]
    if kind in AMENDING_NOTICES:
        return ["tenderAmendment"]
    if kind == Kind.TERMINATION:
        return ["tenderCancellation"]
    if kind == Kind.FAILED:
        return ["tenderUpdate"]
    return ["award"] if number == 1 else ["awardUpdate"]


def _tender_status(kind: str, project: dict[str, Any], failed: set[int]) -> str:
    if kind == Kind.TERMINATION or project.get("status") == Project.Status.TERMINATED:
        return "cancelled"
    if kind == Kind.FAILED:
        # 流标 of every lot: the tender ended without a result (a re-tender is a new process).
        numbers = {lot["number"] for lot in project.get("lots", [])}
        return "unsuccessful" if numbers and numbers <= failed else "active"
    if kind in AWARD_NOTICES or kind == Kind.CONTRACT:
        return "complete"
    return "active"


def _lot_id(lot: dict[str, Any]) -> str:
    return f"lot-{lot['number']}"


def _lot(lot: dict[str, Any], status: str) -> dict[str, Any]:
    notes = []
    if lot.get("ceiling_price"):
        notes.append(f"最高投标限价：{lot['ceiling_price']} 元")
    if lot.get("deposit_amount") and Decimal(lot["deposit_amount"]):
        notes.append(f"投标保证金：{lot['deposit_amount']} 元")
    return _compact(
        {
            "id": _lot_id(lot),
            "title": lot.get("name"),
            "description": "；".join(notes) or None,
            "status": status,
            "value": _amount(lot.get("estimate")),
        }
    )


def _compact(value: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields: OCDS prefers an absent field to a null one."""
    return {key: item for key, item in value.items() if item not in (None, "", [], {})}


class _Documents:
    """Facts about tender documents that their frozen summary in `content` lacks (type, date, URL).

    The rows are immutable once published (a new version of a file is a new document), so reading them
    today describes the same bytes the notice listed.
    """

    def __init__(self, project: Project) -> None:
        self.rows = {
            row.pk: row
            for row in ProjectDocument.objects.filter(project=project).only(
                "pk", "content_type", "published_at"
            )
        }

    def describe(self, document: dict[str, Any]) -> dict[str, Any]:
        row = self.rows.get(document["id"])
        try:
            url = _site(reverse(DOCUMENT_DOWNLOAD_URL_NAME, kwargs={"pk": document["id"]}))
        except NoReverseMatch:
            url = None
        return _compact(
            {
                "id": f"document-{document['id']}",
                "documentType": "biddingDocuments",
                "title": document.get("title"),
                "description": f"SHA-256: {document['sha256']}",
                "url": url,
                "format": (row.content_type if row else None) or None,
                "datePublished": _when(row.published_at) if row else None,
                "language": "zh",
            }
        )


def _notice(version: AnnouncementVersion, kind: str, lot_ids: list[str]) -> dict[str, Any]:
    pdf = reverse(
        "announcement_pdf", kwargs={"pk": version.announcement_id, "number": version.number}
    )
    document: dict[str, Any] = {
        "id": f"notice-{version.announcement_id}-v{version.number}",
        "documentType": DOCUMENT_TYPES.get(kind, "tenderNotice"),
        "title": version.title,
        "description": f"SHA-256: {version.sha256}（公告内容哈希；核对：{verification_url(version)}）",
        "url": _site(pdf),
        "datePublished": _when(version.published_at),
        "format": "application/pdf",
        "language": "zh",
    }
    if kind in AWARD_NOTICES and lot_ids:
        document["relatedLots"] = lot_ids
    return document


def build_release(
    project: Project,
    version: AnnouncementVersion,
    *,
    previous_release_id: str | None = None,
    documents: _Documents | None = None,
) -> dict[str, Any]:
    """The OCDS release for one published announcement version."""
    kind = version.announcement.kind
    stated = version.content.get("project", {})
    release_id = f"{project.ocid}-{version.announcement_id}-v{version.number}"
    failed = set(version.content.get("failed_lots", [])) if kind == Kind.FAILED else set()
    status = _tender_status(kind, stated, failed)
    lots = stated.get("lots", [])
    lot_ids = [_lot_id(lot) for lot in lots]
    estimates = [Decimal(lot["estimate"]) for lot in lots if lot.get("estimate")]
    documents = documents or _Documents(project)
    timeline = stated.get("timeline", {})
    notice = _notice(version, kind, lot_ids)
    # An award notice belongs to the awards it announces, a contract notice to its contract;
    # anything else to the tender.
    notice_in_awards = kind in AWARD_NOTICES and bool(lots)
    stated_contract = version.content.get("contract") if kind == Kind.CONTRACT else None

    with translation.override("zh-hans"):
        method_details = _choice_label(Project.Method, stated.get("method"))

    tender = _compact(
        {
            "id": stated.get("number") or project.number,
            "title": stated.get("title"),
            "description": stated.get("description"),
            "status": status,
            "procuringEntity": _reference(stated.get("agent")),
            "value": {"amount": sum(estimates, Decimal("0.00")), "currency": CURRENCY}
            if estimates
            else None,
            "procurementMethod": METHODS.get(stated.get("method")),
            "procurementMethodDetails": method_details,
            "mainProcurementCategory": CATEGORIES.get(stated.get("category")),
            "tenderPeriod": _compact(
                {
                    "startDate": _when(timeline.get("documents_from")),
                    "endDate": _when(timeline.get("bid_deadline")),
                }
            ),
            "enquiryPeriod": _compact({"endDate": _when(timeline.get("questions_until"))}),
            "lots": [
                _lot(lot, "unsuccessful" if lot["number"] in failed else status) for lot in lots
            ],
            "documents": [
                *([] if notice_in_awards or stated_contract else [notice]),
                *(documents.describe(d) for d in stated.get("documents", [])),
            ],
        }
    )
    if kind in AMENDING_NOTICES:
        tender["amendments"] = [
            _compact(
                {
                    "id": f"{version.announcement_id}-v{version.number}",
                    "date": _when(version.published_at),
                    "rationale": version.title,
                    "description": version.body,
                    "amendsReleaseID": previous_release_id,
                    "releaseID": release_id,
                }
            )
        ]

    release: dict[str, Any] = {
        "ocid": project.ocid,
        "id": release_id,
        "date": _when(version.published_at),
        "tag": _release_tag(kind, version.number, version.content.get("contract_event")),
        "initiationType": "tender",
        "language": "zh",
        "parties": _parties(stated),
        "buyer": _reference(stated.get("owner")),
        "tender": tender,
    }
    if notice_in_awards:
        release["awards"] = [
            {
                # One award per lot; the same id in every award notice so a compiled record merges
                # the candidates' publicity (pending) with the result (active).
                "id": f"{project.number}-{_lot_id(lot)}",
                "title": lot.get("name"),
                "status": "pending" if kind == Kind.CANDIDATES else "active",
                "date": _when(version.published_at),
                "relatedLots": [_lot_id(lot)],
                "documents": [notice],
            }
            for lot in lots
        ]
    if stated_contract:
        release["contracts"] = [_contract(stated_contract, notice)]
        _contract_parties(release, stated_contract)
    return _compact(release)


def _contract(stated: dict[str, Any], notice: dict[str, Any]) -> dict[str, Any]:
    """The `contracts` entry of a 合同公告 version, from what the notice stated (its `contract`)."""
    number = stated["number"]
    supplier = _reference(stated.get("supplier"))
    buyer = _reference(stated.get("purchaser"))
    milestones = [
        _compact(
            {
                "id": f"{number}-milestone-{m['number']}",
                "title": m["description"],
                "type": "delivery",
                "dueDate": _day_end(m["due_on"]),
                "dateMet": _when(m.get("delivered_at")),
                "status": "met"
                if m.get("delivered_at")
                else ("notMet" if m.get("late") else "scheduled"),
                "description": f"对应价款：{m['amount']} 元",
            }
        )
        for m in stated.get("milestones", [])
    ]
    transactions = [
        _compact(
            {
                "id": f"{number}-payment-{t['milestone']}",
                "date": _when(t.get("paid_at")),
                "value": _amount(t["amount"]),
                "payer": buyer,
                "payee": supplier,
            }
        )
        for t in stated.get("transactions", [])
    ]
    documents = [
        notice,
        *(
            _compact(
                {
                    "id": f"contract-document-{d['id']}",
                    "documentType": "contractSigned",
                    "title": d.get("title"),
                    "description": f"SHA-256: {d['sha256']}",
                    "datePublished": _when(d.get("uploaded_at")),
                    "language": "zh",
                }
            )
            for d in stated.get("documents", [])
        ),
    ]
    amendments = [
        _compact(
            {
                "id": f"{number}-v{v['number']}",
                "date": _when(v.get("effective_at")),
                "rationale": v.get("reason") or None,
                "description": f"SHA-256: {v['sha256']}",
            }
        )
        for v in stated.get("versions", [])
        if v["number"] > 1
    ]
    acceptance = stated.get("acceptance")
    return _compact(
        {
            "id": number,
            "awardID": stated["award_id"],
            "title": f"第{stated['lot']}标段{stated.get('lot_name') or ''}合同",
            "description": (
                f"履约验收：{acceptance['result']}（{acceptance['accepted_on']}）"
                if acceptance
                else None
            ),
            "status": CONTRACT_STATUS.get(stated.get("status", ""), "active"),
            "value": _amount(stated.get("price")),
            "dateSigned": _when(stated.get("signed_at")),
            "documents": documents,
            "amendments": amendments,
            "implementation": _compact({"milestones": milestones, "transactions": transactions}),
        }
    )


def _day_end(day: str) -> str:
    """The end of a due day (Beijing), as an RFC 3339 date-time."""
    moment = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), SHANGHAI)
    return moment.isoformat()


def _contract_parties(release: dict[str, Any], stated: dict[str, Any]) -> None:
    """The supplier joins the parties; a payment makes the buyer a payer and the supplier a payee."""
    paid = bool(stated.get("transactions"))
    parties = {party["id"]: party for party in release["parties"]}
    for key, roles in (
        ("supplier", ["supplier", *(["payee"] if paid else [])]),
        ("purchaser", ["buyer", *(["payer"] if paid else [])]),
    ):
        org = stated.get(key)
        if not org:
            continue
        party = parties.get(_party_id(org))
        if party is None:
            party = {
                "id": _party_id(org),
                "name": org["name"],
                "identifier": {
                    "scheme": ORG_ID_SCHEME,
                    "id": org["uscc"],
                    "legalName": org["name"],
                },
                "roles": [],
            }
            release["parties"].append(party)
            parties[party["id"]] = party
        party["roles"].extend(role for role in roles if role not in party["roles"])


def _choice_label(choices: Any, value: str | None) -> str | None:
    try:
        return str(choices(value).label)
    except ValueError:
        return None


def published_versions(project: Project) -> QuerySet[AnnouncementVersion]:
    return (
        AnnouncementVersion.objects.filter(announcement__project=project)
        .select_related("announcement")
        .order_by("published_at", "pk")
    )


def project_releases(project: Project) -> Iterator[dict[str, Any]]:
    """The project's releases, oldest first: one per published announcement version."""
    documents = _Documents(project)
    previous: str | None = None
    for version in published_versions(project):
        release = build_release(project, version, previous_release_id=previous, documents=documents)
        previous = release["id"]
        yield release


def published_projects() -> QuerySet[Project]:
    """Projects the public may see: every project that has ever been published (terminated included)."""
    return (
        Project.objects.filter(published_at__isnull=False)
        .select_related("owner", "agent")
        .order_by("published_at", "pk")
    )


def package_uri(project: Project | None = None) -> str:
    """Where the package can be fetched again: the project's endpoint, or the API's OCDS root for a
    full export (which is only produced by `manage.py export_ocds`)."""
    if project is None:
        return _site("/api/v1/ocds/")
    return _site(reverse("api_ocds_package", kwargs={"ocid": project.ocid}))


def _package_header(uri: str, published: dt.datetime | None) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": [LOTS_EXTENSION],
        # Generated on demand, so the date of the newest content in it (OCDS guidance), not "now":
        # the same data always gives the same package.
        "publishedDate": _when(published) or _when(dt.datetime.now(dt.UTC)),
        "publisher": {"name": settings.OCDS_PUBLISHER},
    }


def project_release_package(project: Project, request: HttpRequest | None = None) -> dict[str, Any]:
    """One project's release package. Amounts are Decimal: serialize with `dumps`.

    URLs, the package's `uri` included, are built on settings.SITE_URL rather than on the request's
    host, so the endpoint and `export_ocds --project` give the same package, whatever address or proxy
    the request came through.
    """
    releases = list(project_releases(project))
    newest = max((dt.datetime.fromisoformat(r["date"]) for r in releases), default=None)
    return {**_package_header(package_uri(project), newest), "releases": releases}


def iter_release_package(projects: QuerySet[Project], *, uri: str) -> Iterator[str]:
    """JSON text of ONE package holding every release of `projects`, written a release at a time so a
    full export never sits in memory."""
    newest = AnnouncementVersion.objects.filter(
        announcement__project__in=projects.values("pk")
    ).aggregate(newest=Max("published_at"))["newest"]
    header = dumps(_package_header(uri, newest))
    # The header is a complete object; reopen it to append the releases array.
    yield header[:-1] + ',"releases":['
    first = True
    for project in projects.iterator(chunk_size=200):
        for release in project_releases(project):
            yield ("" if first else ",\n") + dumps(release)
            first = False
    yield "]}\n"
