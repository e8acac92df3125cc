"""Bidding documents as A4 PDFs: the bid receipt (投标文件递交回执), the opening record (开标记录), the
evaluation report (评标报告) and the award notice (中标通知书).

Each one prints the hash that makes it checkable:
- the receipt prints the receipt SHA-256, the SHA-256 of the canonical JSON of `receipt_document(bid)`
  (lot, organization, server time of submission, ciphertext hashes) — exactly what
  `bidding.services.submit_bid` hashed, so anyone holding the receipt can recompute it. It never states a
  price: before the opening nobody, the platform included, can read one;
- the opening record prints `Opening.record_sha256`, the hash of the published record's canonical JSON;
- the evaluation report prints `Evaluation.report_sha256`, the hash of the report's canonical JSON that
  every member signs (and each member's electronic signature over it, where one was made);
- the award notice prints the SHA-256 of its own content (`award_content`).

Official documents are in Chinese for every reader (lib.pdf.chinese). Rendering reads committed rows and
draws outside any transaction (docs/architecture.md): views call these after the services committed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

# Re-exported: the award notice's content and hash are read as bidding.pdf's too.
from bidding.award_notice import award_content as award_content
from bidding.award_notice import award_sha256 as award_sha256
from bidding.evaluation import MAX_CANDIDATES
from bidding.models import Auction, Bid, Evaluation, EvaluationMember, Opening, Publicity, Score
from lib.canonical import canonical_sha256, canonical_value
from lib.pdf import (
    CONTENT_WIDTH,
    SHANGHAI,
    beijing_seconds,
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
from signing.models import SignedAct

RECEIPT_NOTE = (
    "回执哈希为下列内容按规范化 JSON（键名排序、无空白、UTF-8）计算的 SHA-256："
    "标段编号 lot、投标人编号 organization、服务器递交时间 submitted_at（UTC）、"
    "报价密文哈希 price、投标文件密文哈希 files。报价与文件在开标前仅以密文保存，本回执不含报价。"
)
RECORD_NOTE = (
    "开标记录哈希为开标记录按规范化 JSON 计算的 SHA-256，与平台公布的开标记录逐字节一致；"
    "扫描二维码可查看并核对。"
)
REPORT_NOTE = (
    "评标报告哈希为评标报告（评标办法、否决的投标及理由、中标候选人排序、评标委员会成员）按规范化 JSON"
    "计算的 SHA-256，即各成员签署的内容；各成员的电子签名可凭签名记录地址核验。"
    "本报告仅供招标代理机构、交易中心、监督部门和评标委员会成员查阅，不得公开。"
)
AWARD_NOTE = "通知书内容按规范化 JSON 计算 SHA-256；扫描二维码可查看本标段的中标结果。"


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _iso(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment, SHANGHAI).isoformat() if moment else ""


# --- The receipt ----------------------------------------------------------------------------------


def receipt_document(bid: Bid) -> dict[str, Any]:
    """What the receipt hash covers, exactly as `submit_bid` hashed it."""
    return canonical_value(
        {
            "lot": bid.lot_id,
            "organization": bid.organization_id,
            "submitted_at": bid.submitted_at,
            "price": bid.sealed_sha256,
            "files": [f.sha256 for f in sorted(bid.files.all(), key=lambda f: f.pk)],
        }
    )


def receipt_sha256(bid: Bid) -> str:
    return canonical_sha256(receipt_document(bid))


def receipt_url(bid: Bid) -> str:
    return _site(reverse("bid_receipt", args=[bid.lot_id]))


def render_receipt(bid: Bid) -> bytes:
    lot = bid.lot
    project = lot.project
    org = bid.organization
    with chinese():
        s = styles()
        facts = [
            ("项目编号", text(project.number)),
            ("项目名称", text(project.title)),
            ("标段/包", text(f"{lot.number}. {lot.name}")),
            ("投标人", f"{text(org.name)}<br/>统一社会信用代码：{text(org.uscc)}"),
            ("递交次数", f"第 {bid.version} 次递交（以最后一次递交为准）"),
            ("服务器递交时间", f"{beijing_seconds(bid.submitted_at)}（北京时间）"),
            ("投标截止时间", f"{beijing_seconds(project.bid_deadline)}（北京时间）"),
            ("状态", text(choice(Bid.Status, bid.status))),
        ]
        if bid.withdrawn_at:
            facts.append(("撤回时间", f"{beijing_seconds(bid.withdrawn_at)}（北京时间）"))
        rows: list[list[Any]] = [
            [Paragraph("内容", s["cell"]), Paragraph("密文 SHA-256", s["cell"])],
            [
                Paragraph("投标报价（密文）", s["cell"]),
                Paragraph(text(bid.sealed_sha256), s["hash"]),
            ],
        ]
        for index, sealed in enumerate(sorted(bid.files.all(), key=lambda f: f.pk), start=1):
            rows.append(
                [
                    Paragraph(f"投标文件 {index}（{sealed.size} 字节）", s["cell"]),
                    Paragraph(text(sealed.sha256), s["hash"]),
                ]
            )
        story = [
            Paragraph("投标文件递交回执", s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 5 * mm),
            facts_table(facts, s),
            Spacer(1, 4 * mm),
            Paragraph("已收到的密文", s["heading"]),
            table(rows, [48 * mm, CONTENT_WIDTH - 48 * mm]),
            Spacer(1, 3 * mm),
            Paragraph(
                "开标时投标人须在解密时限内凭递交时设置的解密口令在线解密；平台不保存口令，"
                "口令遗失无法恢复，因投标人原因未能解密的视为撤销投标文件。",
                s["body"],
            ),
            verification_block(
                [("回执哈希（SHA-256）", bid.receipt_sha256)],
                url=receipt_url(bid),
                url_label="回执查询地址（登录后）",
                note=RECEIPT_NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"投标文件递交回执 {project.number}-{lot.number}",
            subject=bid.receipt_sha256,
            footer=f"{project.number} · 回执 {bid.receipt_sha256[:16]}",
        )


# --- The opening record ---------------------------------------------------------------------------


def record_url(opening: Opening) -> str:
    return _site(reverse("opening_record", args=[opening.lot_id]))


def render_record(opening: Opening) -> bytes:
    lot = opening.lot
    project = lot.project
    record = opening.record or {"bids": []}
    with chinese():
        s = styles()
        facts = [
            ("项目编号", text(project.number)),
            ("项目名称", text(project.title)),
            ("标段/包", text(f"{lot.number}. {lot.name}")),
            ("开标时间", f"{beijing_seconds(opening.started_at)}（北京时间）"),
            ("解密截止", f"{beijing_seconds(opening.decryption_until)}（北京时间）"),
            ("开标结束", f"{beijing_seconds(opening.finished_at)}（北京时间）"),
            ("结果", text(choice(Opening.Stage, opening.stage))),
        ]
        if opening.failure_reason:
            facts.append(("流标原因", text(opening.failure_reason)))
        if lot.ceiling_price is not None:
            facts.append(("最高投标限价（元）", money(lot.ceiling_price)))
        rows: list[list[Any]] = [
            [
                Paragraph(label, s["cell"])
                for label in ("序号", "投标人", "递交时间", "解密结果", "投标报价（元）")
            ]
        ]
        for index, row in enumerate(record.get("bids", []), start=1):
            outcome = choice(Bid.Status, row.get("status"))
            if row.get("failure"):
                outcome += f"：{row['failure']}"
            rows.append(
                [
                    Paragraph(str(index), s["cell"]),
                    Paragraph(f"{text(row.get('bidder'))}<br/>{text(row.get('uscc'))}", s["cell"]),
                    Paragraph(
                        beijing_seconds(dt.datetime.fromisoformat(row["submitted_at"]))
                        if row.get("submitted_at")
                        else "—",
                        s["cell"],
                    ),
                    Paragraph(text(outcome), s["cell"]),
                    Paragraph(money(row.get("price")), s["cell"]),
                ]
            )
        story = [
            Paragraph("开标记录", s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 5 * mm),
            facts_table(facts, s),
            Spacer(1, 4 * mm),
            table(rows, [12 * mm, 62 * mm, 32 * mm, 34 * mm, CONTENT_WIDTH - 140 * mm]),
            verification_block(
                [("开标记录哈希（SHA-256）", opening.record_sha256)],
                url=record_url(opening),
                url_label="开标记录公布地址",
                note=RECORD_NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"开标记录 {project.number}-{lot.number}",
            subject=opening.record_sha256,
            footer=f"{project.number} · 开标记录 {opening.record_sha256[:16]}",
        )


# --- The evaluation report ------------------------------------------------------------------------

EVALUATION_TARGET = "bidding.evaluation"
SIGNATURE_ACTS = ("evaluation.sign", "evaluation.dissent")


def evaluation_url(evaluation: Evaluation) -> str:
    return _site(reverse("bidding_evaluation", args=[evaluation.lot_id]))


def report_signatures(evaluation: Evaluation) -> dict[int, SignedAct]:
    """Each member's electronic signature of the report, by user: the signed acts done on this
    evaluation (a member signs once; should there be more, the last one stands)."""
    acts = (
        SignedAct.objects.filter(
            target_type=EVALUATION_TARGET, target_id=evaluation.pk, act__in=SIGNATURE_ACTS
        )
        .select_related("certificate")
        .order_by("pk")
    )
    return {act.user_id: act for act in acts}


def _points(value: Any) -> str:
    return "—" if value in (None, "") else text(value)


def _signature_cell(member: EvaluationMember, act: SignedAct | None, s: dict[str, Any]) -> Any:
    if member.confirmed_at is None:
        return Paragraph("—", s["cell"])
    if act is None:
        return Paragraph("未使用数字证书签名", s["small"])
    return Paragraph(
        f"证书指纹 {text(act.certificate.sha256[:16])}…<br/>"
        f"签名原文 SHA-256<br/>{text(act.statement_sha256)}<br/>"
        f"{text(_site(reverse('signed_act', args=[act.pk])))}",
        s["hash"],
    )


def render_evaluation_report(
    evaluation: Evaluation, *, names: bool = True, all_scores: bool = True
) -> bytes:
    """The compiled report as the committee signs it, with the signatures made so far.

    The complete document names the experts and gives every member's score of every bid. A copy for
    a reader who may not see the committee's identities (`names=False`: members appear by seat) or
    each member's scores (`all_scores=False`: the per-bidder summary only) leaves them out and says so;
    the report's hash is the same in every copy."""
    report = evaluation.report or {}
    lot = evaluation.lot
    project = lot.project
    members = list(evaluation.members.select_related("expert").order_by("pk"))
    bids = list(
        Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED)
        .select_related("organization")
        .order_by("pk")
    )
    bidders = {bid.pk: bid.organization.name for bid in bids}
    scores = list(
        Score.objects.filter(member__evaluation=evaluation).order_by("bid_id", "member_id")
    )
    signatures = report_signatures(evaluation)
    seat = {member.pk: index for index, member in enumerate(members, start=1)}

    def who(member: EvaluationMember) -> str:
        return text(member.expert.name) if names else f"评标专家 {seat[member.pk]}"

    # A framework's solicitation ranks every compliant response (the admission cuts the list).
    candidates = report.get("candidates", [])
    if project.method != "framework":
        candidates = candidates[:MAX_CANDIDATES]
    rejected = {row["bid"]: row["reason"] for row in report.get("rejected", [])}
    ranked = {row["bid"]: row for row in candidates}
    # The lowest evaluated price ranks by price alone: its technical and total points are not scores.
    scored = report.get("scheme") == Evaluation.Scheme.COMPREHENSIVE
    with chinese():
        s = styles()
        scheme = choice(Evaluation.Scheme, report.get("scheme", evaluation.scheme))
        if scored:
            scheme += f"（价格权重 {text(report.get('price_weight'))}）"
        facts = [
            ("项目编号", text(project.number)),
            ("项目名称", text(project.title)),
            ("标段/包", text(f"{lot.number}. {lot.name}")),
            ("招标人", text(project.owner.name)),
            ("招标代理机构", text(project.agent.name)),
            ("评标办法", scheme),
            ("评标开始", f"{beijing_seconds(evaluation.started_at)}（北京时间）"),
            ("报告生成", f"{beijing_seconds(evaluation.reported_at)}（北京时间）"),
            (
                "全体签署",
                f"{beijing_seconds(evaluation.confirmed_at)}（北京时间）"
                if evaluation.confirmed_at
                else "尚未全部签署",
            ),
            ("状态", text(choice(Evaluation.Status, evaluation.status))),
        ]
        committee: list[list[Any]] = [
            [Paragraph(label, s["cell"]) for label in ("序号", "成员", "职称")]
        ]
        for member in members:
            committee.append(
                [
                    Paragraph(str(seat[member.pk]), s["cell"]),
                    Paragraph(who(member), s["cell"]),
                    Paragraph(text(member.expert.get_title_display()), s["cell"]),
                ]
            )
        rejections: list[list[Any]] = [
            [Paragraph(label, s["cell"]) for label in ("投标人", "否决理由")]
        ]
        for pk, reason in rejected.items():
            rejections.append(
                [
                    Paragraph(text(bidders.get(pk, pk)), s["cell"]),
                    Paragraph(multiline(reason), s["cell"]),
                ]
            )
        summary: list[list[Any]] = [
            [
                Paragraph(label, s["cell"])
                for label in (
                    "投标人",
                    "投标报价（元）",
                    "响应成员",
                    "技术得分",
                    "综合得分",
                    "结论",
                )
            ]
        ]
        for bid in bids:
            own = [score for score in scores if score.bid_id == bid.pk]
            compliant = sum(1 for score in own if score.compliant)
            row = ranked.get(bid.pk)
            if bid.pk in rejected:
                outcome = "否决"
            elif row is not None:
                outcome = f"第 {row['rank']} 名中标候选人"
            else:
                outcome = "未列入候选人"
            summary.append(
                [
                    Paragraph(text(bid.organization.name), s["cell"]),
                    Paragraph(money(bid.price), s["cell"]),
                    Paragraph(f"{compliant}/{len(members)}", s["cell"]),
                    Paragraph(_points(row and row.get("technical") if scored else None), s["cell"]),
                    Paragraph(_points(row and row.get("total") if scored else None), s["cell"]),
                    Paragraph(outcome, s["cell"]),
                ]
            )
        ranking: list[list[Any]] = [
            [
                Paragraph(label, s["cell"])
                for label in ("名次", "中标候选人", "投标报价（元）", "技术得分", "综合得分")
            ]
        ]
        for row in candidates:
            ranking.append(
                [
                    Paragraph(text(row["rank"]), s["cell"]),
                    Paragraph(text(row["bidder"]), s["cell"]),
                    Paragraph(money(row["price"]), s["cell"]),
                    Paragraph(_points(row.get("technical") if scored else None), s["cell"]),
                    Paragraph(_points(row.get("total") if scored else None), s["cell"]),
                ]
            )
        signed_rows: list[list[Any]] = [
            [
                Paragraph(label, s["cell"])
                for label in ("成员", "签署时间（北京时间）", "不同意见", "电子签名")
            ]
        ]
        for member in members:
            act = signatures.get(member.expert.user_id) if member.expert.user_id else None
            signed_rows.append(
                [
                    Paragraph(who(member), s["cell"]),
                    Paragraph(
                        beijing_seconds(member.confirmed_at) if member.confirmed_at else "未签署",
                        s["cell"],
                    ),
                    Paragraph(multiline(member.dissent) if member.dissent else "—", s["cell"]),
                    _signature_cell(member, act, s),
                ]
            )
        story: list[Any] = [
            Paragraph("评标报告", s["title"]),
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 5 * mm),
            facts_table(facts, s),
            Paragraph("一、评标委员会", s["heading"]),
            table(committee, [14 * mm, 60 * mm, CONTENT_WIDTH - 74 * mm]),
            Paragraph("二、否决的投标", s["heading"]),
            table(rejections, [60 * mm, CONTENT_WIDTH - 60 * mm])
            if rejected
            else Paragraph("无。", s["body"]),
            Paragraph("三、评分汇总", s["heading"]),
            table(
                summary,
                [50 * mm, 32 * mm, 18 * mm, 20 * mm, 20 * mm, CONTENT_WIDTH - 140 * mm],
            ),
        ]
        if not scored:
            story.append(
                Paragraph(
                    "经评审的最低投标价法按评审后的投标价格由低到高排序，不计技术得分和综合得分。",
                    s["small"],
                )
            )
        if all_scores:
            detail: list[list[Any]] = [
                [
                    Paragraph(label, s["cell"])
                    for label in ("投标人", "成员", "实质性响应", "技术得分", "否决理由")
                ]
            ]
            by_pk = {member.pk: member for member in members}
            for score in scores:
                detail.append(
                    [
                        Paragraph(text(bidders.get(score.bid_id, score.bid_id)), s["cell"]),
                        Paragraph(who(by_pk[score.member_id]), s["cell"]),
                        Paragraph("是" if score.compliant else "否", s["cell"]),
                        Paragraph(_points(score.technical_points), s["cell"]),
                        Paragraph(multiline(score.rejection_reason or "—"), s["cell"]),
                    ]
                )
            story += [
                Paragraph("四、各成员评分", s["heading"]),
                table(detail, [46 * mm, 34 * mm, 20 * mm, 20 * mm, CONTENT_WIDTH - 120 * mm]),
            ]
        else:
            story += [
                Paragraph("四、各成员评分", s["heading"]),
                Paragraph("各成员的逐项评分仅向交易中心和监督部门提供，本副本从略。", s["body"]),
            ]
        story += [
            Paragraph("五、中标候选人排序", s["heading"]),
            table(ranking, [14 * mm, 70 * mm, 36 * mm, 22 * mm, CONTENT_WIDTH - 142 * mm])
            if candidates
            else Paragraph("没有合格的中标候选人，应当依法重新招标。", s["body"]),
            Paragraph("六、评标委员会成员签署", s["heading"]),
            Paragraph(
                "评标报告由评标委员会全体成员签署；对评标结果有不同意见的成员以书面形式说明其不同意见和"
                "理由，一并记录（《招标投标法实施条例》第五十三条）。",
                s["small"],
            ),
            Spacer(1, 2 * mm),
            table(signed_rows, [34 * mm, 34 * mm, 50 * mm, CONTENT_WIDTH - 118 * mm]),
        ]
        if not names:
            story.append(
                Paragraph(
                    "评标委员会成员名单在中标结果确定前保密，本副本以席位编号代替姓名。", s["small"]
                )
            )
        story.append(
            verification_block(
                [("评标报告哈希（SHA-256）", evaluation.report_sha256)],
                url=evaluation_url(evaluation),
                url_label="评标页面（登录后）",
                note=REPORT_NOTE,
                s=s,
            )
        )
        return build_pdf(
            story,
            title=f"评标报告 {project.number}-{lot.number}",
            subject=evaluation.report_sha256,
            footer=f"{project.number} · 评标报告 {evaluation.report_sha256[:16]}",
        )


