"""The live auction's result as an A4 PDF (网上竞价结果), printed once the auction is finished.

It states the rules, who took part (aliases and, revealed at the close, identities), the ranking, the
whole room timeline — every `AuctionEvent` in sequence order with the server's Beijing time to the
millisecond — the counts of accepted and refused bids, and the audit-chain hash of the event that closed
the auction. That hash covers every audit event before it, every bid (accepted or refused) included, so
anyone can check the document against the chain (`python manage.py verify_audit`).

Who may read it: supervisors, center staff, the project's agent and the auction's participants
(`may_read`). Rendering reads committed rows outside any transaction (docs/architecture.md).
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
from accounts.models import Role
from accounts.permissions import has_perm
from bidding.auction import services
from bidding.models import Auction, AuctionEvent, AuctionParticipant
from lib.errors import Conflict, NotFound
from lib.pdf import (
    CONTENT_WIDTH,
    SHANGHAI,
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

VERIFY_NOTE = (
    "竞价结束时，平台在同一数据库事务中写入“竞价结束”审计事件；审计链中每个事件的哈希都包含前一事件的"
    "哈希，因此上列哈希覆盖此前的全部审计事件，包括本场竞价的每一次报价（无论接受或拒绝）。"
    "核对方法：在平台服务器上运行 python manage.py verify_audit 重新计算整条审计链，确认链完好；"
    "再由监督人员通过审计接口（/api/v1/audit/events/）查看上列序号的事件，其哈希应与本页所印一致。"
    "任何报价记录被改动、删除或插入，都会使链校验失败或哈希不一致。"
)

KIND_LABELS = {
    "started": "竞价开始",
    "bid": "有效报价",
    "extended": "延时",
    "round": "新一轮",
    "closed": "竞价结束",
}


# --- Who may read it ------------------------------------------------------------------------------


def may_read(actor: Actor, auction: Auction) -> bool:
    """Supervisors, center staff, the project's agent, and organizations with a seat in the auction."""
    user = actor.user
    if user is None or not user.is_authenticated:
        return False
    if actor.role in (Role.SUPERVISOR, Role.CENTER_STAFF):
        return True
    if has_perm(user, "trading.manage_project", auction.lot.project):
        return True
    return (
        actor.role == Role.SUPPLIER
        and actor.organization is not None
        and AuctionParticipant.objects.filter(
            auction=auction, organization=actor.organization
        ).exists()
    )


def readable_result(actor: Actor, auction: Auction) -> Auction:
    """The auction whose result `actor` may print: 404 for anyone else, 409 before it is finished."""
    if not may_read(actor, auction):
        raise NotFound(_("竞价不存在或无权查看。"))
    if not auction.finished:
        raise Conflict(_("竞价尚未结束，结果文件在结束后生成。"), code="NOT_FINISHED")
    return auction


def result_url(auction: Auction) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("auction_result_pdf", args=[auction.pk])


# --- Formatting -----------------------------------------------------------------------------------


def beijing_ms(value: str | dt.datetime | None) -> str:
    """Beijing server time to the millisecond: 2026-04-11 10:00:01.234."""
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    local = timezone.localtime(moment, SHANGHAI)
    return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def _seconds(value: int | None) -> str:
    if value is None:
        return "—"
    minutes, seconds = divmod(value, 60)
    if minutes and seconds:
        return f"{value} 秒（{minutes} 分 {seconds} 秒）"
    return f"{value} 秒（{minutes} 分钟）" if minutes else f"{value} 秒"


def _who(alias: str, names: dict[str, str]) -> str:
    name = names.get(alias, "")
    return f"{text(alias)}（{text(name)}）" if name else text(alias)


