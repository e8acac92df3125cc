"""Recompute the audit chain; print the head, or name the first bad sequence and exit 1."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services import parse_expected_head, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit chain as of one moment: recompute every hash and link, and hold the chain "
        "to its head, its stored checkpoints and any head you kept (--expect-head)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help=(
                "a head kept from the published head history (/audit/heads/): the chain must hold "
                "exactly this hash at this seq and reach at least this seq. Repeatable."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            expected = [parse_expected_head(value) for value in options["expect_head"]]
        except ValueError as exc:
            raise CommandError(f"--expect-head {exc}") from None
        report = verify_chain(expected)
        if report.ok:
            self.stdout.write(report.summary())
            return
        self.stderr.write(report.summary())
        sys.exit(1)
