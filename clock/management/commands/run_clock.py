"""The background clock: run due time-based steps, forever (or once with --once).

Run one or several; they share the work through leases. Nothing depends on this being punctual:
services check the time themselves, and a step that runs late does what it would have done on time.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from clock.models import ScheduledTask
from clock.registry import registered_steps
from clock.services import run_due, worker_name


class Command(BaseCommand):
    help = "Run due clock steps (bid deadlines, auction closes, refunds…) in a loop."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run what is due now, then exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        from audit.tasks import VERIFY_STEP, schedule_next_verification

        if not ScheduledTask.objects.filter(step=VERIFY_STEP, done_at__isnull=True).exists():
            schedule_next_verification()

        worker = worker_name()
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"clock {worker} running steps: {', '.join(registered_steps())}")
        while not stopping:
            close_old_connections()
            finished = run_due(worker=worker)
            if finished:
                self.stdout.write(f"clock: {finished} step(s) done")
            if once:
                break
            time.sleep(settings.CLOCK_POLL_SECONDS)
        close_old_connections()