def _event_text(event: dict[str, Any], names: dict[str, str]) -> str:
    """One timeline row's description (paragraph markup), identities included: printed after the close."""
    kind = event.get("type")
    if kind == "started":
        seats = "；".join(
            f"{_who(p['alias'], names)}"
            + (f" 首次报价 {money(p['price'])}" if p.get("price") else "")
            for p in event.get("participants", [])
        )
        return f"竞价开始，{len(event.get('participants', []))} 家竞价人：{seats}。" + (
            f"结束时间 {beijing_ms(event['ends_at'])}。" if event.get("ends_at") else ""
        )
    if kind == "bid":
        alias = event.get("alias") or ""
        name = (event.get("organization") or {}).get("name") or names.get(alias, "")
        return (
            f"{_who(alias, {alias: name})}报价 {money(event.get('price'))} 元"
            f"；当前结束时间 {beijing_ms(event.get('ends_at'))}"
        )
    if kind == "extended":
        return (
            f"第 {event.get('extensions_used')} 次延时（由序号 {event.get('trigger_seq')} 的报价触发），"
            f"结束时间延至 {beijing_ms(event.get('ends_at'))}"
        )
    if kind == "round":
        order = "、".join(text(t["alias"]) for t in event.get("turns", []))
        return f"第 {event.get('round')} 轮开始，报价顺序：{order or '—'}"
    if kind == "closed":
        status = choice(Auction.Status, event.get("status"))
        reason = f"，原因：{text(event['reason'])}" if event.get("reason") else ""
        first = (event.get("results") or [{}])[0]
        alias = first.get("alias") or ""
        best = (
            f"；第一名 {_who(alias, {alias: first.get('bidder') or ''})} "
            f"{money(first.get('price'))} 元"
            if first
            else ""
        )
        return f"{text(status)}{reason}{best}"
    return text(kind)


# --- The document ---------------------------------------------------------------------------------


def _scheduled_end(auction: Auction, events: list[dict[str, Any]]) -> str | dt.datetime:
    """The end the rules fixed before any extension: the start's `ends_at` (rounds: set at the start
    from the number of bidders), or start + duration."""
    for event in events:
        if event.get("type") == "started" and event.get("ends_at"):
            return event["ends_at"]
    return auction.starts_at + dt.timedelta(seconds=auction.duration_seconds)


