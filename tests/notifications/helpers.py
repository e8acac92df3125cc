"""Reading the notices an event produced, and what each one shows its reader."""

from __future__ import annotations

from collections import defaultdict

from notifications.models import Notice


def who(kind: str) -> set[str]:
    """The usernames that received notices of `kind`."""
    return set(Notice.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def per_person(kind: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for name in Notice.objects.filter(kind=kind).values_list("recipient__username", flat=True):
        counts[name] += 1
    return dict(counts)


def shown(notice: Notice) -> str:
    """Everything a notice puts in front of its reader, by any channel: title, body, link, params."""
    return "\n".join(
        [notice.title, notice.body, notice.url, *(str(v) for v in notice.params.values())]
    )
