"""The clock sends queued email and SMS deliveries (docs/notifications.md, "Delivery").

One recurring clock step, `notifications.send_deliveries`, runs every NOTIFY_SWEEP_SECONDS and sends what
is due (`send_due`). Each delivery goes through three short steps, never holding a row lock while it
talks to the outside:

1. **claim** — one conditional UPDATE moves it from `queued` (due) or `sending` with an expired lease to
   `sending`, with a lease (`next_attempt_at` = now + NOTIFY_SEND_LEASE_SECONDS), a claim token
   (`leased_by`) and one more attempt. Only one process sees its row count go to 1; a clock killed
   after claiming leaves the delivery to another once the lease is over.
2. **send** — email through Django's email framework with a deterministic Message-ID (the delivery's
   id), SMS through `sms.provider()` with the delivery's id as the idempotency key.
3. **record** — in its own transaction, and only while the claim token is still ours: `sent` with
   sent_at, the provider's reference and its answer (bounded); or, on failure, the answer and the next
   attempt after an exponential back-off (NOTIFY_RETRY_BASE_SECONDS × 2^(attempt−1), at most
   NOTIFY_RETRY_MAX_SECONDS); after NOTIFY_MAX_ATTEMPTS `failed`, audited, and center staff told.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.permissions import require_perm
from accounts.tokens import absolute
from audit.services import record
from clock.registry import recurring, step
from clock.services import schedule, worker_name
from lib.errors import Conflict
from lib.text import clip
from notifications import kinds, recipients, sms
from notifications.models import Delivery, Notice
from notifications.services import notify

log = logging.getLogger(__name__)

SEND_STEP = "notifications.send_deliveries"
OUTSIDE = (kinds.EMAIL, kinds.SMS)
MAX_ANSWER_CHARS = 2000
SMS_TITLE_CHARS = 60
CLOCK = Actor.system("clock")


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt."""
    base = max(1, int(settings.NOTIFY_RETRY_BASE_SECONDS))
    cap = max(base, int(settings.NOTIFY_RETRY_MAX_SECONDS))
    seconds = base * 2 ** min(max(attempts - 1, 0), 30)
    return dt.timedelta(seconds=min(seconds, cap))


def _free(now: dt.datetime) -> Q:
    return Q(status=Delivery.Status.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ) | Q(status=Delivery.Status.SENDING, next_attempt_at__lt=now)


def due_ids(now: dt.datetime, limit: int = 100) -> list[int]:
    rows = Delivery.objects.filter(_free(now), channel__in=OUTSIDE).order_by(
        "next_attempt_at", "pk"
    )
    return list(rows.values_list("pk", flat=True)[:limit])


def claim(delivery_id: int, now: dt.datetime, worker: str) -> str | None:
    """Take one delivery for sending; its claim token, or None when another process holds it."""
    token = f"{worker}/{uuid.uuid4().hex[:12]}"[:100]
    lease = dt.timedelta(seconds=settings.NOTIFY_SEND_LEASE_SECONDS)
    claimed = Delivery.objects.filter(_free(now), pk=delivery_id, channel__in=OUTSIDE).update(
        status=Delivery.Status.SENDING,
        next_attempt_at=now + lease,
        leased_by=token,
        attempts=F("attempts") + 1,
    )
    return token if claimed == 1 else None


# --- What is sent ---------------------------------------------------------------------------------


def message_id(delivery: Delivery) -> str:
    """The same Message-ID for every attempt of one delivery: a mail server or reader that receives a
    second copy (a clock killed between the server's acceptance and our record) can tell it is one."""
    host = urlsplit(settings.SITE_URL).hostname or "bidhall.localhost"
    return f"<bidhall.delivery.{delivery.pk}.{delivery.notice_id}@{host}>"


def notice_link(notice: Notice) -> str:
    return absolute(notice.url or reverse("home"))


def short_link(notice: Notice) -> str:
    return absolute(reverse("notice_link", args=[notice.pk]))


def _email_section(notice: Notice, language: str) -> str:
    with translation.override(language):
        lines = [notice.title]
        if notice.body:
            lines.append(notice.body)
        lines += [
            "",
            gettext("查看：%(link)s") % {"link": notice_link(notice)},
            gettext("通知设置：%(link)s") % {"link": absolute(reverse("notification_preferences"))},
        ]
    return "\n".join(lines)


def compose_email(delivery: Delivery) -> EmailMessage:
    """Subject: the notice's title; body: the Chinese rendering, then the English one."""
    notice = delivery.notice
    with translation.override("zh-hans"):
        subject = notice.title
    body = "\n\n".join(
        [
            _email_section(notice, "zh-hans"),
            "—— English ——",
            _email_section(notice, "en"),
        ]
    )
    return EmailMessage(
        subject=clip(subject.replace("\n", " "), 200),
        body=body + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={"Message-ID": message_id(delivery)},
    )


def sms_text(notice: Notice) -> str:
    """A short text: the title (Chinese) and a short link to the notice."""
    with translation.override("zh-hans"):
        title = clip(notice.title, SMS_TITLE_CHARS)
    return f"【bidhall】{title} {short_link(notice)}"


