"""Framework agreements (财政部令第110号): concluding the agreement from the solicitation's report, and
the second-stage purchases under it.

Every service takes the `Actor` first, checks who may act, does its change in one transaction with an
audit event, and tells the people concerned inside it (the notices go out after commit).

Steps, who takes them, and their refusals:
- `conclude_agreement` (the solicitation's agent): WRONG_METHOD, WRONG_STATUS, ALREADY_CONCLUDED,
  TOO_FEW_COMPLIANT, TERM_INVALID, TERM_TOO_LONG, SECOND_STAGE_METHODS_INVALID.
- `place_order` (the agent, for the purchasers): AGREEMENT_NOT_IN_FORCE, METHOD_NOT_IN_AGREEMENT,
  NOT_A_MEMBER, PRICE_OVER_AGREEMENT, NO_MEMBER_MAY_TRADE, SECOND_ROUND_TOO_SHORT,
  SECOND_ROUND_TOO_FEW, DUE_AT_REQUIRED, DUE_AT_INVALID.
- `submit_quote` (an invited member's bid operator): TOO_LATE, QUOTE_FIXED, PRICE_OVER_AGREEMENT.
- `open_second_round` (the clock at the close, idempotent): TOO_EARLY.
- `terminate_agreement` (the agent): AGREEMENT_NOT_IN_FORCE, TEXT_REQUIRED.

The admitted prices and every purchase's supplier and price are public (the 入围结果公告 and the
成交结果公告 say them). A second round's quotes are sealed to the solicitation's project key when they
arrive, before any lock is taken, and opened by the platform at the close: until then no read path,
the database included, holds a price, and nobody learns who quoted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Organization, Role
from accounts.permissions import require_perm
from accounts.services import ensure_may_trade, require_org_role
from audit.services import record
from bidding import crypto
from bidding.models import Evaluation
from bidding.services import BIDDING_ROLES, project_private_key, project_public_key
from clock.services import schedule
from frameworks import rules
from frameworks.models import REQUIREMENT_LIMIT, Agreement, CallOff, Member, Quote
from lib.canonical import sha256_hex
from lib.errors import Conflict, DomainError, NotPermitted, present
from lib.money import format_amount, parse_amount
from lib.numbers import parse_integer
from lib.text import check_text
from notifications import recipients
from notifications.services import moment_text, notify
from trading.exceptions import TooLate
from trading.models import Announcement, Lot, Project
from trading.services import ensure_not_suspended, lock_project, publish_version

OPEN_SECOND_ROUND_STEP = "frameworks.open_second_round"  # registered by frameworks/tasks.py
MAX_QUANTITY = 1_000_000_000
CENT = Decimal("0.01")


def url_of(agreement: Agreement) -> str:
    return f"/frameworks/{agreement.pk}/"


def _params(agreement: Agreement, **more: str) -> dict[str, str]:
    project = agreement.lot.project
    return {"project": f"{project.number} {project.title}", "agreement": agreement.number, **more}


def _tell(
    kind: str, people: Iterable[Any], event: Any, agreement: Agreement, **params: str
) -> None:
    notify(
        kind,
        people,
        cause=f"{kind}:{event.pk}",
        params=_params(agreement, **params),
        url=url_of(agreement),
    )


def _text(value: Any, field: str, limit: int) -> str:
    text = check_text(value if value is not None else "", field=field, max_length=limit).strip()
    if not text:
        raise DomainError(_("%(field)s不能为空。"), code="TEXT_REQUIRED", field=field)
    return text


def _may_trade(organization: Organization, at: dt.datetime) -> bool:
    try:
        ensure_may_trade(organization, at)
    except DomainError:
        return False
    return True


def _lock(agreement: Agreement) -> Agreement:
    return (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("lot__project")
        .get(pk=agreement.pk)
    )


# --- The agreement -----------------------------------------------------------------------------


def conclude_agreement(
    actor: Actor,
    lot: Lot,
    *,
    valid_until: dt.datetime,
    second_stage_methods: Iterable[str],
    member_limit: Any = None,
) -> Agreement:
    """Admit suppliers from the solicitation's signed report and conclude the agreement.

    The report ranks every compliant response (by price under 价格优先法, by score under 质量优先法);
    a response above the 最高限制单价 is not admitted; of the rest at least 20 % and at least one are
    eliminated (`rules.admitted_count`), and no more than `member_limit` admitted when the documents
    set one. The 入围结果公告 names the members and their agreed prices."""
    require_perm(actor, "trading.manage_project", lot.project)
    limit = (
        parse_integer(member_limit, field="member_limit", minimum=1, maximum=1000)
        if member_limit not in (None, "")
        else None
    )
    methods = sorted(set(second_stage_methods))
    if not methods or set(methods) - set(CallOff.Method.values):
        raise DomainError(
            _("请选择第二阶段成交方式（直接选定、二次竞价、顺序轮候）。"),
            code="SECOND_STAGE_METHODS_INVALID",
        )
    with transaction.atomic():
        project = lock_project(lot.project_id)
        ensure_not_suspended(project)
        if project.method != Project.Method.FRAMEWORK:
            raise Conflict(_("该项目不是框架协议采购。"), code="WRONG_METHOD")
        if Agreement.objects.filter(lot=lot).exists():
            raise Conflict(_("框架协议已订立。"), code="ALREADY_CONCLUDED")
        evaluation = Evaluation.objects.filter(lot=lot).first()
        if evaluation is None or evaluation.status != Evaluation.Status.CONFIRMED:
            raise Conflict(_("评审报告尚未签署完毕。"), code="WRONG_STATUS")
        now = timezone.now()
        if valid_until <= now:
            raise DomainError(_("协议期满时间必须晚于现在。"), code="TERM_INVALID")
        longest = rules.longest_term(project.category)
        if valid_until > now + longest:
            raise DomainError(
                _("框架协议期限不得超过 %(days)s 日。"), code="TERM_TOO_LONG", days=longest.days
            )
        cap = present(lot.ceiling_price, "a framework lot's 最高限制单价")
        ranked = [
            row
            for row in present(evaluation.report, "a signed report")["candidates"]
            if Decimal(str(row["price"])) <= cap
        ]
        admitted_count = rules.admitted_count(len(ranked), limit)
        if admitted_count == 0:
            raise Conflict(
                _("符合要求的供应商少于 %(n)s 家，应当重新征集。"),
                code="TOO_FEW_COMPLIANT",
                n=rules.MIN_COMPLIANT,
            )
        agreement = Agreement.objects.create(
            number=f"KJXY{lot.pk:08d}",
            lot=lot,
            admission=(
                Agreement.Admission.PRICE_PRIORITY
                if evaluation.scheme == Evaluation.Scheme.LOWEST_PRICE
                else Agreement.Admission.QUALITY_PRIORITY
            ),
            max_unit_price=cap,
            second_stage_methods=methods,
            valid_from=now,
            valid_until=valid_until,
            report_sha256=evaluation.report_sha256,
            concluded_at=now,
            concluded_by=actor.acting_user,
            responses=len(ranked),
        )
        members = [
            Member.objects.create(
                agreement=agreement,
                organization_id=row["organization"],
                rank=position,
                agreed_price=Decimal(str(row["price"])),
            )
            for position, row in enumerate(ranked[:admitted_count], start=1)
        ]
        admitted = {member.organization_id for member in members}
        eliminated = [row["organization"] for row in ranked if row["organization"] not in admitted]
        lines = [
            f"第{m.rank}名：{m.organization.name}，协议价格 {format_amount(m.agreed_price)} 元"
            for m in members
        ]
        publish_version(
            actor,
            project,
            Announcement.Kind.RESULT,
            title=f"{project.title} 框架协议入围结果公告",
            body="\n".join(
                [
                    f"框架协议编号：{agreement.number}",
                    f"入围方法：{agreement.get_admission_display()}",
                    f"最高限制单价：{format_amount(cap)} 元",
                    f"协议期限：{moment_text(now)} 至 {moment_text(valid_until)}",
                    "第二阶段成交方式：" + "、".join(str(CallOff.Method(m).label) for m in methods),
                    f"合格响应 {len(ranked)} 家，入围 {len(members)} 家：",
                    *lines,
                ]
            ),
        )
        event = record(
            actor,
            "frameworks.agreement.concluded",
            agreement,
            {
                "lot": lot.pk,
                "report_sha256": evaluation.report_sha256,
                "members": [
                    {"organization": m.organization_id, "agreed_price": m.agreed_price}
                    for m in members
                ],
                "eliminated": eliminated,
                "valid_until": valid_until,
                "methods": methods,
            },
        )
        _tell(
            "framework.admitted",
            recipients.bidders_of(Organization.objects.filter(pk__in=admitted)),
            event,
            agreement,
        )
        _tell(
            "framework.not_admitted",
            recipients.bidders_of(Organization.objects.filter(pk__in=eliminated)),
            event,
            agreement,
        )
    return agreement


def terminate_agreement(actor: Actor, agreement: Agreement, *, reason: Any) -> Agreement:
    """End the agreement before its term (a purchase already awarded stands; a second round still
    quoting is opened as usual)."""
    require_perm(actor, "trading.manage_project", agreement.lot.project)
    why = _text(reason, str(_("终止原因")), 500)
    with transaction.atomic():
        locked = _lock(agreement)
        if not locked.in_force():
            raise Conflict(_("框架协议不在有效期内。"), code="AGREEMENT_NOT_IN_FORCE")
        locked.status = Agreement.Status.TERMINATED
        locked.terminated_at = timezone.now()
        locked.termination_reason = why
        locked.save(update_fields=["status", "terminated_at", "termination_reason"])
        event = record(actor, "frameworks.agreement.terminated", locked, {"reason": why})
        _tell(
            "framework.terminated",
            recipients.bidders_of(
                Organization.objects.filter(
                    pk__in=locked.members.values_list("organization_id", flat=True)
                )
            ),
            event,
            locked,
        )
    return locked


# --- Second-stage purchases --------------------------------------------------------------------


def _member(agreement: Agreement, organization_id: Any) -> Member:
    org = parse_integer(organization_id, field="supplier", minimum=1)
    member = (
        Member.objects.select_related("organization")
        .filter(agreement=agreement, organization_id=org)
        .first()
    )
    if member is None:
        raise DomainError(_("该供应商不是本框架协议的入围供应商。"), code="NOT_A_MEMBER")
    return member


def next_in_rotation(agreement: Agreement, at: dt.datetime) -> Member | None:
    """顺序轮候: the member after the last one a rotation awarded, in the admission's order, skipping
    one that may not trade today (barred, deactivated); None when none may."""
    members = list(agreement.members.select_related("organization").order_by("rank"))
    last = (
        CallOff.objects.filter(
            agreement=agreement, method=CallOff.Method.ROTATION, status=CallOff.Status.AWARDED
        )
        .order_by("-number")
        .values_list("supplier_id", flat=True)
        .first()
    )
    start = next((i + 1 for i, m in enumerate(members) if m.organization_id == last), 0)
    for offset in range(len(members)):
        member = members[(start + offset) % len(members)]
        if _may_trade(member.organization, at):
            return member
    return None


def place_order(
    actor: Actor,
    agreement: Agreement,
    *,
    method: str,
    requirement: Any,
    quantity: Any,
    supplier: Any = None,
    unit_price: Any = None,
    closes_at: dt.datetime | None = None,
    invited: Iterable[Any] | None = None,
) -> CallOff:
    """A purchase under the agreement by one of its second-stage methods.

    - 直接选定: the purchaser picks a member; the price is at most its agreed price (default: it).
    - 顺序轮候: the next member in the rotation, at its agreed price.
    - 二次竞价: the members invited (default: every member who may trade) quote once, sealed, at most
      their agreed price, until `closes_at`; the platform opens the quotes then and the lowest wins
      (`open_second_round`)."""
    require_perm(actor, "trading.manage_project", agreement.lot.project)
    if method not in CallOff.Method.values:
        raise DomainError(_("成交方式无效。"), code="METHOD_INVALID")
    text = _text(requirement, str(_("采购需求")), REQUIREMENT_LIMIT)
    count = parse_integer(quantity, field="quantity", minimum=1, maximum=MAX_QUANTITY)
    price = parse_amount(unit_price, field="unit_price") if unit_price not in (None, "") else None
    with transaction.atomic():
        locked = _lock(agreement)
        ensure_not_suspended(locked.lot.project)
        now = timezone.now()
        if not locked.in_force(now):
            raise Conflict(_("框架协议不在有效期内。"), code="AGREEMENT_NOT_IN_FORCE")
        if method not in locked.second_stage_methods:
            raise Conflict(_("框架协议未约定该成交方式。"), code="METHOD_NOT_IN_AGREEMENT")
        number = (
            locked.call_offs.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        call_off = CallOff(
            agreement=locked,
            number=number,
            method=method,
            requirement=text,
            quantity=count,
            placed_at=now,
            placed_by=actor.acting_user,
            status=CallOff.Status.QUOTING,
        )
        if method == CallOff.Method.SECOND_ROUND:
            return _open_round(actor, locked, call_off, closes_at, invited, now)
        if method == CallOff.Method.DIRECT:
            if supplier in (None, ""):
                raise DomainError(_("请选择成交供应商。"), code="SUPPLIER_REQUIRED")
            member = _member(locked, supplier)
            ensure_may_trade(member.organization, now)
        else:
            rotated = next_in_rotation(locked, now)
            if rotated is None:
                raise Conflict(_("没有可以成交的入围供应商。"), code="NO_MEMBER_MAY_TRADE")
            member, price = rotated, None
        agreed = member.agreed_price
        if price is not None and price > agreed:
            raise DomainError(
                _("成交单价不得超过该供应商的协议价格 %(price)s 元。"),
                code="PRICE_OVER_AGREEMENT",
                price=format_amount(agreed),
            )
        call_off.save()
        _award(actor, call_off, member.organization, price or agreed, now)
    return call_off


def _open_round(
    actor: Actor,
    agreement: Agreement,
    call_off: CallOff,
    closes_at: dt.datetime | None,
    invited: Iterable[Any] | None,
    now: dt.datetime,
) -> CallOff:
    if closes_at is None:
        raise DomainError(_("请设定报价截止时间。"), code="DUE_AT_REQUIRED")
    earliest = rules.second_round_earliest_close(now)
    if closes_at < earliest:
        raise DomainError(
            _("二次竞价报价截止时间不得早于 %(earliest)s。"),
            code="SECOND_ROUND_TOO_SHORT",
            earliest=moment_text(earliest),
        )
    if closes_at > now + rules.SECOND_ROUND_LONGEST:
        raise DomainError(
            _("二次竞价报价截止时间不得晚于 %(days)s 日后。"),
            code="DUE_AT_INVALID",
            days=rules.SECOND_ROUND_LONGEST.days,
        )
    if invited is None:
        chosen = list(agreement.members.select_related("organization"))
    else:
        chosen = [_member(agreement, org) for org in dict.fromkeys(invited)]
    chosen = [m for m in chosen if _may_trade(m.organization, now)]
    if len(chosen) < 2:
        raise Conflict(_("二次竞价至少需要两家可以参加的入围供应商。"), code="SECOND_ROUND_TOO_FEW")
    call_off.invited = sorted(m.organization_id for m in chosen)
    call_off.closes_at = closes_at
    call_off.save()
    schedule(OPEN_SECOND_ROUND_STEP, call_off.pk, closes_at)
    event = record(
        actor,
        "frameworks.call_off.placed",
        call_off,
        {
            "agreement": agreement.pk,
            "number": call_off.number,
            "method": call_off.method,
            "quantity": call_off.quantity,
            "invited": call_off.invited,
            "closes_at": closes_at,
        },
    )
    notify(
        "framework.second_round",
        recipients.bidders_of(m.organization for m in chosen),
        cause=f"framework.second_round:{event.pk}",
        params=_params(agreement, deadline=moment_text(closes_at)),
        url=url_of(agreement),
        due_at=closes_at,
    )
    return call_off


def _award(
    actor: Actor,
    call_off: CallOff,
    supplier: Organization,
    unit_price: Decimal,
    now: dt.datetime,
) -> None:
    """Record the purchase's supplier and price, and republish the agreement's 成交结果公告 with it."""
    agreement = call_off.agreement
    call_off.status = CallOff.Status.AWARDED
    call_off.supplier = supplier
    call_off.unit_price = unit_price
    call_off.amount = (unit_price * call_off.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    call_off.awarded_at = now
    call_off.save()
    project = agreement.lot.project
    awarded = CallOff.objects.filter(
        agreement=agreement, status=CallOff.Status.AWARDED
    ).select_related("supplier")
    publish_version(
        actor,
        project,
        Announcement.Kind.DEAL,
        title=f"{project.title} 框架协议成交结果公告",
        body="\n".join(
            [f"框架协议编号：{agreement.number}"]
            + [
                f"第{c.number}笔（{c.get_method_display()}）：{present(c.supplier, 'supplier').name}，"
                f"数量 {c.quantity}，成交单价 {format_amount(present(c.unit_price, 'price'))} 元，"
                f"成交金额 {format_amount(present(c.amount, 'amount'))} 元，"
                f"成交时间 {moment_text(present(c.awarded_at, 'awarded_at'))}"
                for c in awarded
            ]
        ),
        reason=f"第{call_off.number}笔成交",
    )
    event = record(
        actor,
        "frameworks.call_off.awarded",
        call_off,
        {
            "agreement": agreement.pk,
            "number": call_off.number,
            "method": call_off.method,
            "quantity": call_off.quantity,
            "supplier": supplier.pk,
            "unit_price": unit_price,
            "amount": call_off.amount,
        },
    )
    _tell(
        "framework.awarded",
        recipients.bidders(supplier),
        event,
        agreement,
        number=str(call_off.number),
        amount=format_amount(present(call_off.amount, "amount")),
    )
    _tell(
        "framework.awarded_agent",
        recipients.members(project.agent),
        event,
        agreement,
        number=str(call_off.number),
    )


def submit_quote(actor: Actor, call_off: CallOff, *, unit_price: Any) -> Quote:
    """An invited member's one quote in a second round, at most its agreed price. Sealed to the
    solicitation's project key before any lock is taken: the plaintext never reaches the database."""
    price = parse_amount(unit_price, field="unit_price")
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有受邀的入围供应商可以报价。"))
    require_org_role(actor, *BIDDING_ROLES)
    organization = actor.organization
    agreement = call_off.agreement
    member = Member.objects.filter(agreement=agreement, organization=organization).first()
    if member is None or organization.pk not in call_off.invited:
        raise NotPermitted(_("贵单位未受邀参加本次二次竞价。"))
    if price > member.agreed_price:
        raise DomainError(
            _("报价不得超过贵单位的协议价格 %(price)s 元。"),
            code="PRICE_OVER_AGREEMENT",
            price=format_amount(member.agreed_price),
        )
    sealed = crypto.seal_to(
        project_public_key(agreement.lot.project),
        json.dumps({"unit_price": format_amount(price)}).encode(),
    )
    with transaction.atomic():
        locked = CallOff.objects.select_for_update().get(pk=call_off.pk)
        ensure_not_suspended(agreement.lot.project)
        now = timezone.now()
        if locked.status != CallOff.Status.QUOTING or now >= present(locked.closes_at, "close"):
            raise TooLate(
                _("二次竞价已于 %(until)s 截止。"),
                code="TOO_LATE",
                until=moment_text(present(locked.closes_at, "close")),
            )
        ensure_may_trade(organization, now)
        if Quote.objects.filter(call_off=locked, organization=organization).exists():
            raise Conflict(_("二次竞价只能报价一次，不得更改。"), code="QUOTE_FIXED")
        quote = Quote.objects.create(
            call_off=locked,
            organization=organization,
            submitted_by=actor.acting_user,
            submitted_at=now,
            sealed=sealed,
            sealed_sha256=sha256_hex(sealed),
        )
        event = record(
            actor,
            "frameworks.quote.submitted",
            quote,
            {"call_off": locked.pk, "sealed_sha256": quote.sealed_sha256},
        )
        _tell(
            "framework.quote_receipt",
            recipients.bidders(organization),
            event,
            agreement,
            receipt=quote.sealed_sha256,
            submitted_at=moment_text(now),
        )
    return quote


