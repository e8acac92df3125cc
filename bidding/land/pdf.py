"""Documents of the land listing as A4 PDFs: the 竞买资格确认书 (a bidder's confirmation that it may
bid) and the 成交确认书 (the deal).

Each prints the SHA-256 of its own content — the canonical JSON (keys sorted, no whitespace, UTF-8) of
`qualification_content` / `confirmation_content` — so anyone holding the document and the platform's
data can recompute it. The 成交确认书 also prints the audit-chain hash of the event that closed the last
bidding phase (listing, live bidding or housing-area bidding): that hash covers every bid before it.

Who may read them:
- the 竞买资格确认书: the bidder itself, registered for the parcel and with its deposit qualified (in full,
  in time, held) — `readable_qualification`;
- the 成交确认书: the winner, center staff, supervisors and the project's agent, once the listing ended in
  a deal — `readable_confirmation`.
Official documents are in Chinese for every reader (lib.pdf.chinese); rendering reads committed rows
outside any transaction (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from accounts.actors import Actor
from accounts.models import Organization, Role
from accounts.permissions import has_perm
from bidding.models import Auction, LandListing
from deposits.services import qualification
from lib.canonical import canonical_sha256
from lib.errors import Conflict, NotFound
from lib.pdf import (
    CONTENT_WIDTH,
    SHANGHAI,
    beijing_seconds,
    build_pdf,
    chinese,
    choice,
    facts_table,
    money,
    styles,
    table,
    text,
    verification_block,
)
from trading.models import Registration

QUALIFICATION_NOTE = (
    "确认书哈希为本确认书内容（项目、宗地、竞买人、报名时间、计入的保证金及其到账时间、挂牌时间）按规范化 "
    "JSON（键名排序、无空白、UTF-8）计算的 SHA-256。扫描二维码可查看挂牌出让页面。"
)
CONFIRMATION_NOTE = (
    "确认书哈希为本确认书内容按规范化 JSON 计算的 SHA-256。竞价结束审计事件的哈希覆盖此前的全部审计事件，"
    "包括每一次报价（无论接受或拒绝）；监督人员可在平台服务器上运行 python manage.py verify_audit "
    "校验审计链，并通过审计接口核对上列序号事件的哈希。"
)
DEPOSIT_RULE = (
    "竞得人缴纳的竞买保证金转作受让地块的定金，签订《国有建设用地使用权出让合同》后抵作土地出让价款；"
    "其他竞买人的竞买保证金在挂牌活动结束后 5 个工作日内退还，不计利息（《招标拍卖挂牌出让国有建设用地"
    "使用权规定》第二十条、第二十二条）。竞得人拒绝签署成交确认书或不按规定签订出让合同的，竞买保证金不予"
    "退还，并依法限制其参与交易。"
)
BASIS = {
    "listing": "挂牌期截止时的最高有效报价",
    "live": "挂牌期截止后限时竞价的最高有效报价",
    "lottery": "达到最高限价后，在接受最高限价的竞买人中摇号确定",
    "housing": "达到最高限价后，竞配建保障性住房面积最大者",
    "offers": "达到最高限价后，一次性报价最接近全部报价平均价者",
}


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _iso(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment, SHANGHAI).isoformat() if moment else ""


def _when(value: str) -> str:
    return f"{beijing_seconds(dt.datetime.fromisoformat(value))}（北京时间）" if value else "—"


def listing_url(listing: LandListing) -> str:
    return _site(reverse("land_listing", args=[listing.pk]))


def sha256(content: dict[str, Any]) -> str:
    return canonical_sha256(content)


def _parcel(listing: LandListing) -> dict[str, Any]:
    return {
        "number": listing.parcel_number,
        "location": listing.location,
        "area": str(listing.area),
        "use": listing.land_use,
        "term_years": str(listing.term_years),
    }


def _project(listing: LandListing) -> dict[str, str]:
    project = listing.lot.project
    return {"number": project.number, "title": project.title}


def _parcel_facts(content: dict[str, Any]) -> list[tuple[str, str]]:
    parcel = content["parcel"]
    return [
        ("项目编号", text(content["project"]["number"])),
        ("项目名称", text(content["project"]["title"])),
        ("宗地编号", text(parcel["number"])),
        ("土地位置", text(parcel["location"])),
        ("出让面积", f"{money(parcel['area'])} 平方米"),
        ("土地用途", text(choice(LandListing.Use, parcel["use"]))),
        ("出让年限", f"{text(parcel['term_years'])} 年"),
    ]


# --- 竞买资格确认书 -----------------------------------------------------------------------------------


def readable_qualification(actor: Actor, listing: LandListing) -> Organization:
    """The organization whose 竞买资格确认书 `actor` may print: 404 unless it is a registered bidder of
    the parcel, 409 until its deposit qualifies."""
    org = actor.organization if actor.role == Role.SUPPLIER else None
    if (
        org is None
        or not Registration.objects.filter(lot_id=listing.lot_id, organization=org).exists()
    ):
        raise NotFound(_("您未报名该宗地。"))
    if not qualification(listing.lot, org).qualified:
        raise Conflict(_("保证金尚未足额按时到账，不能出具竞买资格确认书。"), code="NOT_QUALIFIED")
    return org


def qualification_content(listing: LandListing, organization: Organization) -> dict[str, Any]:
    """What the 竞买资格确认书 states (strings only): nothing in it changes once the deposit qualified."""
    lot = listing.lot
    project = lot.project
    registration = Registration.objects.get(lot=lot, organization=organization)
    counted = qualification(lot, organization)
    return {
        "document": "land_qualification",
        "project": _project(listing),
        "parcel": _parcel(listing),
        "bidder": {"name": organization.name, "uscc": organization.uscc},
        "registered_at": _iso(registration.registered_at),
        "deposit": {
            "required": str(counted.required_cny),
            "counted": str(counted.counted_cny),
            "deadline": _iso(project.deposit_deadline or project.bid_deadline),
            "received": [
                {
                    "amount": str(d.amount),
                    "currency": d.currency,
                    "amount_cny": str(d.amount_cny),
                    "arrived_at": _iso(d.arrived_at),
                }
                for d in sorted(counted.deposits, key=lambda d: (d.arrived_at, d.pk))
            ],
        },
        "listing": {
            "starts_at": _iso(listing.listing_starts_at),
            "ends_at": _iso(listing.listing_ends_at),
        },
        "url": listing_url(listing),
    }


def render_qualification(listing: LandListing, organization: Organization) -> bytes:
    content = qualification_content(listing, organization)
    digest = sha256(content)
    deposit = content["deposit"]
    with chinese():
        s = styles()
        rows: list[list[Any]] = [
            [
                Paragraph(h, s["cell"])
                for h in ("金额", "币种", "折合人民币（元）", "到账时间（北京时间）")
            ]
        ]
        for item in deposit["received"]:
            rows.append(
                [
                    Paragraph(money(item["amount"]), s["cell"]),
                    Paragraph(text(item["currency"]), s["cell"]),
                    Paragraph(money(item["amount_cny"]), s["cell"]),
                    Paragraph(_when(item["arrived_at"]), s["cell"]),
                ]
            )
        facts = [
            *_parcel_facts(content),
            (
                "竞买人",
                f"{text(content['bidder']['name'])}<br/>"
                f"统一社会信用代码：{text(content['bidder']['uscc'])}",
            ),
            ("报名时间", _when(content["registered_at"])),
            ("应缴竞买保证金", f"{money(deposit['required'])} 元"),
            ("已到账并计入", f"{money(deposit['counted'])} 元（按到账时汇率折合人民币）"),
            ("保证金到账截止", _when(deposit["deadline"])),
            ("挂牌开始", _when(content["listing"]["starts_at"])),
            ("挂牌截止", _when(content["listing"]["ends_at"])),
        ]
        story: list[Any] = [
            Paragraph("竞买资格确认书", s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 6 * mm),
            Paragraph(f"{text(content['bidder']['name'])}：", s["body"]),
            Paragraph(
                f"贵单位已报名参加宗地编号 {text(content['parcel']['number'])}"
                f"（{text(content['parcel']['location'])}）国有建设用地使用权挂牌出让，"
                "竞买保证金已足额按时到账，经审核具备竞买资格。"
                "请在挂牌期内登录平台进入竞价室报价；挂牌截止时有两家以上竞买人报价的，"
                "须在规定时限内确认是否参加限时竞价。",
                s["body"],
            ),
            Spacer(1, 3 * mm),
            facts_table(facts, s),
            Paragraph("已到账的竞买保证金", s["heading"]),
            table(rows, [40 * mm, 18 * mm, 44 * mm, CONTENT_WIDTH - 102 * mm]),
            verification_block(
                [("确认书内容哈希（SHA-256）", digest)],
                url=content["url"],
                url_label="挂牌出让页面",
                note=QUALIFICATION_NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"竞买资格确认书 {content['parcel']['number']}",
            subject=digest,
            footer=f"{content['project']['number']} · 竞买资格确认书 {digest[:16]}",
        )


# --- 成交确认书 --------------------------------------------------------------------------------------


def may_read_confirmation(actor: Actor, listing: LandListing) -> bool:
    """The winner, center staff, supervisors and the project's agent."""
    user = actor.user
    if user is None or not user.is_authenticated:
        return False
    if actor.role in (Role.SUPERVISOR, Role.CENTER_STAFF):
        return True
    if has_perm(user, "trading.manage_project", listing.lot.project):
        return True
    return (
        actor.role == Role.SUPPLIER
        and actor.organization is not None
        and actor.organization.pk == listing.winner_id
    )


