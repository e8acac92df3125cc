"""Live unread badges: after a notice commits (or is read), each open page of its recipient is told the
new unread count over the page's server-clock socket (clock.consumers joins `user_group`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from notifications.models import Notice

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"notices.user.{user_id}"


def unread_frame(user_id: int) -> dict[str, object]:
    """What a user's fresh clock socket is sent first: the badge's count now (a reconnect catches up)."""
    count = Notice.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
    return {"type": "unread", "count": count}


def push_unread(user_ids: Iterable[int]) -> None:
    """Called after commit. A failed push never fails the change that caused it: the page still shows the
    right count on its next load."""
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id in user_ids:
        count = Notice.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
        try:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "notices.unread", "count": count}
            )
        except Exception:  # the channel layer is best effort here; the count is in the database
            logger.warning("unread push to user %s failed", user_id, exc_info=True)