def open_second_round(actor: Actor, call_off: CallOff) -> CallOff:
    """At the close the platform opens every quote; the lowest of a member who may still trade wins
    (the earlier quote on a tie). No quote → the round failed and the purchaser may place another.
    Idempotent; refused before the close."""
    with transaction.atomic():
        locked = (
            CallOff.objects.select_for_update(of=("self",))
            .select_related("agreement__lot__project")
            .get(pk=call_off.pk)
        )
        if locked.opened_at is not None:
            return locked
        now = timezone.now()
        if now < present(locked.closes_at, "close"):
            raise TooLate(_("报价截止前不得开启。"), code="TOO_EARLY")
        private = project_private_key(locked.agreement.lot.project_id)
        quotes = list(
            Quote.objects.select_for_update()
            .filter(call_off=locked)
            .select_related("organization")
            .order_by("submitted_at", "pk")
        )
        for quote in quotes:
            opened = json.loads(crypto.open_outer(private, bytes(quote.sealed)))
            quote.unit_price = Decimal(opened["unit_price"])
            quote.save(update_fields=["unit_price"])
        locked.opened_at = now
        eligible = [q for q in quotes if _may_trade(q.organization, now)]
        record(
            actor,
            "frameworks.quotes.opened",
            locked,
            {
                "call_off": locked.pk,
                "prices": {str(q.organization_id): q.unit_price for q in quotes},
                "missing": sorted(set(locked.invited) - {q.organization_id for q in quotes}),
                "barred": sorted(
                    {q.organization_id for q in quotes} - {q.organization_id for q in eligible}
                ),
            },
        )
        if not eligible:
            locked.status = CallOff.Status.FAILED
            locked.save(update_fields=["opened_at", "status"])
            event = record(actor, "frameworks.call_off.failed", locked, {"call_off": locked.pk})
            _tell(
                "framework.round_failed",
                recipients.members(locked.agreement.lot.project.agent),
                event,
                locked.agreement,
                number=str(locked.number),
            )
            return locked
        # Sorted by submission: min() keeps the earlier of two equal prices.
        best = min(eligible, key=lambda q: present(q.unit_price, "opened price"))
        locked.save(update_fields=["opened_at"])
        _award(actor, locked, best.organization, present(best.unit_price, "price"), now)
    return locked
