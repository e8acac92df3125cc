"""Check an evidence package offline: signature, file hashes, audit events, announcements, draws,
auction timelines, lotteries. Prints each problem and exits 1 on any; needs no database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit import evidence


class Command(BaseCommand):
    help = "Verify an evidence package (ZIP) offline; exit 1 on any change."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", type=Path)
        parser.add_argument(
            "--public-key",
            help="the platform's evidence public key (hex); default: this installation's",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["package"]
        if not path.is_file():
            self.stderr.write(f"{path}: no such file")
            sys.exit(2)
        problems = evidence.verify(path.read_bytes(), public_key=options["public_key"])
        if problems:
            for problem in problems:
                self.stderr.write(f"FAILED: {problem}")
            sys.exit(1)
        self.stdout.write(f"evidence package OK: {path}")
