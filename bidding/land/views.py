"""Pages of the land listing (挂牌出让, issue 8): the public listing page, a bidder's answers and sealed
offer, the winner's signature, center staff's record of a refusal, the designated staff member's reserve
entry, the agent's setup form, the list of listings and the two PDFs.

Thin, like every page of the platform: parse, authorize, call ONE service of `bidding.land.services`,
redirect back to the listing page. What a reader may see and do comes from `services.listing_state`
(the reserve only for officials after the outcome, the buttons only for a listing bidder inside its
window); a DomainError re-renders the listing page with the service's message at the error's status.
The bidding itself is in the auction room of `services.current_auction` (`auction_room`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.actors import Actor
from accounts.models import Organization, Role
from bidding import access
from bidding.land import pdf, services
from bidding.land.forms import ListingSetupForm, OfferForm, RefusalForm, ReserveForm, planning_label
from bidding.models import Auction, LandListing
from deposits.services import qualification
from lib.errors import Conflict, DomainError, NotFound
from signing.services import parse_signed
from trading.models import Lot, Project

PAGE_SIZE = 100

ELIGIBILITY = {
    "NOT_REGISTERED": gettext_lazy("尚未报名该宗地。"),
    "DEPOSIT_NOT_QUALIFIED": gettext_lazy("竞买保证金尚未足额按时到账。"),
    "BARRED": gettext_lazy("贵单位被限制参与交易。"),
}
PHASE_LABELS = {
    Auction.Phase.LISTING: gettext_lazy("挂牌报价"),
    Auction.Phase.LIVE: gettext_lazy("限时竞价"),
    Auction.Phase.HOUSING: gettext_lazy("竞配建（保障性住房面积）"),
}
BASIS_LABELS = {
    "listing": gettext_lazy("挂牌期截止时的最高有效报价"),
    "live": gettext_lazy("挂牌期截止后限时竞价的最高有效报价"),
    "lottery": gettext_lazy("达到最高限价后，在接受最高限价的竞买人中摇号确定"),
    "housing": gettext_lazy("达到最高限价后，竞配建保障性住房面积最大者"),
    "offers": gettext_lazy("达到最高限价后，一次性报价最接近全部报价平均价者"),
}


# --- Helpers --------------------------------------------------------------------------------------


def _listing(request: HttpRequest, pk: int) -> LandListing:
    """The listing, if the user may see its project (a listing only exists on a published one)."""
    try:
        listing = services.get_listing(pk)
        access.lot_for(request.user, listing.lot_id)
    except NotFound as exc:
        raise Http404 from exc
    return listing


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _is_center_staff(user: Any) -> bool:
    return getattr(user, "role", "") == Role.CENTER_STAFF


def _reserve_open(listing: LandListing, user: Any, now: dt.datetime) -> bool:
    """The designated staff member may still key in the reserve."""
    return (
        user.is_authenticated
        and user.pk == listing.reserve_staff_id
        and listing.sealed_reserve is None
        and now < services.reserve_lock_time(listing)
    )


def _lottery(state: dict[str, Any], officials: bool, own: int | None) -> dict[str, Any] | None:
    """The lottery record with the candidates' names where the reader may know them: officials see
    every name; everyone sees the winner's (it is announced) and a bidder its own. The ids alone are
    enough to recompute the draw."""
    record = state["lottery"]
    if not record:
        return None
    ids = record.get("candidates") or []
    names = dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name"))
    winner = record.get("winner")
    return {
        **record,
        "candidate_rows": [
            {
                "id": i,
                "name": names.get(i, "") if officials or i in (winner, own) else "",
                "winner": i == winner,
            }
            for i in ids
        ],
        "drawn": _when(record.get("drawn_at")),
    }


def _context(request: HttpRequest, listing: LandListing, **extra: Any) -> dict[str, Any]:
    user = request.user
    actor = Actor.from_request(request)
    state = services.listing_state(actor, listing.pk)
    listing = services.get_listing(listing.pk)
    lot = listing.lot
    project = lot.project
    now = timezone.now()
    you = state["you"]
    room = Auction.objects.filter(pk=state["room"]).first() if state["room"] else None
    phases = list(Auction.objects.filter(lot=lot).order_by("pk"))
    decided = listing.decided
    is_staff = _is_center_staff(user)
    is_supervisor = getattr(user, "role", "") == Role.SUPERVISOR
    is_agent = access.is_agent(user, project)
    qualified = False
    if you is not None:
        registered = you["eligibility"] != "NOT_REGISTERED"
        qualified = registered and qualification(lot, actor.organization).qualified
    may = {
        "continue": bool(you and you["may_continue"]),
        "accept_cap": bool(you and you["may_accept_cap"]),
        "offer": bool(you and you["may_offer"]),
        "sign": bool(you and you["may_sign"]),
        "qualification_pdf": qualified,
        "confirmation_pdf": listing.stage == LandListing.Stage.DEAL
        and pdf.may_read_confirmation(actor, listing),
        "refusal": is_staff
        and listing.stage == LandListing.Stage.DEAL
        and listing.confirmation_signed_at is None,
        "reserve": _reserve_open(listing, user, now),
        "room": room is not None,
    }
    closing = pdf.last_closing(listing) if decided else None
    context: dict[str, Any] = {
        "listing": listing,
        "lot": lot,
        "project": project,
        "s": state,
        "you": you,
        "eligibility_text": ELIGIBILITY.get(you["eligibility"], "") if you else "",
        "room": room,
        "room_label": PHASE_LABELS.get(room.phase, "") if room else "",
        "phases": [(a, PHASE_LABELS.get(a.phase, a.get_phase_display())) for a in phases],
        "planning": [(planning_label(k), v) for k, v in (listing.planning or {}).items()],
        "lottery": _lottery(
            state,
            is_staff or is_supervisor or is_agent,
            actor.organization.pk if you is not None else None,
        ),
        "now": now,
        "stage_ends_at": listing.stage_ends_at,
        "reserve_lock_at": services.reserve_lock_time(listing),
        "may": may,
        "officials": is_staff or is_supervisor or is_agent,
        "is_reserve_staff": user.is_authenticated and user.pk == listing.reserve_staff_id,
        "read_only": is_supervisor,
        "closing": closing,
        "basis": BASIS_LABELS.get(pdf.basis_of(listing), "") if listing.winner_id else "",
        "signature": _signature(state),
        "offer_form": OfferForm(),
        "refusal_form": RefusalForm(),
        **extra,
    }
    return context


def _signature(state: dict[str, Any]) -> str:
    """What makes the page worth reloading when it changes (the page script polls `land_status`)."""
    return "|".join(
        str(state[k] or "")
        for k in (
            "stage",
            "stage_ends_at",
            "room",
            "highest",
            "winner",
            "decided_at",
            "confirmation_signed_at",
        )
    )


def _page(request: HttpRequest, listing: LandListing, **extra: Any) -> HttpResponse:
    return render(request, "bidding/land_listing.html", _context(request, listing, **extra))


def _error(request: HttpRequest, listing: LandListing, exc: DomainError, **extra: Any):
    context = _context(request, listing, error=exc.message, error_code=exc.code, **extra)
    return render(request, "bidding/land_listing.html", context, status=exc.http_status)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Reading --------------------------------------------------------------------------------------


@require_safe
def listing_list(request: HttpRequest) -> HttpResponse:
    listings = list(
        LandListing.objects.select_related("lot__project")
        .filter(lot__project__status__in=access.ANNOUNCED)
        .order_by("-listing_ends_at", "-pk")[:PAGE_SIZE]
    )
    return render(request, "bidding/land_list.html", {"listings": listings, "now": timezone.now()})


@require_safe
def listing_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _listing(request, pk))


@require_safe
def listing_status(request: HttpRequest, pk: int) -> JsonResponse:
    """A small JSON of the listing page's moving parts: the page script polls it and reloads on a
    change (windows end by the server's clock; this read runs what is due, like the page)."""
    listing = _listing(request, pk)
    state = services.listing_state(Actor.from_request(request), listing.pk)
    return JsonResponse(
        {
            "stage": state["stage"],
            "stage_ends_at": state["stage_ends_at"],
            "room": state["room"],
            "highest": state["highest"],
            "decided": state["decided_at"] is not None,
            "signature": _signature(state),
            "server_time": state["server_time"],
        },
        headers={"Cache-Control": "no-store"},
    )


# --- A bidder: answers, sealed offer, signature -----------------------------------------------------


@login_required
@require_POST
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    """Continue to live bidding (or not), or accept the maximum price (lottery)."""
    listing = _listing(request, pk)
    kind = request.POST.get("kind", "")
    # Anything but yes/no reaches the service as an invalid answer, so its message is the one shown.
    answer = {"yes": True, "no": False}.get(request.POST.get("answer", ""))
    try:
        signed = parse_signed(request.POST)
        services.respond(
            Actor.from_request(request), listing, kind=kind, answer=answer, signed=signed
        )
    except DomainError as exc:
        return _error(request, listing, exc)
    messages.success(request, _("您的答复已记录。") if answer else _("已记录：不参加。"))
    return redirect("land_listing", pk=listing.pk)


@login_required
@require_POST
def offer(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk)
    form = OfferForm(request.POST)
    price = form.data.get("price", "")
    try:
        services.submit_offer(Actor.from_request(request), listing, str(price))
    except DomainError as exc:
        # The sealed price is never echoed back.
        return _error(request, listing, exc)
    messages.success(request, _("一次性报价已密封提交，报价截止后统一开启。"))
    return redirect("land_listing", pk=listing.pk)


@login_required
@require_POST
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk)
    try:
        signed = parse_signed(request.POST)
        services.sign_confirmation(Actor.from_request(request), listing, signed=signed)
    except DomainError as exc:
        return _error(request, listing, exc)
    messages.success(request, _("成交确认书已签署；竞买保证金转作定金并抵作土地出让价款。"))
    return redirect("land_listing", pk=listing.pk)