# --- The award notice -----------------------------------------------------------------------------


# The notice's content and hash are `bidding.award_notice` (the winner signs the hash to accept).


def render_award_notice(publicity: Publicity) -> bytes:
    content = award_content(publicity)
    digest = canonical_sha256(content)
    issued = dt.datetime.fromisoformat(content["issued_at"]) if content["issued_at"] else None
    due = (
        dt.datetime.fromisoformat(content["contract_due_at"])
        if content["contract_due_at"]
        else None
    )
    # A live auction's result is its ranking, not a committee's evaluation.
    how = (
        "经网上竞价"
        if Auction.objects.filter(lot_id=publicity.lot_id).exists()
        else "经评标委员会评审"
    )
    with chinese():
        s = styles()
        facts = [
            ("项目编号", text(content["project"]["number"])),
            ("项目名称", text(content["project"]["title"])),
            ("标段/包", text(f"{content['lot']['number']}. {content['lot']['name']}")),
            (
                "中标人",
                f"{text(content['winner']['name'])}<br/>"
                f"统一社会信用代码：{text(content['winner']['uscc'])}",
            ),
            ("中标价（元）", money(content["price"])),
            ("发出时间", f"{beijing_seconds(issued)}（北京时间）"),
            ("合同签订期限", f"{beijing_seconds(due)} 前（北京时间）"),
        ]
        story = [
            Paragraph("中标通知书", s["title"]),
            Paragraph(text(content["owner"]["name"]), s["publisher"]),
            Spacer(1, 6 * mm),
            Paragraph(f"{text(content['winner']['name'])}：", s["body"]),
            Paragraph(
                f"{how}、中标候选人公示期满，确定贵单位为“{text(content['project']['title'])}”"
                f"第 {text(content['lot']['number'])} 标段/包的中标人，"
                f"中标价人民币 {money(content['price'])} 元。",
                s["body"],
            ),
            Paragraph(
                "请贵单位自本通知书发出之日起三十日内，按照招标文件和贵单位的投标文件与招标人订立书面合同"
                "（《中华人民共和国招标投标法》第四十六条）。中标人无正当理由不与招标人订立合同的，"
                "取消其中标资格，投标保证金不予退还（《招标投标法实施条例》第七十四条）。",
                s["body"],
            ),
            Spacer(1, 3 * mm),
            facts_table(facts, s),
            Spacer(1, 4 * mm),
            Paragraph(
                f"招标人：{text(content['owner']['name'])}　　"
                f"招标代理机构：{text(content['agent']['name'])}",
                s["body"],
            ),
            verification_block(
                [("通知书内容哈希（SHA-256）", digest)],
                url=content["url"],
                url_label="中标结果查询地址",
                note=AWARD_NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"中标通知书 {content['project']['number']}-{content['lot']['number']}",
            subject=digest,
            footer=f"{content['project']['number']} · 中标通知书 {digest[:16]}",
        )