def render_result(auction: Auction, *, identified: bool = True) -> bytes:
    """The result document. `identified`: with the bidders' names and credit codes — for a procurement
    auction, everyone who may read it once it closed; for a land phase (whose aliases stand until the
    listing's result, and whose losers are never named), supervisors only (`services.identified`)."""
    auction = Auction.objects.select_related("lot__project").get(pk=auction.pk)
    lot = auction.lot
    project = lot.project
    events = list(
        AuctionEvent.objects.filter(auction=auction).order_by("seq").values_list("data", flat=True)
    )
    seats = list(
        AuctionParticipant.objects.filter(auction=auction)
        .select_related("organization")
        .order_by("alias", "pk")
    )
    names = {s.alias: s.organization.name for s in seats if s.alias} if identified else {}
    results = auction.results or []
    if not identified:
        results = services.anonymous_results(results)
        events = [services.anonymize(event) for event in events]
    hidden = "（不公开）"
    with chinese():
        s = styles()
        cap = "不限次数" if auction.max_extensions is None else f"最多 {auction.max_extensions} 次"
        if auction.format == Auction.Format.OPEN:
            extension = (
                f"结束前 {auction.extension_window_seconds} 秒内出现有效报价的，结束时间延至该报价时刻后 "
                f"{auction.extension_seconds} 秒；{cap}"
                if auction.extension_seconds
                else "不延时"
            )
        else:
            extension = (
                f"共 {auction.rounds} 轮；每轮休息 {_seconds(auction.pause_seconds)}，"
                f"每位竞价人每轮报价 {_seconds(auction.turn_seconds)}，报价差者先报、领先者最后报"
            )
        facts = [
            ("项目编号", text(project.number)),
            ("项目名称", text(project.title)),
            ("标段/包", text(f"{lot.number}. {lot.name}")),
            (
                "竞价方式",
                text(
                    f"{choice(Auction.Format, auction.format)}，"
                    f"{choice(Auction.Direction, auction.direction)}"
                ),
            ),
            ("起始价（元）", money(auction.start_price)),
            ("竞价幅度（元）", money(auction.step)),
            (
                "单次最大变动（元）",
                money(auction.max_change) if auction.max_change is not None else "不限",
            ),
            ("最少竞价人数", f"{auction.min_participants} 家"),
            ("计划开始时间", f"{beijing_ms(auction.starts_at)}（北京时间）"),
            (
                "竞价时长",
                _seconds(auction.duration_seconds)
                if auction.format == Auction.Format.OPEN
                else "按轮次与竞价人数计算",
            ),
            ("计划结束时间", f"{beijing_ms(_scheduled_end(auction, events))}（北京时间）"),
            ("实际开始时间", f"{beijing_ms(auction.started_at)}（北京时间）"),
            ("最终结束时间", f"{beijing_ms(auction.ends_at)}（北京时间）"),
            ("关闭时间", f"{beijing_ms(auction.closed_at)}（北京时间）"),
            ("延时规则" if auction.format == Auction.Format.OPEN else "轮次规则", text(extension)),
            ("已用延时次数", f"{auction.extensions_used} 次"),
            ("结果", text(choice(Auction.Status, auction.status))),
            (
                "报价统计",
                f"有效（被接受）报价 {auction.accepted_count} 次；被拒绝报价 "
                f"{auction.rejected_count} 次",
            ),
        ]
        if auction.failure_reason:
            facts.append(("失败原因", text(auction.failure_reason)))

        participant_rows: list[list[Any]] = [
            [
                Paragraph(h, s["cell"])
                for h in ("竞价代号", "竞价人", "统一社会信用代码", "准入时间")
            ]
        ]
        for seat in seats:
            participant_rows.append(
                [
                    Paragraph(text(seat.alias or "未准入"), s["cell"]),
                    Paragraph(text(seat.organization.name) if identified else hidden, s["cell"]),
                    Paragraph(text(seat.organization.uscc) if identified else hidden, s["cell"]),
                    Paragraph(beijing_ms(seat.admitted_at), s["cell"]),
                ]
            )
        ranking_rows: list[list[Any]] = [
            [
                Paragraph(h, s["cell"])
                for h in ("名次", "竞价代号", "竞价人", "最终报价（元）", "报价时间（北京时间）")
            ]
        ]
        for row in results:
            ranking_rows.append(
                [
                    Paragraph(str(row["rank"]), s["cell"]),
                    Paragraph(text(row["alias"]), s["cell"]),
                    Paragraph(text(row.get("bidder", hidden)), s["cell"]),
                    Paragraph(money(row["price"]), s["cell"]),
                    Paragraph(beijing_ms(row.get("at")), s["cell"]),
                ]
            )
        timeline_rows: list[list[Any]] = [
            [Paragraph(h, s["cell"]) for h in ("序号", "服务器时间（北京时间）", "事件", "内容")]
        ]
        for event in events:
            timeline_rows.append(
                [
                    Paragraph(str(event.get("seq")), s["cell"]),
                    Paragraph(beijing_ms(event.get("at")), s["cell"]),
                    Paragraph(
                        KIND_LABELS.get(event.get("type"), text(event.get("type"))), s["cell"]
                    ),
                    Paragraph(_event_text(event, names), s["cell"]),
                ]
            )

        story: list[Any] = [
            Paragraph("网上竞价结果", s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 5 * mm),
            Paragraph("一、竞价规则与时间", s["heading"]),
            facts_table(facts, s, label_width=36 * mm),
            Paragraph(
                "二、竞价人（竞价结束后公开身份）" if identified else "二、竞价人（身份不公开）",
                s["heading"],
            ),
            table(participant_rows, [22 * mm, 62 * mm, 40 * mm, CONTENT_WIDTH - 124 * mm])
            if seats
            else Paragraph("无。", s["body"]),
            Paragraph("三、竞价排名", s["heading"]),
            table(
                ranking_rows,
                [14 * mm, 22 * mm, 62 * mm, 34 * mm, CONTENT_WIDTH - 132 * mm],
            )
            if results
            else Paragraph("无有效报价，无排名。", s["body"]),
            Paragraph(
                "排名规则：按最终报价排序（反向竞价价低者优先），报价相同的，先达到该报价者优先。",
                s["small"],
            ),
            Paragraph(f"四、竞价过程记录（共 {len(events)} 个事件，按序号排列）", s["heading"]),
            table(timeline_rows, [14 * mm, 40 * mm, 20 * mm, CONTENT_WIDTH - 74 * mm]),
            Paragraph(
                "时间均为平台服务器时间（北京时间，精确到毫秒）；每一次报价均以服务器收到并判定的时间为准。"
                f"被拒绝的报价（{auction.rejected_count} 次）不进入竞价过程记录，但每一次均写入审计链。",
                s["small"],
            ),
        ]
        hashes = []
        if auction.closing_audit_seq:
            hashes = [
                ("竞价结束审计事件序号", str(auction.closing_audit_seq)),
                ("该事件的审计链哈希（SHA-256）", auction.closing_audit_hash),
            ]
        story.append(
            verification_block(
                hashes or [("审计链哈希", "—")],
                url=result_url(auction),
                url_label="本结果文件地址（登录后）",
                note=VERIFY_NOTE,
                s=s,
            )
        )
        digest = auction.closing_audit_hash
        return build_pdf(
            story,
            title=f"网上竞价结果 {project.number}-{lot.number}",
            subject=digest,
            footer=f"{project.number} · 网上竞价结果 · 审计 {auction.closing_audit_seq or '—'} "
            f"{digest[:16]}",
        )