# --- Center staff: the refusal; the designated staff member: the reserve ----------------------------


@login_required
@require_POST
def refusal(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk)
    form = RefusalForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        services.record_refusal(Actor.from_request(request), listing, reason=str(reason))
    except DomainError as exc:
        return _error(request, listing, exc, refusal_form=form)
    messages.success(request, _("已记录竞得人放弃：保证金不予退还，并限制其参与交易。"))
    return redirect("land_listing", pk=listing.pk)


@login_required
def reserve(request: HttpRequest, pk: int) -> HttpResponse:
    """The reserve entry page: the designated staff member only (403 for anyone else)."""
    listing = _listing(request, pk)
    if request.user.pk != listing.reserve_staff_id:
        raise PermissionDenied
    now = timezone.now()
    context: dict[str, Any] = {
        "listing": listing,
        "lot": listing.lot,
        "project": listing.lot.project,
        "lock_at": services.reserve_lock_time(listing),
        "open": _reserve_open(listing, request.user, now),
        "now": now,
        "form": ReserveForm(),
    }
    if request.method != "POST":
        return render(request, "bidding/land_reserve.html", context)
    form = context["form"] = ReserveForm(request.POST)
    amount = form.data.get("amount", "")
    try:
        services.set_reserve(Actor.from_request(request), listing, str(amount))
    except DomainError as exc:
        context.update(error=exc.message, error_code=exc.code, form=ReserveForm())
        listing.refresh_from_db()
        context["open"] = _reserve_open(listing, request.user, timezone.now())
        return render(request, "bidding/land_reserve.html", context, status=exc.http_status)
    messages.success(request, _("底价已密封录入，不可更改；结果产生前任何人都无法查看。"))
    return redirect("land_listing", pk=listing.pk)


