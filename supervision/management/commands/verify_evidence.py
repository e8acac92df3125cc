"""Check an evidence package offline: signature, file hashes, audit events, announcements, draws,
auction timelines, lotteries, and every party's signature (signed acts, electronic guarantees) against
its certificate, the certificate's chain to the included CA certificates and the CRL current then.
Prints each problem on one line and exits 1 on any; needs no database and no network.

A damaged or hostile file (not a ZIP, truncated, bit flips, a member inflating to gigabytes, names
with folders or twice the same name) is a problem like any other: one line, exit 1, no traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from supervision import evidence


class Command(BaseCommand):
    help = "Verify an evidence package (ZIP) offline; exit 1 on any change."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", type=Path)
        parser.add_argument(
            "--public-key",
            help="the platform's evidence public key (64 hex characters), as the platform publishes "
            "it; default: this installation's",
        )
        parser.add_argument(
            "--allow-dev-key",
            action="store_true",
            help="accept a package signed with the development key (public, so it proves nothing): "
            "only for packages from a development installation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["package"]
        if options["public_key"] is not None:
            try:
                evidence.parse_public_key(options["public_key"])
            except ValueError as exc:
                self.fail(f"--public-key: {exc}", code=2)
        try:
            too_large = path.stat().st_size > evidence.MAX_PACKAGE_BYTES
            data = b"" if too_large else path.read_bytes()
        except OSError as exc:
            self.fail(f"{path}: {exc.strerror or exc}", code=2)
        if too_large:
            self.fail(f"{path}: larger than {evidence.MAX_PACKAGE_BYTES} bytes")
        problems = evidence.verify(
            data, public_key=options["public_key"], allow_dev_key=options["allow_dev_key"]
        )
        if problems:
            for problem in problems:
                self.stderr.write(f"FAILED: {problem}")
            sys.exit(1)
        used_key = (options["public_key"] or evidence.public_key_hex()).strip().lower()
        if used_key == evidence.dev_public_key_hex():  # only reached with --allow-dev-key
            self.stderr.write("WARNING: verified with the development key, which proves nothing")
        self.stdout.write(f"evidence package OK: {path}")

    def fail(self, message: str, *, code: int = 1) -> NoReturn:
        self.stderr.write(f"FAILED: {message}")
        sys.exit(code)
