"""The supervision audit report of one project (监督审计报告), an A4 PDF in the house style (lib/pdf.py).

It states the project and its stages, the audit chain's head at export and its last verification, the
project's audit events counted by action, every alert and how it was handled, each auction phase's
result with the hash of the audit event that closed it, and the evidence package built with the report:
the SHA-256 of its manifest and of every file in it.

Every export builds a new evidence package, whose manifest names the time of the export; two packages of
an unchanged project therefore differ in `manifest.json` only, and the per-file SHA-256 sums printed here
let a reader match a package downloaded separately file by file.

Rendering reads committed rows outside any transaction (docs/architecture.md): the caller must not hold
a lock.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from audit.models import Alert
from audit.services import latest_checkpoint
from bidding.models import Auction
from lib.canonical import sha256_hex
from lib.pdf import (
    CONTENT_WIDTH,
    build_pdf,
    chinese,
    choice,
    facts_table,
    money,
    multiline,
    styles,
    table,
    text,
    verification_block,
)
from supervision import evidence
from supervision.workspace import beijing_ms, project_stages, stage_labels
from trading.models import Project

VERIFY_NOTE = (
    "核对方法：用本报告同时导出的证据包运行 python manage.py verify_evidence 证据包.zip "
    "--public-key 平台证据公钥，命令离线核验清单签名、每个文件的 SHA-256、审计事件哈希链、公告版本链、"
    "专家抽取与摇号的重算结果以及竞价时间线，任何改动都会使其失败；证据包 manifest.json 的 SHA-256 "
    "应与本页所印一致。另行下载的证据包仅 manifest.json（含导出时间）不同，其余文件的 SHA-256 "
    "在项目记录未变时与上表一致。审计链头哈希覆盖导出时链上的全部审计事件，可在平台服务器上以 "
    "python manage.py verify_audit 核验。"
)


def report_url(project: Project) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("supervision_project", args=[project.pk])


def _read_package(package: bytes) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """The manifest's SHA-256, the manifest and the audit events of the package just built."""
    archive = zipfile.ZipFile(io.BytesIO(package))
    raw = archive.read(evidence.MANIFEST)
    return sha256_hex(raw), json.loads(raw), json.loads(archive.read("audit.json"))


