"""The published head history (public, no login): every head the clock verified, as a page, an Atom
feed and `/api/v1/audit/heads/`, so that anyone can keep one and later hold the platform to it
(`manage.py verify_audit --expect-head SEQ:HASH`). Nothing here but sequence numbers, hashes and times.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from audit.services import PUBLISHED_PAGE, PublishedHead, before_seq_param, published_heads
from lib.errors import DomainError

FEED_SIZE = 50


@require_safe
def page(request: HttpRequest) -> HttpResponse:
    context: dict = {"heads": [], "older": None}
    status = 200
    try:
        heads = published_heads(before_seq=before_seq_param(request.GET), limit=PUBLISHED_PAGE + 1)
    except DomainError as exc:
        context["error"], status = exc.message, exc.http_status
    else:
        context["heads"] = heads[:PUBLISHED_PAGE]
        if len(heads) > PUBLISHED_PAGE:
            context["older"] = heads[PUBLISHED_PAGE - 1].seq
    response = render(request, "audit/heads.html", context, status=status)
    response["Cache-Control"] = "public, max-age=60"
    return response


class HeadsFeed(Feed):
    feed_type = Atom1Feed
    title = _("审计链头历史")
    subtitle = _(
        "时钟每次校验通过的审计链头（序号、哈希、时间）：保存任一条，日后可核对历史未被改写。"
    )

    def link(self) -> str:
        return reverse("audit_heads")

    def feed_url(self) -> str:
        return reverse("audit_heads_feed")

    def items(self) -> list[PublishedHead]:
        return published_heads(limit=FEED_SIZE)

    def item_title(self, item: PublishedHead) -> str:
        return f"#{item.seq} {item.hash}"

    def item_description(self, item: PublishedHead) -> str:
        return f"{item.seq}:{item.hash}"

    def item_link(self, item: PublishedHead) -> str:
        return f"{reverse('audit_heads')}#seq-{item.seq}"

    def item_guid(self, item: PublishedHead) -> str:
        # One entry per head: the same seq with another hash would be another entry (and a rewrite).
        return f"urn:bidhall:audit-head:{item.seq}:{item.hash}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: PublishedHead) -> dt.datetime:
        return item.verified_at

    def item_updateddate(self, item: PublishedHead) -> dt.datetime:
        return item.verified_at
