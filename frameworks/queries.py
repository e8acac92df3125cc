"""What each reader sees of a framework agreement: one rule for the pages and the API.

Public: the agreement, its members and their agreed prices (the 入围结果公告 says them), and every
purchase's method, requirement, quantity and, once awarded, its supplier, price and amount (the
成交结果公告 says them). A second round still quoting shows its close to everyone; an invited member
also sees whether its own quote arrived (its receipt), never who else was invited or quoted. After the
opening, every quote's supplier and price are shown to the agreement's agent, center staff and
supervisors (`frameworks.view_quote`), and each member sees its own.
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import has_perm
from frameworks.models import Agreement, CallOff, Member, Quote
from lib.money import format_amount


def may_order(user: Any, agreement: Agreement) -> bool:
    return has_perm(user, "trading.manage_project", agreement.lot.project)


def may_see_quotes(user: Any, agreement: Agreement) -> bool:
    return may_order(user, agreement) or has_perm(user, "frameworks.view_quote")


def membership(user: Any, agreement: Agreement) -> Member | None:
    org = getattr(user, "organization_id", None) if user is not None else None
    if org is None or not user.is_authenticated:
        return None
    return Member.objects.filter(agreement=agreement, organization_id=org).first()


def agreement_summary(agreement: Agreement) -> dict[str, Any]:
    project = agreement.lot.project
    return {
        "id": agreement.pk,
        "number": agreement.number,
        "project": {"id": project.pk, "number": project.number, "title": project.title},
        "lot": agreement.lot_id,
        "admission": agreement.admission,
        "max_unit_price": format_amount(agreement.max_unit_price),
        "second_stage_methods": list(agreement.second_stage_methods),
        "valid_from": agreement.valid_from,
        "valid_until": agreement.valid_until,
        "status": agreement.status,
        "in_force": agreement.in_force(),
        "responses": agreement.responses,
    }


def call_off_view(call_off: CallOff, user: Any, *, quotes_visible: bool) -> dict[str, Any]:
    awarded = call_off.status == CallOff.Status.AWARDED
    view: dict[str, Any] = {
        "id": call_off.pk,
        "number": call_off.number,
        "method": call_off.method,
        "requirement": call_off.requirement,
        "quantity": call_off.quantity,
        "status": call_off.status,
        "placed_at": call_off.placed_at,
        "closes_at": call_off.closes_at,
        "supplier": call_off.supplier.name if awarded and call_off.supplier else None,
        "unit_price": format_amount(call_off.unit_price)
        if awarded and call_off.unit_price
        else None,
        "amount": format_amount(call_off.amount) if awarded and call_off.amount else None,
        "awarded_at": call_off.awarded_at,
    }
    if call_off.method != CallOff.Method.SECOND_ROUND:
        return view
    org = getattr(user, "organization_id", None) if user is not None else None
    if org is not None and user.is_authenticated and org in call_off.invited:
        mine = Quote.objects.filter(call_off=call_off, organization_id=org).first()
        view["my_quote"] = {
            "invited": True,
            "submitted_at": mine.submitted_at if mine else None,
            "receipt": mine.sealed_sha256 if mine else None,
            "unit_price": (
                format_amount(mine.unit_price) if mine and mine.unit_price is not None else None
            ),
        }
    if quotes_visible:
        view["invited"] = len(call_off.invited)
        if call_off.opened_at is not None:
            view["quotes"] = [
                {
                    "supplier": quote.organization.name,
                    "unit_price": (
                        format_amount(quote.unit_price) if quote.unit_price is not None else None
                    ),
                    "submitted_at": quote.submitted_at,
                }
                for quote in call_off.quotes.select_related("organization").order_by(
                    "unit_price", "submitted_at"
                )
            ]
    return view


def agreement_view(agreement: Agreement, user: Any) -> dict[str, Any]:
    """The agreement as `user` may see it."""
    quotes_visible = may_see_quotes(user, agreement)
    member = membership(user, agreement)
    return {
        **agreement_summary(agreement),
        "members": [
            {
                "rank": m.rank,
                "organization": m.organization_id,
                "name": m.organization.name,
                "agreed_price": format_amount(m.agreed_price),
            }
            for m in agreement.members.select_related("organization").order_by("rank")
        ],
        "call_offs": [
            call_off_view(c, user, quotes_visible=quotes_visible)
            for c in agreement.call_offs.select_related("supplier").order_by("-number")
        ],
        "may_order": may_order(user, agreement),
        "my_membership": member.rank if member else None,
    }
