"""Helpers of the notification tests: a notice with email and SMS deliveries, a fake SMS provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.models import Notice
from notifications.services import notify


def verify_phone(user: User, number: str = "13800138000") -> User:
    User.objects.filter(pk=user.pk).update(phone=number, phone_verified_at=timezone.now())
    user.refresh_from_db()
    return user


def returned_notice(user: User, cause: str = "test:returned:1") -> Notice:
    """A notice of a kind sent on every channel: in-app, email and SMS (organization.returned)."""
    with transaction.atomic():
        (notice,) = notify(
            "organization.returned",
            [user],
            cause=cause,
            params={"organization": "甲建设公司", "reasons": "营业执照不清晰"},
            url="/accounts/application/",
        )
    return notice


@dataclass
class FakeProvider:
    """Answers each POST with the next (status, body) of `answers` (the last one repeats)."""

    answers: list[tuple[int, str]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@contextmanager
def fake_sms_provider(answers: list[tuple[int, str]]) -> Iterator[FakeProvider]:
    fake = FakeProvider(list(answers))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            fake.requests.append(
                {"headers": dict(self.headers.items()), "body": json.loads(body), "raw": body}
            )
            index = min(len(fake.requests) - 1, len(fake.answers) - 1)
            status, text = fake.answers[index]
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
