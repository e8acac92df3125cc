"""Each user's channels per notice kind (/notifications/preferences/, /api/v1/notifications/preferences/).

Without a Preference row a kind's default channels apply (kinds.py). Two rules hold whatever is asked:
in-app cannot be switched off (PREFERENCE_INAPP_REQUIRED), and a legal kind — a deadline or a right that
lapses — keeps at least one of email and SMS (PREFERENCE_LEGAL_REQUIRED). `services.channels_for_many`
reads the same rows when it queues deliveries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import User
from audit.services import record
from lib.errors import DomainError, NotPermitted
from notifications import kinds
from notifications.models import Preference

# Kinds that are not a person's choice: a legacy message, the verification code itself, staff's own
# delivery failures.
HIDDEN_KINDS = frozenset({"message", "phone.verification"})


class PreferenceRefused(DomainError):
    code = "PREFERENCE_INVALID"


@dataclass(frozen=True)
class Row:
    kind: str
    label: str | Promise
    legal: bool
    channels: dict[str, bool]


def visible_kinds() -> list[kinds.Kind]:
    return [k for k in kinds.all_kinds() if k.code not in HIDDEN_KINDS]


def _defaults(info: kinds.Kind) -> dict[str, bool]:
    return {
        channel: channel in info.channels or channel == kinds.INAPP for channel in kinds.CHANNELS
    }


def table(user: User) -> list[Row]:
    """The user's current choice for every kind and channel, the kind's defaults filled in."""
    stored: dict[tuple[str, str], bool] = {
        (p.kind, p.channel): p.enabled for p in Preference.objects.filter(user=user)
    }
    rows = []
    for info in visible_kinds():
        channels = _defaults(info)
        for channel in kinds.CHANNELS:
            if (info.code, channel) in stored:
                channels[channel] = stored[(info.code, channel)]
        channels[kinds.INAPP] = True
        rows.append(Row(info.code, info.label, info.legal, channels))
    return rows


def update(actor: Actor, changes: Mapping[str, Mapping[str, bool]]) -> list[Row]:
    """Apply {kind: {channel: enabled}} for the acting user (kinds and channels not named keep their
    choice); the whole request is refused if any kind ends up breaking a rule."""
    user = actor.user
    if user is None or not user.is_authenticated:
        raise NotPermitted(_("请先登录。"))
    known = {k.code: k for k in visible_kinds()}
    before = {row.kind: dict(row.channels) for row in table(user)}
    current = {code: dict(channels) for code, channels in before.items()}
    for code, channels in changes.items():
        if code not in known:
            raise PreferenceRefused(_("未知的通知类别：%(kind)s"), kind=str(code)[:64])
        for channel, enabled in channels.items():
            if channel not in kinds.CHANNELS:
                raise PreferenceRefused(_("未知的通知渠道：%(channel)s"), channel=str(channel)[:16])
            if channel == kinds.INAPP and not enabled:
                raise PreferenceRefused(
                    _("站内通知不能关闭：%(kind)s"),
                    code="PREFERENCE_INAPP_REQUIRED",
                    kind=str(known[code].label),
                )
            current[code][channel] = bool(enabled)
        if known[code].legal and not any(current[code][c] for c in kinds.OUTSIDE_CHANNELS):
            raise PreferenceRefused(
                _("“%(kind)s”涉及法定期限，邮件和短信至少保留一项。"),
                code="PREFERENCE_LEGAL_REQUIRED",
                kind=str(known[code].label),
            )
    changed: list[dict[str, object]] = []
    with transaction.atomic():
        for code, channels in changes.items():
            for channel, enabled in channels.items():
                if channel == kinds.INAPP or before[code][channel] == bool(enabled):
                    continue
                Preference.objects.update_or_create(
                    user=user, kind=code, channel=channel, defaults={"enabled": bool(enabled)}
                )
                changed.append({"kind": code, "channel": channel, "enabled": bool(enabled)})
        if changed:
            record(actor, "notifications.preferences.changed", user, {"changes": changed[:200]})
    return table(user)