def readable_confirmation(actor: Actor, listing: LandListing) -> LandListing:
    """404 for anyone but the winner and the officials; 409 unless the listing ended in a deal."""
    if not may_read_confirmation(actor, listing):
        raise NotFound(_("挂牌项目不存在或无权查看。"))
    if listing.stage != LandListing.Stage.DEAL:
        raise Conflict(_("尚未成交，没有成交确认书。"), code="NO_DEAL")
    return listing


def basis_of(listing: LandListing) -> str:
    """How the winner was found: at the cap, the listing's mode; else live bidding if it ran, else the
    listing's highest (the same bases `services._deal_or_not` records)."""
    if listing.capper_id:
        return {"lottery": "lottery", "housing": "housing", "sealed_offer": "offers"}.get(
            listing.cap_mode, "listing"
        )
    if Auction.objects.filter(lot_id=listing.lot_id, phase=Auction.Phase.LIVE).exists():
        return "live"
    return "listing"


def last_closing(listing: LandListing) -> Auction | None:
    """The last bidding phase that closed, with the audit event that closed it."""
    return (
        Auction.objects.filter(lot_id=listing.lot_id, closing_audit_seq__isnull=False)
        .order_by("-closing_audit_seq")
        .first()
    )


def confirmation_content(listing: LandListing) -> dict[str, Any]:
    project = listing.lot.project
    winner = listing.winner
    closing = last_closing(listing)
    return {
        "document": "land_deal_confirmation",
        "project": _project(listing),
        "parcel": _parcel(listing),
        "grantor": {"name": project.owner.name, "uscc": project.owner.uscc},
        "winner": {"name": winner.name if winner else "", "uscc": winner.uscc if winner else ""},
        "price": str(listing.final_price) if listing.final_price is not None else "",
        "housing_area": str(listing.housing_area) if listing.housing_area else "",
        "decided_at": _iso(listing.decided_at),
        "basis": basis_of(listing),
        "closing_audit": (
            {
                "auction": closing.pk,
                "phase": closing.phase,
                "seq": str(closing.closing_audit_seq),
                "hash": closing.closing_audit_hash,
            }
            if closing
            else None
        ),
        "signed_at": _iso(listing.confirmation_signed_at),
        "url": listing_url(listing),
    }


