"""Deposit documents as A4 PDFs: the receipt of a cash deposit (保证金到账回执) and the notice of a refund
(保证金退还通知).

Each document is drawn from one dict of strings, its *content*: exactly what it states. The SHA-256 printed
at the bottom is the hash of that content's canonical JSON (lib.canonical.canonical_sha256), so a copy can
be checked by recomputing `receipt_content(...)` / `refund_notice_content(...)` for the moment it states
it was printed. Both state the situation at the time of printing (qualification, refund status), which is
why the printing time is part of the content.

Rendering reads committed rows and draws outside any transaction (docs/architecture.md): views call these
functions after the services have committed, never inside `transaction.atomic()`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from deposits import services
from deposits.models import Account, Currency, Deposit, Refund
from lib.canonical import canonical_sha256
from lib.errors import present
from lib.pdf import (
    SHANGHAI,
    beijing_seconds,
    build_pdf,
    chinese,
    choice,
    facts_table,
    money,
    styles,
    text,
    verification_block,
)
from trading.models import Project

# Where each refund's deadline and interest come from (docs/law.md, "Deposits"; deposits/rules.py).
LEGAL_BASIS: dict[str, str] = {
    "withdrawal": (
        "《招标投标法实施条例》第三十五条："
        "投标截止前撤回投标文件的，自收到书面撤回通知之日起5日内退还"
    ),
    "contract_signed": (
        "《招标投标法实施条例》第五十七条："
        "最迟在书面合同签订后5日内退还投标保证金及银行同期存款利息"
    ),
    "not_awarded": (
        "《政府采购法实施条例》第三十三条："
        "自中标通知书发出之日起5个工作日内退还未中标供应商的保证金"
    ),
    "land_not_won": (
        "《招标拍卖挂牌出让国有建设用地使用权规定》（国土资源部令第39号）："
        "未竞得人的竞买保证金在活动结束后5个工作日内退还，不计利息"
    ),
    "termination": (
        "《招标投标法实施条例》第三十一条："
        "终止招标的，应及时退还所收取的投标保证金及银行同期存款利息"
    ),
    "failed_lot": "招标文件约定及本中心保证金管理规定：流标的，退还投标保证金",
    "decryption_failure": (
        "《电子招标投标办法》第三十一条、《招标投标法实施条例》第三十五条："
        "投标人原因未完成解密的视为撤销投标，按招标文件的规定退还投标保证金"
    ),
    "payer_mismatch": (
        "《招标投标法实施条例》第二十六条：依法必须进行招标的项目，"
        "投标保证金应当从投标人的基本账户转出；非投标人缴纳的款项原路退回付款人"
    ),
    "unknown_account": "本中心保证金管理规定：无法识别收款子账户的来款，原路退回付款人",
}
LEGAL_BASIS_GP: dict[str, str] = {
    "withdrawal": (
        "《政府采购货物和服务招标投标管理办法》（财政部令第87号）第三十八条："
        "自收到书面撤回通知之日起5个工作日内退还"
    ),
    "contract_signed": (
        "《政府采购法实施条例》第三十三条："
        "自政府采购合同签订之日起5个工作日内退还中标供应商的保证金"
    ),
}
RECEIPT_NOTE = (
    "回执内容（含打印时间）按规范化 JSON 计算 SHA-256；扫描二维码登录后可查看该笔保证金的最新状态。"
)
NOTICE_NOTE = (
    "通知内容（含打印时间）按规范化 JSON 计算 SHA-256；扫描二维码登录后可查看退还的最新状态。"
)


def deposit_page_url(deposit: Deposit) -> str:
    """The deposit's page on the platform (the bidder's own, after logging in)."""
    return settings.SITE_URL.rstrip("/") + reverse("deposit_detail", args=[deposit.pk])


def content_sha256(content: dict[str, Any]) -> str:
    return canonical_sha256(content)


def _iso(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment, SHANGHAI).isoformat() if moment else ""


def _dec(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


# --- The receipt ----------------------------------------------------------------------------------


def receipt_content(deposit: Deposit, *, printed_at: dt.datetime | None = None) -> dict[str, Any]:
    """What the receipt of a cash deposit states (strings only). Call inside `lib.pdf.chinese()` so the
    labels it carries are Chinese."""
    notification = deposit.notification
    if deposit.form != Deposit.Form.CASH or notification is None:
        raise ValueError("only a cash deposit credited from a bank notification has a receipt")
    lot = deposit.lot
    project = lot.project
    org = deposit.organization
    standing = services.qualification(lot, org)
    content: dict[str, Any] = {
        "document": "deposit_receipt",
        "deposit": str(deposit.pk),
        "bidder": {"name": org.name, "uscc": org.uscc},
        "project": {"number": project.number, "title": project.title},
        "lot": {"number": str(lot.number), "name": lot.name},
        "sub_account": deposit.money_account.number if deposit.account_id else "",
        "amount": _dec(deposit.amount),
        "currency": deposit.currency,
        "bank": notification.bank,
        "transaction_id": notification.transaction_id,
        "value_at": _iso(notification.value_at),
        "payer": {
            "name": notification.payer_name,
            "account": notification.payer_account,
            "bank": notification.payer_bank,
        },
        "status": deposit.status,
        "qualification": {
            "code": standing.code,
            "message": standing.message,
            "required_cny": _dec(standing.required_cny),
            "counted_cny": _dec(standing.counted_cny),
        },
        "printed_at": _iso(printed_at or timezone.now()),
        "url": deposit_page_url(deposit),
    }
    if deposit.currency != "CNY":
        content["fx_rate"] = f"{deposit.fx_rate}"
        content["amount_cny"] = _dec(deposit.amount_cny)
    return content


def _when(iso: str) -> str:
    return beijing_seconds(dt.datetime.fromisoformat(iso)) + "（北京时间）" if iso else "—"


def _currency(code: str) -> str:
    return f"{choice(Currency, code)}（{code}）"


def render_receipt(deposit: Deposit, *, printed_at: dt.datetime | None = None) -> bytes:
    with chinese():
        c = receipt_content(deposit, printed_at=printed_at)
        digest = content_sha256(c)
        s = styles()
        amount = f"{money(c['amount'])} {text(_currency(c['currency']))}"
        rows: list[tuple[str, str]] = [
            ("投标人/竞买人", text(c["bidder"]["name"])),
            ("统一社会信用代码", text(c["bidder"]["uscc"])),
            ("项目编号", text(c["project"]["number"])),
            ("项目名称", text(c["project"]["title"])),
            ("标段/包", text(f"第 {c['lot']['number']} 标段/包 {c['lot']['name']}")),
            ("保证金子账户", text(c["sub_account"])),
            ("到账金额", amount),
        ]
        if "fx_rate" in c:
            rows += [
                ("到账时汇率", text(f"1 {c['currency']} = {c['fx_rate']} CNY")),
                ("折合人民币", f"{money(c['amount_cny'])} 元"),
            ]
        rows += [
            ("银行到账时间", text(_when(c["value_at"]))),
            ("银行流水号", text(f"{c['bank']} {c['transaction_id']}")),
            ("付款人户名", text(c["payer"]["name"])),
            ("付款人账号", text(c["payer"]["account"])),
            ("付款行", text(c["payer"]["bank"] or "—")),
            ("保证金状态", text(choice(Deposit.Status, c["status"]))),
        ]
        q = c["qualification"]
        standing = [
            ("资格状态", text(q["message"])),
            ("应缴保证金（人民币）", f"{money(q['required_cny'])} 元"),
            ("按时足额计入（人民币）", f"{money(q['counted_cny'])} 元"),
            ("打印时间", text(_when(c["printed_at"]))),
        ]
        story: list[Any] = [
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 2 * mm),
            Paragraph("保证金到账回执", s["title"]),
            Paragraph(text(f"回执编号 D{int(c['deposit']):08d}"), s["publisher"]),
            Spacer(1, 3 * mm),
            facts_table(rows, s, label_width=36 * mm),
            Paragraph("打印时的资格状态", s["heading"]),
            facts_table(standing, s, label_width=36 * mm),
            Paragraph(
                "资格状态以平台实时状态为准：保证金退还、没收或截止时间届至后，状态可能变化。",
                s["small"],
            ),
            verification_block(
                [("回执内容哈希（SHA-256）", digest)],
                url=c["url"],
                url_label="保证金页面",
                note=RECEIPT_NOTE,
                s=s,
            ),
        ]
        return build_pdf(
            story,
            title=f"保证金到账回执 {c['project']['number']} {c['bidder']['name']}",
            subject=f"deposit {c['deposit']} SHA-256 {digest}",
            footer=f"{c['project']['number']} · 保证金到账回执 · D{int(c['deposit']):08d}",
        )


# --- The refund notice ----------------------------------------------------------------------------


def legal_basis(refund: Refund, project_kind: str) -> str:
    if project_kind == Project.Kind.GOVERNMENT_PROCUREMENT and refund.reason in LEGAL_BASIS_GP:
        return LEGAL_BASIS_GP[refund.reason]
    return LEGAL_BASIS.get(refund.reason, "")


def interest_days(refund: Refund) -> int:
    """Days of demand-deposit interest: from the day the money arrived to the refund's due day, counted
    on Beijing dates (actual/360, deposits.rules.interest)."""
    if refund.deposit is None:
        return 0
    arrived = timezone.localtime(refund.deposit.arrived_at, SHANGHAI).date()
    due = timezone.localtime(refund.due_at, SHANGHAI).date()
    return max((due - arrived).days, 0)


def _refund_context(refund: Refund) -> tuple[Project | None, Account | None]:
    """The project and the sub-account a refund concerns (a held payment may have neither)."""
    if refund.deposit is not None:
        return refund.deposit.lot.project, refund.deposit.account
    notification = present(refund.notification, f"the held payment of refund {refund.pk}")
    account = (
        Account.objects.select_related("lot__project", "organization")
        .filter(number=notification.account_number, kind=Account.Kind.SUB_ACCOUNT)
        .first()
    )
    return (account.bidder_lot.project if account else None), account


def refund_notice_content(
    refund: Refund, *, printed_at: dt.datetime | None = None
) -> dict[str, Any]:
    """What the refund notice states (strings only). Call inside `lib.pdf.chinese()`."""
    project, account = _refund_context(refund)
    content: dict[str, Any] = {
        "document": "refund_notice",
        "refund": str(refund.pk),
        "project": {"number": project.number, "title": project.title} if project else None,
        "lot": (
            {"number": str(account.lot.number), "name": account.lot.name}
            if account and account.lot
            else None
        ),
        "bidder": account.organization.name if account and account.organization else "",
        "sub_account": account.number if account else "",
        "payee": {"name": refund.payee_name, "account": refund.payee_account},
        "currency": refund.currency,
        "principal": _dec(refund.principal),
        "interest": _dec(refund.interest),
        "total": _dec(refund.total),
        "reason": refund.reason,
        "reason_text": choice(Refund.Reason, refund.reason),
        "legal_basis": legal_basis(refund, project.kind if project else ""),
        "scheduled_at": _iso(refund.scheduled_at),
        "due_at": _iso(refund.due_at),
        "status": refund.status,
        "batch": str(refund.batch_id or ""),
        "bank_reference": refund.bank_reference if refund.status == Refund.Status.PAID else "",
        "paid_at": _iso(refund.paid_at),
        "printed_at": _iso(printed_at or timezone.now()),
    }
    notification = refund.notification
    if notification is not None:
        content["held_payment"] = {
            "bank": notification.bank,
            "transaction_id": notification.transaction_id,
            "value_at": _iso(notification.value_at),
            "account_number": notification.account_number,
        }
    if refund.interest:
        content["interest_days"] = str(interest_days(refund))
        content["interest_rate"] = str(settings.DEPOSIT_DEMAND_RATE)
    return content


def _percent(rate: str) -> str:
    return f"{(Decimal(rate) * 100).normalize():f}%"


def render_refund_notice(refund: Refund, *, printed_at: dt.datetime | None = None) -> bytes:
    with chinese():
        c = refund_notice_content(refund, printed_at=printed_at)
        digest = content_sha256(c)
        s = styles()
        unit = text(_currency(c["currency"]))
        rows: list[tuple[str, str]] = []
        if c["project"]:
            rows += [
                ("项目编号", text(c["project"]["number"])),
                ("项目名称", text(c["project"]["title"])),
            ]
        if c["lot"]:
            rows.append(("标段/包", text(f"第 {c['lot']['number']} 标段/包 {c['lot']['name']}")))
        if c["bidder"]:
            rows.append(("投标人/竞买人", text(c["bidder"])))
        if c["sub_account"]:
            rows.append(("保证金子账户", text(c["sub_account"])))
        if "held_payment" in c:
            held = c["held_payment"]
            rows += [
                ("原来款流水号", text(f"{held['bank']} {held['transaction_id']}")),
                ("原来款时间", text(_when(held["value_at"]))),
            ]
        rows += [
            ("收款人户名", text(c["payee"]["name"])),
            ("收款人账号", text(c["payee"]["account"])),
        ]
        if c["interest"] != "0.00":
            interest = (
                f"{money(c['interest'])} {unit}（计息 {c['interest_days']} 天，"
                f"年利率 {_percent(c['interest_rate'])}，银行同期活期存款利率，实际天数/360）"
            )
        else:
            interest = f"{money(c['interest'])} {unit}（本项退还不计利息）"
        amounts = [
            ("本金", f"{money(c['principal'])} {unit}"),
            ("利息", interest),
            ("退还合计", f"{money(c['total'])} {unit}"),
        ]
        status = [
            ("退还原因", text(c["reason_text"])),
            ("依据", text(c["legal_basis"] or "—")),
            ("安排时间", text(_when(c["scheduled_at"]))),
            ("应退日期", text(_when(c["due_at"]))),
            ("状态", text(choice(Refund.Status, c["status"]))),
        ]
        if c["batch"]:
            status.append(("退款批次", text(f"第 {c['batch']} 批")))
        if c["bank_reference"]:
            status += [
                ("银行退款流水号", text(c["bank_reference"])),
                ("到账确认时间", text(_when(c["paid_at"]))),
            ]
        status.append(("打印时间", text(_when(c["printed_at"]))))
        number = f"R{int(c['refund']):08d}"
        story: list[Any] = [
            Paragraph(text(settings.OCDS_PUBLISHER), s["publisher"]),
            Spacer(1, 2 * mm),
            Paragraph("保证金退还通知", s["title"]),
            Paragraph(text(f"通知编号 {number}"), s["publisher"]),
            Spacer(1, 3 * mm),
            facts_table(rows, s, label_width=36 * mm),
            Paragraph("退还金额", s["heading"]),
            facts_table(amounts, s, label_width=36 * mm),
            Paragraph("退还原因与进度", s["heading"]),
            facts_table(status, s, label_width=36 * mm),
            Paragraph(
                "保证金原路退回付款账户；状态以托管银行回单为准，打印后可能变化。",
                s["small"],
            ),
        ]
        hashes = [("通知内容哈希（SHA-256）", digest)]
        if refund.deposit is not None:
            story.append(
                verification_block(
                    hashes,
                    url=deposit_page_url(refund.deposit),
                    url_label="保证金页面",
                    note=NOTICE_NOTE,
                    s=s,
                )
            )
        else:
            story += [
                Spacer(1, 6 * mm),
                facts_table([("通知内容哈希（SHA-256）", text(digest))], s, label_width=36 * mm),
            ]
        return build_pdf(
            story,
            title=f"保证金退还通知 {number}",
            subject=f"refund {c['refund']} SHA-256 {digest}",
            footer=f"{(c['project'] or {}).get('number', '')} · 保证金退还通知 · {number}",
        )
