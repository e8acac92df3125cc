"""The portal's Atom feed: the latest announcements, newest (re)publication first."""

from __future__ import annotations

import datetime as dt

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from trading.models import Announcement, AnnouncementVersion, Project

FEED_SIZE = 50
FEED_FIELDS = (
    "kind",
    "title",
    "project_kind",
    "version_count",
    "first_published_at",
    "last_published_at",
    "project__number",
)


class LatestAnnouncementsFeed(Feed):
    feed_type = Atom1Feed
    title = _("公共资源交易公告")
    subtitle = _("招标、采购、变更、澄清、结果与终止公告（每条链接到公告及其全部版本）")

    def link(self) -> str:
        return reverse("portal")

    def feed_url(self) -> str:
        return reverse("portal_feed")

    def items(self) -> list[Announcement]:
        latest_first = AnnouncementVersion.objects.only(
            "announcement_id", "number", "body"
        ).order_by("-number")
        items = list(
            Announcement.objects.select_related("project")
            .only(*FEED_FIELDS)
            .prefetch_related(Prefetch("versions", queryset=latest_first, to_attr="by_number"))
            .order_by("-last_published_at", "-id")[:FEED_SIZE]
        )
        # Labels resolved once: get_FOO_display() hashes every lazy choice label on each call.
        kinds = {value: str(label) for value, label in Announcement.Kind.choices}
        project_kinds = {value: str(label) for value, label in Project.Kind.choices}
        for item in items:
            item.kind_label = kinds.get(item.kind, item.kind)
            item.project_kind_label = project_kinds.get(item.project_kind, item.project_kind)
        return items

    def item_title(self, item: Announcement) -> str:
        return f"[{item.kind_label}] {item.title}"

    def item_description(self, item: Announcement) -> str:
        latest = item.by_number[0] if item.by_number else None
        body = latest.body if latest else ""
        summary = body[:500] + ("…" if len(body) > 500 else "")
        version = _("第 %(n)s 版") % {"n": item.version_count}
        return f"{item.project.number} · {version}\n\n{summary}"

    def item_link(self, item: Announcement) -> str:
        # Also the entry's Atom id: one entry per announcement, updated by each new version.
        return reverse("announcement_detail", args=[item.pk])

    def item_pubdate(self, item: Announcement) -> dt.datetime:
        return item.first_published_at

    def item_updateddate(self, item: Announcement) -> dt.datetime:
        return item.last_published_at

    def item_categories(self, item: Announcement) -> list[str]:
        return [item.kind_label, item.project_kind_label]
