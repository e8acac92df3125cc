"""The email simulator: a Django email backend that keeps each message in SimulatedEmail instead of
sending it, browsable by center staff at /notifications/simulator/email/. Development and the demo only
(EMAIL_SIMULATOR; config/settings.py refuses it with DEBUG off)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from notifications.models import SimulatedEmail


def _body_of(message: EmailMessage) -> str:
    body = message.body
    return body if isinstance(body, str) else str(body)


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        stored = 0
        for message in email_messages:
            if not message.recipients():
                continue
            headers: dict[str, Any] = {str(k): str(v) for k, v in message.extra_headers.items()}
            mime = message.message()
            SimulatedEmail.objects.create(
                message_id=str(mime.get("Message-ID", ""))[:254],
                sender=str(message.from_email)[:254],
                to=", ".join(message.recipients()),
                subject=str(message.subject)[:500],
                body=_body_of(message),
                headers=headers,
            )
            stored += 1
        return stored
