"""Pages of the live auction (issue 7): the room, the agent's setup form, the list of rooms.

Thin: the room page renders only the shell — every price, alias, rank and time on it comes from the room
socket (`/ws/auctions/<id>/`, docs/realtime-protocol.md). Who may open a room is
`services.require_viewer` (404 otherwise, so a private room does not reveal that it exists).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import visible_to
from bidding import access
from bidding.auction import services
from bidding.auction.forms import AuctionSetupForm
from bidding.models import Auction, LandListing
from lib.errors import DomainError, NotFound
from trading.models import Lot, Project

PAGE_SIZE = 100


def _strings(auction: Auction | None = None) -> dict[str, str]:
    """The room script's words, in the page's language (the script holds no text of its own). A room
    bidding square metres (竞配建) gets its own words for the amounts."""
    if auction is not None and auction.unit == Auction.Unit.SQUARE_METRE:
        return {**_yuan_strings(), **_square_metre_strings()}
    return _yuan_strings()


def _square_metre_strings() -> dict[str, str]:
    return {
        "yuan": _("平方米"),
        "allowed_ge": _("≥ %(price)s 平方米"),
        "confirm_far_up": _(
            "您的报价 %(price)s 平方米比当前最高 %(best)s 平方米高 %(pct)s，确定提交吗？"
        ),
        "confirm_leading": _("您当前已是最高报价，确定继续以 %(price)s 平方米报价吗？"),
        "acked": _("报价已确认：%(price)s 平方米"),
    }


def _yuan_strings() -> dict[str, str]:
    return {
        "connecting": _("正在连接竞价室…"),
        "reconnecting": _("连接中断，正在重新连接…"),
        "not_found": _("竞价不存在或不公开。"),
        "scheduled": _("待开始"),
        "live": _("竞价中"),
        "closed": _("已结束"),
        "failed": _("竞价失败"),
        "to_start": _("距开始"),
        "to_end": _("距结束"),
        "ended": _("竞价时间已到，等待服务器确认结束…"),
        "no_bids": _("暂无报价"),
        "start_price": _("起始价"),
        "yuan": _("元"),
        "allowed_le": _("≤ %(price)s 元"),
        "allowed_ge": _("≥ %(price)s 元"),
        "initial_le": _("首次报价（密封）≤ %(price)s 元"),
        "sealed": _("首次报价已密封（%(time)s 递交）"),
        "confirm_far": _("您的报价 %(price)s 元比当前最优价 %(best)s 元低 %(pct)s，确定提交吗？"),
        "confirm_far_up": _(
            "您的报价 %(price)s 元比当前最优价 %(best)s 元高 %(pct)s，确定提交吗？"
        ),
        "confirm_leading": _("您当前已是最优报价，确定继续以 %(price)s 元报价吗？"),
        "sending": _("报价已发送，等待服务器确认…"),
        "resending": _("正在用同一幂等键重新发送报价…"),
        "acked": _("报价已确认：%(price)s 元"),
        "rejected": _("报价被拒绝："),
        "bad_price": _("请输入正数金额，最多两位小数。"),
        "extended": _("竞价已延时，结束时间 %(time)s（第 %(n)s 次）"),
        "rank": _("第 %(rank)s 名"),
        "leading": _("您是当前最优"),
        "not_admitted": _("您未获准参加本场竞价。"),
        "waiting_start": _("竞价开始后显示您的竞价代号。"),
        "your_turn": _("轮到您报价"),
        "turn_of": _("当前报价：%(alias)s"),
        "pause": _("轮间休息"),
        "round": _("第 %(n)s 轮"),
        "not_your_turn": _("未轮到您报价"),
        "event_started": _("竞价开始"),
        "event_bid": _("出价"),
        "event_extended": _("延时至 %(time)s"),
        "event_round": _("第 %(n)s 轮开始"),
        "event_closed": _("竞价结束"),
        "failed_reason": _("竞价失败：%(reason)s"),
        "results": _("竞价结果"),
        "you": _("（本单位）"),
        "admit_on_bid": _("首次有效报价后获得竞价代号。"),
    }


def _auction(request: HttpRequest, pk: int) -> tuple[Auction, str]:
    try:
        auction = services.get_auction(pk)
        return auction, services.require_viewer(Actor.from_request(request), auction)
    except NotFound as exc:
        raise Http404 from exc


@require_safe
def auction_room(request: HttpRequest, pk: int) -> HttpResponse:
    auction, kind = _auction(request, pk)
    lot = auction.lot
    return render(
        request,
        "bidding/auction_room.html",
        {
            "auction": auction,
            "lot": lot,
            "project": lot.project,
            "view": kind,
            "socket_path": f"/ws/auctions/{auction.pk}/",
            "strings": _strings(auction),
            # A phase of a land listing (挂牌出让) links back to the listing page.
            "land_listing": LandListing.objects.filter(lot=lot).first(),
        },
    )


def _visible(request: HttpRequest):
    """The rooms the user may open: the same rule as `services.viewer_kind`, as one query."""
    user = request.user
    auctions = Auction.objects.select_related("lot", "lot__project")
    if user.is_authenticated and user.role in (Role.SUPERVISOR, Role.CENTER_STAFF):
        return auctions
    rule = Q(public_view=True)
    if user.is_authenticated and user.role == Role.SUPPLIER and user.organization_id:
        rule |= Q(lot__registrations__organization_id=user.organization_id)
    if user.is_authenticated and user.role == Role.AGENT:
        rule |= Q(
            lot__project__in=visible_to(user, "trading.manage_project", Project.objects.all())
        )
    return auctions.filter(rule).distinct()


@require_safe
def auction_list(request: HttpRequest) -> HttpResponse:
    auctions = list(_visible(request).order_by("-starts_at", "-pk")[:PAGE_SIZE])
    return render(request, "bidding/auction_list.html", {"auctions": auctions})


@login_required
def auction_setup(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's agent fixes the auction's rules (`services.create_auction`)."""
    try:
        lot: Lot = access.lot_for(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc
    if not access.is_agent(request.user, lot.project):
        raise PermissionDenied
    existing = Auction.objects.filter(lot=lot).first()
    if existing is not None:
        return redirect("auction_room", existing.pk)
    context: dict[str, Any] = {"lot": lot, "project": lot.project}
    if request.method != "POST":
        context["form"] = AuctionSetupForm()
        return render(request, "bidding/auction_setup.html", context)
    form = context["form"] = AuctionSetupForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(
                _("请检查输入：%(errors)s") % {"errors": form.errors.as_text()},
                code="VALIDATION_ERROR",
            )
        auction = services.create_auction(Actor.from_request(request), lot, **form.service_kwargs())
    except DomainError as exc:
        context["error"], context["error_code"] = exc.message, exc.code
        return render(request, "bidding/auction_setup.html", context, status=exc.http_status)
    return redirect("auction_room", auction.pk)
