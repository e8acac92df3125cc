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
from clock.registry import recurring_steps, registered_steps
from clock.services import run_pass, worker_name
from clock.tasks import VERIFY_STEP, schedule_next_verification


class Command(BaseCommand):
    help = "Run due clock steps (bid deadlines, auction closes, refunds…) in a loop."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run what is due now, then exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        if not ScheduledTask.objects.filter(step=VERIFY_STEP, done_at__isnull=True).exists():
            schedule_next_verification()
        for name, start in recurring_steps().items():
            if not ScheduledTask.objects.filter(step=name, done_at__isnull=True).exists():
                start()

        worker = worker_name()
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        # Only the loop needs a graceful stop (finish the current step, then exit). `--once` keeps the
        # caller's handlers: it is also run from other programs, where Ctrl-C must still interrupt, and
        # installing handlers outside the main thread would raise.
        previous: dict[signal.Signals, Any] = {}
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, stop)
        self.stdout.write(f"clock {worker} running steps: {', '.join(registered_steps())}")
        try:
            while not stopping:
                finished = run_pass(worker)
                if finished:
                    self.stdout.write(f"clock: {finished} step(s) done")
                if once:
                    break
                time.sleep(settings.CLOCK_POLL_SECONDS)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            close_old_connections()