def render_confirmation(listing: LandListing) -> bytes:
    listing = LandListing.objects.select_related("lot__project__owner", "winner").get(pk=listing.pk)
    content = confirmation_content(listing)
    digest = sha256(content)
    closing = content["closing_audit"]
    with chinese():
        s = styles()
        facts = [
            *_parcel_facts(content),
            (
                "竞得人",
                f"{text(content['winner']['name'])}<br/>"
                f"统一社会信用代码：{text(content['winner']['uscc'])}",
            ),
            ("成交价", f"人民币 {money(content['price'])} 元"),
        ]
        if content["housing_area"]:
            facts.append(("竞配建保障性住房面积", f"{money(content['housing_area'])} 平方米"))
        facts += [
            ("成交依据", text(BASIS.get(content["basis"], content["basis"]))),
            ("结果产生时间", _when(content["decided_at"])),
            (
                "竞得人签署",
                _when(content["signed_at"]) if content["signed_at"] else "尚未签署",
            ),
        ]
        if closing:
            facts.append(
                (
                    "最后竞价阶段",
                    text(choice(Auction.Phase, closing["phase"]))
                    + f"（竞价编号 {closing['auction']}）",
                )
            )
        area = (
            f"，并竞配建保障性住房 {money(content['housing_area'])} 平方米"
            if content["housing_area"]
            else ""
        )
        hashes = [("确认书内容哈希（SHA-256）", digest)]
        if closing:
            hashes += [
                ("竞价结束审计事件序号", closing["seq"]),
                ("该事件的审计链哈希（SHA-256）", closing["hash"]),
            ]
        story: list[Any] = [
            Paragraph("成交确认书", s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 6 * mm),
            Paragraph(
                f"出让人：{text(content['grantor']['name'])}　　"
                f"竞得人：{text(content['winner']['name'])}",
                s["body"],
            ),
            Paragraph(
                f"经网上挂牌出让，{text(content['winner']['name'])}"
                f"竞得宗地编号 {text(content['parcel']['number'])}"
                f"（{text(content['parcel']['location'])}）国有建设用地使用权，"
                f"成交价人民币 {money(content['price'])} 元{area}。",
                s["body"],
            ),
            Spacer(1, 3 * mm),
            facts_table(facts, s),
            Paragraph("保证金处理", s["heading"]),
            Paragraph(DEPOSIT_RULE, s["body"]),
            Paragraph(
                "竞得人应按出让公告和本确认书约定的时间与出让人签订《国有建设用地使用权出让合同》。",
                s["body"],
            ),
            verification_block(
                hashes,
                url=content["url"],
                url_label="挂牌出让页面",
                note=CONFIRMATION_NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"成交确认书 {content['parcel']['number']}",
            subject=digest,
            footer=f"{content['project']['number']} · 成交确认书 {digest[:16]}",
        )
