"""The auction's result PDF (网上竞价结果) as a page route: `auctions/<id>/result.pdf`.

Thin: check who may read it (404 otherwise) and that it is finished (409 otherwise; the clock closes a
room on time), then render outside any transaction — with identities only where the rule allows them
(`services.identified`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from accounts.actors import Actor
from bidding.auction import pdf, services
from lib.errors import Conflict, NotFound


@login_required
@require_safe
def result_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        auction = services.get_auction(pk)
        actor = Actor.from_request(request)
        auction = pdf.readable_result(actor, auction)
        identified = services.identified(services.viewer_kind(actor, auction) or "", auction)
    except NotFound as exc:
        raise Http404 from exc
    except Conflict as exc:
        return HttpResponse(
            exc.message, status=exc.http_status, content_type="text/plain; charset=utf-8"
        )
    lot = auction.lot
    response = HttpResponse(
        pdf.render_result(auction, identified=identified), content_type="application/pdf"
    )
    response["Content-Disposition"] = content_disposition_header(
        False, f"auction-result-{lot.project.number}-{lot.number}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response
