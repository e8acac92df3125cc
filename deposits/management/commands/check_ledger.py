"""Verify every ledger invariant; exit 1 naming what broke."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from deposits.checks import check_ledger


class Command(BaseCommand):
    help = "Check the deposit ledger: balanced entries, custody = bank in − out, no negative sub-account."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = check_ledger()
        if not problems:
            self.stdout.write("ledger OK")
            return
        for problem in problems:
            self.stderr.write(f"ledger BROKEN: {problem}")
        sys.exit(1)
