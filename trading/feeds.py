"""The portal's Atom feed: the latest announcements, newest (re)publication first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


@dataclass(frozen=True)
class FeedItem:
    """One entry: the announcement with what the entry shows of it, resolved once per feed."""

    announcement: Announcement
    kind_label: str
    project_kind_label: str
    latest_body: str


class LatestAnnouncementsFeed(Feed):
    feed_type = Atom1Feed
    title = _("公共资源交易公告")
    subtitle = _("招标、采购、变更、澄清、结果与终止公告（每条链接到公告及其全部版本）")

    def link(self) -> str:
        return reverse("portal")

    def feed_url(self) -> str:
        return reverse("portal_feed")

    def items(self) -> list[FeedItem]:
        latest_first = AnnouncementVersion.objects.only(
            "announcement_id", "number", "body"
        ).order_by("-number")
        announcements = (
            Announcement.objects.select_related("project")
            .only(*FEED_FIELDS)
            .prefetch_related(Prefetch("versions", queryset=latest_first, to_attr="by_number"))
            .order_by("-last_published_at", "-id")[:FEED_SIZE]
        )
        # Labels resolved once: get_FOO_display() hashes every lazy choice label on each call.
        kinds = {value: str(label) for value, label in Announcement.Kind.choices}
        project_kinds = {value: str(label) for value, label in Project.Kind.choices}
        return [
            FeedItem(
                announcement=item,
                kind_label=kinds.get(item.kind, item.kind),
                project_kind_label=project_kinds.get(item.project_kind, item.project_kind),
                latest_body=item.by_number[0].body if item.by_number else "",
            )
            for item in announcements
        ]

    def item_title(self, item: FeedItem) -> str:
        return f"[{item.kind_label}] {item.announcement.title}"

    def item_description(self, item: FeedItem) -> str:
        body = item.latest_body
        summary = body[:500] + ("…" if len(body) > 500 else "")
        version = _("第 %(n)s 版") % {"n": item.announcement.version_count}
        return f"{item.announcement.project.number} · {version}\n\n{summary}"

    def item_link(self, item: FeedItem) -> str:
        # Also the entry's Atom id: one entry per announcement, updated by each new version.
        return reverse("announcement_detail", args=[item.announcement.pk])

    def item_pubdate(self, item: FeedItem) -> dt.datetime:
        return item.announcement.first_published_at

    def item_updateddate(self, item: FeedItem) -> dt.datetime:
        return item.announcement.last_published_at

    def item_categories(self, item: FeedItem) -> list[str]:
        return [item.kind_label, item.project_kind_label]