# --- The agent: setting the listing up ----------------------------------------------------------------


@login_required
def setup(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's agent puts a parcel of its published 挂牌出让 project up for listing
    (`services.create_listing`)."""
    try:
        lot: Lot = access.lot_for(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc
    project = lot.project
    if project.method != Project.Method.LAND_LISTING:
        raise Http404
    if not access.is_agent(request.user, project):
        raise PermissionDenied
    existing = LandListing.objects.filter(lot=lot).first()
    if existing is not None:
        return redirect("land_listing", existing.pk)
    context: dict[str, Any] = {"lot": lot, "project": project}
    if request.method != "POST":
        context["form"] = ListingSetupForm()
        return render(request, "bidding/land_setup.html", context)
    form = context["form"] = ListingSetupForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(
                _("请检查输入：%(errors)s") % {"errors": form.errors.as_text()},
                code="VALIDATION_ERROR",
            )
        listing = services.create_listing(Actor.from_request(request), lot, **form.service_kwargs())
    except DomainError as exc:
        context["error"], context["error_code"] = exc.message, exc.code
        return render(request, "bidding/land_setup.html", context, status=exc.http_status)
    messages.success(request, _("挂牌已设置；请通知底价录入人在锁定前录入底价。"))
    return redirect("land_listing", listing.pk)


# --- PDFs -----------------------------------------------------------------------------------------


def _pdf_error(exc: DomainError) -> HttpResponse:
    if isinstance(exc, NotFound):
        raise Http404 from exc
    return HttpResponse(
        exc.message, status=exc.http_status, content_type="text/plain; charset=utf-8"
    )


@login_required
@require_safe
def qualification_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk)
    try:
        org = pdf.readable_qualification(Actor.from_request(request), listing)
    except (NotFound, Conflict) as exc:
        return _pdf_error(exc)
    return _pdf(
        pdf.render_qualification(listing, org),
        f"land-qualification-{listing.parcel_number}-{org.uscc}.pdf",
    )


@login_required
@require_safe
def confirmation_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk)
    services.listing_state(Actor.system("land"), listing.pk)  # a close nobody watched happens here
    listing = services.get_listing(pk)
    try:
        pdf.readable_confirmation(Actor.from_request(request), listing)
    except (NotFound, Conflict) as exc:
        return _pdf_error(exc)
    return _pdf(
        pdf.render_confirmation(listing), f"land-deal-confirmation-{listing.parcel_number}.pdf"
    )
