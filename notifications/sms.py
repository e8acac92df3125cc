"""Sending a text message: a small adapter interface, an HTTP provider and the SMS simulator.

    result = sms.provider().send("13800138000", "bidhall：…", idempotency_key="delivery:42")
    result.ref, result.answer

`send` returns a `SmsResult` (the provider's reference for the message and its raw answer) or raises
`SmsFailed` carrying the provider's answer, which the caller keeps (delivery.py writes it on the
delivery, bounded). The idempotency key names the message: a provider that sees the same key again
answers with the first message instead of sending another, which is what makes a clock's retry after a
crash harmless (docs/notifications.md).

Which provider answers (`provider()`): the HTTP provider when SMS_PROVIDER_URL is set; else the
simulator while SMS_SIMULATOR is on (development and the demo; refused with DEBUG off); else none, and
every send fails with that answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction

from notifications.models import SimulatedSms

# The most of a provider's answer that is kept (the rest is cut: a provider answering with a page of
# HTML must not fill the table).
MAX_ANSWER_BYTES = 4000


@dataclass(frozen=True)
class SmsResult:
    ref: str
    answer: str


class SmsFailed(Exception):
    """The provider did not take the message. `answer` is what it said (or what went wrong reaching it)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class SmsProvider(Protocol):
    name: str

    def send(self, to: str, text: str, idempotency_key: str) -> SmsResult: ...


class HttpProvider:
    """A JSON POST to SMS_PROVIDER_URL: {"to", "text", "idempotency_key"}; the body signed with
    HMAC-SHA256 under SMS_PROVIDER_KEY (`X-Bidhall-Signature: sha256=<hex>` over
    "<X-Bidhall-Timestamp>.<body>"). A 2xx answer that is a JSON object with a string "id" is success;
    anything else (another status, a timeout, a body that is not that JSON) is a failure."""

    name = "http"

    def __init__(self, url: str, key: str, timeout: float) -> None:
        self.url = url
        self.key = key
        self.timeout = timeout

    def signature(self, timestamp: str, body: bytes) -> str:
        mac = hmac.new(self.key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        return "sha256=" + mac.hexdigest()

    def send(self, to: str, text: str, idempotency_key: str) -> SmsResult:
        body = json.dumps(
            {"to": to, "text": text, "idempotency_key": idempotency_key}, ensure_ascii=False
        ).encode()
        timestamp = str(int(time.time()))
        if urllib.parse.urlsplit(self.url).scheme not in ("http", "https"):
            raise SmsFailed("SMS_PROVIDER_URL is not an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 (scheme checked just above)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": idempotency_key,
                "X-Bidhall-Timestamp": timestamp,
                "X-Bidhall-Signature": self.signature(timestamp, body),
                "User-Agent": "bidhall-sms",
            },
        )
        try:
            # The URL is the operator's setting (http or https), not anybody's input.
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raw = exc.read(MAX_ANSWER_BYTES + 1) if exc.fp is not None else b""
            raise SmsFailed(f"HTTP {exc.code}: {_text(raw)}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsFailed(f"unreachable: {exc}") from exc
        answer = f"HTTP {status}: {_text(raw)}"
        if not 200 <= status < 300:
            raise SmsFailed(answer)
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise SmsFailed(f"malformed answer: {answer}") from exc
        ref = parsed.get("id") if isinstance(parsed, dict) else None
        if not isinstance(ref, str) or not ref or len(ref) > 100:
            raise SmsFailed(f"malformed answer: {answer}")
        return SmsResult(ref=ref, answer=answer)


def _text(raw: bytes) -> str:
    text = raw[:MAX_ANSWER_BYTES].decode("utf-8", errors="replace")
    return text + ("…" if len(raw) > MAX_ANSWER_BYTES else "")


class Simulator:
    """Keeps each text in SimulatedSms (/notifications/simulator/sms/); a repeated key is answered with
    the first message, as a provider honouring idempotency keys does."""

    name = "simulator"

    def send(self, to: str, text: str, idempotency_key: str) -> SmsResult:
        try:
            with transaction.atomic():
                message = SimulatedSms.objects.create(
                    idempotency_key=idempotency_key, to=to, text=text
                )
            replay = False
        except IntegrityError:
            message = SimulatedSms.objects.get(idempotency_key=idempotency_key)
            replay = True
        answer = json.dumps(
            {"id": message.provider_ref, "status": "accepted", "replay": replay},
            separators=(",", ":"),
        )
        return SmsResult(ref=message.provider_ref, answer=answer)


class NotConfigured:
    name = "none"

    def send(self, to: str, text: str, idempotency_key: str) -> SmsResult:
        raise SmsFailed("no SMS provider configured (SMS_PROVIDER_URL) and the simulator is off")


def simulator_enabled() -> bool:
    return bool(settings.SMS_SIMULATOR)


def provider() -> SmsProvider:
    if settings.SMS_PROVIDER_URL:
        return HttpProvider(
            settings.SMS_PROVIDER_URL,
            settings.SMS_PROVIDER_KEY,
            settings.SMS_PROVIDER_TIMEOUT_SECONDS,
        )
    if simulator_enabled():
        return Simulator()
    return NotConfigured()


def send(to: str, text: str, idempotency_key: str) -> SmsResult:
    return provider().send(to, text, idempotency_key)
