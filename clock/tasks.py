"""The clock's own step: re-verify the audit chain periodically and keep a checkpoint
(`audit.services.record_checkpoint`). It lives here, not in `audit/`, because the chain sits below the
clock in the dependency order (docs/architecture.md); the step keeps its name `audit.verify_chain`."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from audit.services import record_checkpoint
from clock.registry import step
from clock.services import schedule

VERIFY_STEP = "audit.verify_chain"


def schedule_next_verification(after: dt.datetime | None = None) -> None:
    interval = dt.timedelta(seconds=settings.AUDIT_VERIFY_INTERVAL_SECONDS)
    schedule(VERIFY_STEP, "chain", (after or timezone.now()) + interval)


@step(VERIFY_STEP)
def verify_chain_periodically(object_id: str) -> None:
    checkpoint = record_checkpoint()
    schedule_next_verification(checkpoint.verified_at)
