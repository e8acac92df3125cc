"""A notice's email reaches a real SMTP server (aiosmtpd) when the clock's delivery step runs."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from notifications import delivery
from notifications.models import Delivery
from tests.notifications.support import returned_notice


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://jy.example.cn"
    settings.DEFAULT_FROM_EMAIL = "bidhall <noreply@jy.example.cn>"
    yield inbox
    controller.stop()


def test_the_clock_sends_a_notice_by_email_to_a_real_smtp_server(supplier, smtp_server):
    supplier.email = "zhang@example.cn"
    supplier.save(update_fields=["email"])
    notice = returned_notice(supplier)
    row = Delivery.objects.get(notice=notice, channel="email")
    assert row.status == "queued"
    assert smtp_server.messages == []  # nothing is sent inside the notifying transaction

    assert delivery.send_due() == 1

    ((sender, rcpt, raw),) = smtp_server.messages
    assert rcpt == ["zhang@example.cn"]
    assert sender == "noreply@jy.example.cn"
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "主体注册被退回：甲建设公司"
    assert message["To"] == "zhang@example.cn"
    assert message["Message-ID"] == f"<bidhall.delivery.{row.pk}.{notice.pk}@jy.example.cn>"
    body = message.get_content()
    chinese, english = body.split("—— English ——")
    assert "主体注册被退回：甲建设公司" in chinese
    assert "退回理由：营业执照不清晰" in chinese
    assert "https://jy.example.cn/accounts/application/" in chinese
    assert "https://jy.example.cn/notifications/preferences/" in chinese
    assert "Notification settings: https://jy.example.cn/notifications/preferences/" in english
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.sent_at is not None
    assert row.provider_ref == message["Message-ID"]
    # The step again sends nothing more.
    assert delivery.send_due() == 0
    assert len(smtp_server.messages) == 1


def test_an_unreachable_smtp_server_is_retried_with_its_answer_kept(supplier, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 5
    supplier.email = "zhang@example.cn"
    supplier.save(update_fields=["email"])
    notice = returned_notice(supplier)

    assert delivery.send_due() == 0
    row = Delivery.objects.get(notice=notice, channel="email")
    assert row.status == "queued"
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.provider_answer
    assert row.next_attempt_at is not None
    assert row.next_attempt_at > row.updated_at
