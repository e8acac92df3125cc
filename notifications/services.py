"""The one notification service. Every app calls `notify` inside the transaction of the change it tells
about: the notices and their deliveries commit or roll back with that change, in-app notices reach open
pages after commit (live.py), and the clock sends email and SMS (delivery.py).

    notify("deposit.refunded", recipients.members(org, OrgRole.FINANCE),
           cause=f"deposit.refunded:{refund.pk}", params={"lot": str(lot), "amount": "5000.00"},
           url=reverse("my_deposits"))

`cause` names why the notice exists; the same cause never reaches the same person twice, so a service or a
clock step that runs again (a retry, a restart) notifies nobody again. Callers put into `params` only what
the recipient may see at that moment — never another bidder's name or price before the rule reveals it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from lib.text import clip
from notifications import kinds, live
from notifications.models import Delivery, Notice, Preference

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Each parameter is a short piece of text shown in a line or two; a caller passing a document is a bug.
MAX_PARAM_CHARS = 500
MAX_CAUSE_CHARS = 200


def notify(
    kind: str,
    recipients: Iterable[User],
    *,
    cause: str,
    params: Mapping[str, object] | None = None,
    url: str = "",
    due_at: dt.datetime | None = None,
) -> list[Notice]:
    """Notify each recipient once for `cause`; returns the notices created now (none for a repeat)."""
    info = kinds.get(kind)  # an unknown kind is a programming error: KeyError
    if len(cause) > MAX_CAUSE_CHARS:
        raise ValueError(f"notice cause longer than {MAX_CAUSE_CHARS}: {cause[:50]}…")
    clean = {str(k): clip(v, MAX_PARAM_CHARS) for k, v in (params or {}).items()}
    people = {user.pk: user for user in recipients if user.is_active}
    if not people:
        return []
    with transaction.atomic():
        already = set(
            Notice.objects.filter(cause=cause, recipient_id__in=people).values_list(
                "recipient_id", flat=True
            )
        )
        now = timezone.now()
        fresh = [
            Notice(
                recipient=user,
                kind=kind,
                cause=cause,
                params=clean,
                url=url[:300],
                due_at=due_at,
                created_at=now,
            )
            for pk, user in sorted(people.items())
            if pk not in already
        ]
        if not fresh:
            return []
        # A concurrent call with the same cause loses on the unique constraint and creates nothing.
        Notice.objects.bulk_create(fresh, ignore_conflicts=True)
        created = list(
            Notice.objects.filter(
                cause=cause, recipient_id__in=[n.recipient.pk for n in fresh], created_at=now
            ).select_related("recipient")
        )
        chosen = channels_for_many([n.recipient for n in created], info)
        Delivery.objects.bulk_create(
            [
                delivery
                for notice in created
                for delivery in _deliveries(notice, chosen[notice.recipient.pk], now)
            ],
            ignore_conflicts=True,
        )
        user_ids = sorted({n.recipient.pk for n in created})
        transaction.on_commit(lambda: live.push_unread(user_ids))
    return created


def moment_text(moment: dt.datetime | None) -> str:
    """A moment as a notice states it: Beijing wall time to the minute ("" for none). Explicitly in
    Asia/Shanghai, not the active time zone: the text is stored in the notice's parameters."""
    return "" if moment is None else timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _deliveries(notice: Notice, channels: set[str], now: dt.datetime) -> list[Delivery]:
    rows = [Delivery(notice=notice, channel=kinds.INAPP, status=Delivery.Status.SENT, sent_at=now)]
    user = notice.recipient
    if kinds.EMAIL in channels and user.email:
        rows.append(
            Delivery(notice=notice, channel=kinds.EMAIL, address=user.email, next_attempt_at=now)
        )
    if kinds.SMS in channels and user.phone and user.phone_verified_at:
        rows.append(
            Delivery(notice=notice, channel=kinds.SMS, address=user.phone, next_attempt_at=now)
        )
    return rows


def channels_for_many(users: list[User], info: kinds.Kind) -> dict[int, set[str]]:
    """The channels each user receives `info` on: the kind's defaults, then the user's own choices. In-app
    is always on; a legal kind keeps its outside channels when a user switched all of them off (the
    preference page refuses that, this is the floor for rows written some other way)."""
    chosen: dict[int, set[str]] = {user.pk: set(info.channels) | {kinds.INAPP} for user in users}
    for pref in Preference.objects.filter(user__in=users, kind=info.code):
        if pref.enabled:
            chosen[pref.user_id].add(pref.channel)
        elif pref.channel != kinds.INAPP:
            chosen[pref.user_id].discard(pref.channel)
    if info.legal:
        for channels in chosen.values():
            if not channels & set(kinds.OUTSIDE_CHANNELS):
                channels.update(set(info.channels) & set(kinds.OUTSIDE_CHANNELS))
    return chosen


# --- Reading and marking (the reader's own view state: not audited, like read marks before) -----------


def unread_count(user: User) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: User, notice_id: int | None = None) -> Notice | None:
    """Mark one notice (or all) of this user read. Raises Notice.DoesNotExist for anyone else's notice."""
    own = Notice.objects.filter(recipient=user)
    now = timezone.now()
    if notice_id is None:
        changed = own.filter(read_at__isnull=True).update(read_at=now)
        notice = None
    else:
        notice = own.get(pk=notice_id)
        changed = 0
        if notice.read_at is None:
            changed = own.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
            notice.read_at = now
    if changed:
        transaction.on_commit(lambda: live.push_unread([user.pk]))
    return notice
