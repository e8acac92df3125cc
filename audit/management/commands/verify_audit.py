"""Recompute the audit chain; print the head, or name the first bad sequence and exit 1."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit chain: recompute every hash and link, and check the chain head."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if report.ok:
            self.stdout.write(report.summary())
            return
        self.stderr.write(report.summary())
        sys.exit(1)
