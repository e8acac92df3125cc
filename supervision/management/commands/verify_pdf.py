"""Check the platform's signature on a PDF it issued: present, intact, covering the whole file, made by
the platform's document certificate. Prints the signer and signing time; exits 1 when the signature is
missing or broken, 2 when the file cannot be read. Needs no database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

from cryptography import x509
from django.core.management.base import BaseCommand, CommandParser

from lib.pdfsign import verify_pdf

MAX_PDF_BYTES = 200 * 1024 * 1024


class Command(BaseCommand):
    help = "Verify the platform's PAdES signature on a PDF; exit 1 when it is missing or broken."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pdf", type=Path)
        parser.add_argument(
            "--certificate",
            type=Path,
            help="PEM certificate chain (leaf first) the document must be signed with; default: this "
            "installation's PDF_SIGNING_CERTIFICATE. Give the previous one for documents signed "
            "before a rotation.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["pdf"]
        chain: list[x509.Certificate] | None = None
        if options["certificate"] is not None:
            try:
                chain = x509.load_pem_x509_certificates(options["certificate"].read_bytes())
            except OSError as exc:
                self.fail(f"{options['certificate']}: {exc.strerror or exc}", code=2)
            except ValueError:
                self.fail(f"{options['certificate']}: not PEM certificates", code=2)
        try:
            if path.stat().st_size > MAX_PDF_BYTES:
                self.fail(f"{path}: larger than {MAX_PDF_BYTES} bytes", code=2)
            data = path.read_bytes()
        except OSError as exc:
            self.fail(f"{path}: {exc.strerror or exc}", code=2)
        check = verify_pdf(data, certificates=chain)
        if check.signed:
            when = check.signed_at.isoformat() if check.signed_at else "unknown"
            self.stdout.write(f"signer: {check.signer}")
            self.stdout.write(f"certificate SHA-256: {check.signer_sha256}")
            self.stdout.write(
                f"signing time: {when}"
                + (" (RFC 3161 timestamp)" if check.timestamped else " (the platform's statement)")
            )
        if not check.ok:
            for problem in check.problems:
                self.stderr.write(f"FAILED: {problem}")
            sys.exit(1)
        if check.development:
            self.stderr.write(
                "WARNING: signed with the development certificate, whose key is public: proves nothing"
            )
        self.stdout.write(f"signature OK: {path}")

    def fail(self, message: str, *, code: int = 1) -> NoReturn:
        self.stderr.write(f"FAILED: {message}")
        sys.exit(code)