def idempotency_key(delivery: Delivery) -> str:
    return f"bidhall-delivery-{delivery.pk}"


def _send(delivery: Delivery) -> tuple[str, str]:
    """Send one delivery; (provider reference, answer). Raises sms.SmsFailed or the backend's error."""
    if delivery.channel == kinds.EMAIL:
        email = compose_email(delivery)
        sent = email.send(fail_silently=False)
        if sent != 1:
            raise RuntimeError(f"the email backend accepted {sent} messages")
        return message_id(delivery), f"accepted by {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}"
    result = sms.send(delivery.address, sms_text(delivery.notice), idempotency_key(delivery))
    return result.ref, result.answer


# --- Recording the outcome ------------------------------------------------------------------------


def _record_sent(delivery: Delivery, token: str, ref: str, answer: str) -> bool:
    with transaction.atomic():
        done = Delivery.objects.filter(
            pk=delivery.pk, leased_by=token, status=Delivery.Status.SENDING
        ).update(
            status=Delivery.Status.SENT,
            sent_at=timezone.now(),
            provider_ref=clip(ref, 100),
            provider_answer=clip(answer, MAX_ANSWER_CHARS),
            next_attempt_at=None,
            leased_by="",
        )
    if not done:
        log.warning("delivery %s was sent after its lease ended", delivery.pk)
    return bool(done)


def _record_failure(delivery: Delivery, token: str, answer: str) -> None:
    now = timezone.now()
    answer = clip(answer, MAX_ANSWER_CHARS)
    with transaction.atomic():
        mine = Delivery.objects.select_for_update().filter(
            pk=delivery.pk, leased_by=token, status=Delivery.Status.SENDING
        )
        current = mine.first()
        if current is None:
            return
        if current.attempts < settings.NOTIFY_MAX_ATTEMPTS:
            mine.update(
                status=Delivery.Status.QUEUED,
                provider_answer=answer,
                next_attempt_at=now + backoff(current.attempts),
                leased_by="",
            )
            return
        mine.update(
            status=Delivery.Status.FAILED,
            provider_answer=answer,
            next_attempt_at=None,
            leased_by="",
        )
        record(
            CLOCK,
            "notifications.delivery.failed",
            current,
            {
                "channel": current.channel,
                "notice": current.notice_id,
                "attempts": current.attempts,
                "answer": clip(answer, 300),
            },
        )
        notify(
            "delivery.failed",
            recipients.center_staff(),
            cause=f"delivery.failed:{current.pk}:{now.isoformat()}",
            params={
                "channel": current.get_channel_display(),
                "address": current.address,
                "answer": clip(answer, 200),
            },
            url=reverse("delivery_monitor") + "?status=failed",
        )


def send_one(
    delivery_id: int, *, worker: str | None = None, now: dt.datetime | None = None
) -> bool:
    """Claim, send and record one delivery; True if this call sent it."""
    token = claim(delivery_id, now or timezone.now(), worker or worker_name())
    if token is None:
        return False
    delivery = Delivery.objects.select_related("notice__recipient").get(pk=delivery_id)
    try:
        ref, answer = _send(delivery)
    except sms.SmsFailed as exc:
        _record_failure(delivery, token, exc.answer)
        return False
    except Exception as exc:  # SMTP and socket errors: the answer is what went wrong
        log.warning("delivery %s failed", delivery_id, exc_info=True)
        _record_failure(delivery, token, f"{type(exc).__name__}: {exc}")
        return False
    return _record_sent(delivery, token, ref, answer)


def send_due(now: dt.datetime | None = None, *, limit: int = 100, worker: str | None = None) -> int:
    """Send every email and SMS delivery due at `now`; how many were sent."""
    now = now or timezone.now()
    worker = worker or worker_name()
    return sum(
        send_one(pk, worker=worker, now=max(now, timezone.now())) for pk in due_ids(now, limit)
    )


# --- Staff: retrying a failed delivery ------------------------------------------------------------


class NotFailed(Conflict):
    code = "DELIVERY_NOT_FAILED"


def retry(actor: Actor, delivery: Delivery) -> Delivery:
    """Queue a failed delivery again with a fresh count of attempts (center staff; audited)."""
    require_perm(actor, "notifications.retry_delivery", delivery)
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != Delivery.Status.FAILED:
            raise NotFailed(_("只有发送失败的通知可以重新发送。"))
        previous = locked.provider_answer
        locked.status = Delivery.Status.QUEUED
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
        record(
            actor,
            "notifications.delivery.retried",
            locked,
            {"channel": locked.channel, "notice": locked.notice_id, "answer": clip(previous, 300)},
        )
    return locked


# --- The clock step -------------------------------------------------------------------------------


def schedule_next_sweep(after: dt.datetime | None = None) -> None:
    interval = dt.timedelta(seconds=max(1, settings.NOTIFY_SWEEP_SECONDS))
    schedule(SEND_STEP, "sweep", (after or timezone.now()) + interval)


@step(SEND_STEP)
def send_deliveries(object_id: str) -> None:
    try:
        send_due()
    finally:
        schedule_next_sweep()


recurring(SEND_STEP, schedule_next_sweep)