def render_report(project: Project) -> bytes:
    """The report's PDF bytes (builds the evidence package it names)."""
    project = Project.objects.select_related("owner", "agent").get(pk=project.pk)
    package = evidence.build(project)
    # The chain head and the events as the package holds them (read there in one snapshot), not read
    # again: events appended since would make the report disagree with the package it names.
    manifest_sha, manifest, events = _read_package(package)
    head = manifest.get("chain_head") or {"seq": 0, "hash": ""}
    checkpoint = latest_checkpoint()
    counts = Counter(event["action"] for event in events)
    by_action = [{"action": action, "n": counts[action]} for action in sorted(counts)]
    first_at = events[0]["at"] if events else None
    last_at = events[-1]["at"] if events else None
    alerts = list(
        Alert.objects.filter(project_id=project.pk)
        .select_related("handled_by")
        .order_by("raised_at", "pk")
    )
    auctions = list(
        Auction.objects.filter(lot__project=project).select_related("lot").order_by("lot__number")
    )
    _stage, lots = project_stages([project])[project.pk]

    with chinese():
        s = styles()
        labels = stage_labels()
        facts = [
            ("项目编号", text(project.number)),
            ("项目名称", text(project.title)),
            ("交易类型", text(choice(Project.Kind, project.kind))),
            ("交易方式", text(choice(Project.Method, project.method))),
            ("招标人/采购人", text(project.owner.name)),
            ("代理机构", text(project.agent.name)),
            ("项目状态", text(choice(Project.Status, project.status))),
            ("当前阶段", text(labels.get(_stage, _stage))),
            (
                "标段/包",
                "<br/>".join(
                    text(f"{lot.number}. {lot.name}：{labels.get(stage, stage)}")
                    for lot, stage in lots
                )
                or "—",
            ),
            ("报告生成时间", f"{beijing_ms(timezone.now())}（北京时间）"),
        ]
        chain = [
            ("导出时链头序号", str(head["seq"])),
            ("导出时链头哈希", f'<font size="7.5">{text(head["hash"])}</font>'),
            (
                "最近一次校验",
                (
                    f"{beijing_ms(checkpoint.verified_at)}（北京时间），序号 {checkpoint.seq}，"
                    + ("通过" if checkpoint.ok else f"未通过：{text(checkpoint.detail)}")
                )
                if checkpoint
                else "尚未经时钟校验",
            ),
            ("本项目审计事件", f"{sum(r['n'] for r in by_action)} 个"),
            (
                "事件时间范围",
                f"{beijing_ms(first_at)} 至 {beijing_ms(last_at)}（北京时间）" if first_at else "—",
            ),
        ]
        action_rows: list[list[Any]] = [[Paragraph(h, s["cell"]) for h in ("动作", "事件数")]]
        for row in by_action:
            action_rows.append(
                [Paragraph(text(row["action"]), s["cell"]), Paragraph(str(row["n"]), s["cell"])]
            )
        alert_rows: list[list[Any]] = [
            [
                Paragraph(h, s["cell"])
                for h in ("类型", "摘要", "发生时间", "处理人与时间", "处理意见")
            ]
        ]
        for alert in alerts:
            handled = (
                f"{text(alert.handled_by.username if alert.handled_by else '')}<br/>"
                f"{beijing_ms(alert.handled_at)[:19]}"
                if alert.handled_at
                else "未处理"
            )
            alert_rows.append(
                [
                    Paragraph(text(choice(Alert.Kind, alert.kind)), s["cell"]),
                    Paragraph(text(alert.summary), s["cell"]),
                    Paragraph(beijing_ms(alert.raised_at)[:19], s["cell"]),
                    Paragraph(handled, s["cell"]),
                    Paragraph(multiline(alert.note) or "—", s["cell"]),
                ]
            )
        story: list[Any] = [
            Paragraph("监督审计报告", s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 5 * mm),
            Paragraph("一、项目", s["heading"]),
            facts_table(facts, s, label_width=30 * mm),
            Paragraph("二、审计链", s["heading"]),
            facts_table(chain, s, label_width=30 * mm),
            Paragraph("三、本项目审计事件（按动作统计）", s["heading"]),
            table(action_rows, [CONTENT_WIDTH - 30 * mm, 30 * mm])
            if by_action
            else Paragraph("无。", s["body"]),
            Paragraph(f"四、预警及处理（共 {len(alerts)} 条）", s["heading"]),
            table(alert_rows, [30 * mm, 50 * mm, 28 * mm, 30 * mm, CONTENT_WIDTH - 138 * mm])
            if alerts
            else Paragraph("无预警。", s["body"]),
            Paragraph("五、网上竞价结果", s["heading"]),
        ]
        if not auctions:
            story.append(Paragraph("本项目无网上竞价。", s["body"]))
        for auction in auctions:
            unit = "平方米" if auction.unit == Auction.Unit.SQUARE_METRE else "元"
            story.append(
                Paragraph(
                    text(
                        f"{auction.lot.number}. {auction.lot.name} · "
                        f"{choice(Auction.Phase, auction.phase)} · "
                        f"{choice(Auction.Status, auction.status)}"
                    ),
                    s["body"],
                )
            )
            rows: list[list[Any]] = [
                [Paragraph(h, s["cell"]) for h in ("名次", "竞价代号", "竞价人", f"报价（{unit}）")]
            ]
            for r in auction.results or []:
                rows.append(
                    [
                        Paragraph(str(r["rank"]), s["cell"]),
                        Paragraph(text(r["alias"]), s["cell"]),
                        Paragraph(text(r.get("bidder", "")), s["cell"]),
                        Paragraph(money(r["price"]), s["cell"]),
                    ]
                )
            if len(rows) > 1:
                story.append(table(rows, [16 * mm, 26 * mm, CONTENT_WIDTH - 82 * mm, 40 * mm]))
            elif auction.failure_reason:
                story.append(Paragraph(text(auction.failure_reason), s["small"]))
            story.append(
                facts_table(
                    [
                        (
                            "报价统计",
                            f"有效 {auction.accepted_count} 次；被拒绝 {auction.rejected_count} 次",
                        ),
                        ("结束审计事件序号", str(auction.closing_audit_seq or "—")),
                        (
                            "结束审计事件哈希",
                            f'<font size="7.5">{text(auction.closing_audit_hash or "—")}</font>',
                        ),
                    ],
                    s,
                    label_width=30 * mm,
                )
            )
            story.append(Spacer(1, 3 * mm))
        file_rows: list[list[Any]] = [[Paragraph(h, s["cell"]) for h in ("文件", "SHA-256")]]
        for name, digest in manifest["files"].items():
            file_rows.append([Paragraph(text(name), s["cell"]), Paragraph(digest, s["hash"])])
        story += [
            Paragraph("六、证据包", s["heading"]),
            facts_table(
                [
                    ("格式", text(manifest["format"])),
                    ("导出时间", f"{beijing_ms(manifest['exported_at'])}（北京时间）"),
                    ("证据包链头序号", str((manifest.get("chain_head") or {}).get("seq", "—"))),
                    ("平台证据公钥", f'<font size="7.5">{text(evidence.public_key_hex())}</font>'),
                    ("保存期限", f"{manifest.get('retention_years', '—')} 年"),
                ],
                s,
                label_width=30 * mm,
            ),
            Spacer(1, 2 * mm),
            table(file_rows, [34 * mm, CONTENT_WIDTH - 34 * mm]),
            verification_block(
                [
                    ("证据包 manifest.json 的 SHA-256", manifest_sha),
                    ("导出时审计链头哈希", head["hash"] or "—"),
                ],
                url=report_url(project),
                url_label="项目监督页（登录后）",
                note=VERIFY_NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"监督审计报告 {project.number}",
            subject=manifest_sha,
            footer=f"{project.number} · 监督审计报告 · 证据包清单 {manifest_sha[:16]}",
        )
