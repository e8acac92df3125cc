"""Fetch, verify and store every trusted CA's CRL now (the clock does it every
SIGNING_CRL_REFRESH_SECONDS); exits 1 when any CA's CRL could not be stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from signing.tasks import refresh_all


class Command(BaseCommand):
    help = "Fetch and verify each trusted CA's certificate revocation list (CRL)."

    def handle(self, *args: Any, **options: Any) -> None:
        results = refresh_all()
        failed = [result for result in results if not result.stored]
        for result in results:
            state = "ok" if result.stored else f"FAILED: {result.error}"
            self.stdout.write(f"{result.ca}: {state}")
        if failed:
            raise CommandError(f"{len(failed)} CA(s) without a fresh CRL")
        self.stdout.write(f"{len(results)} CRL(s) fetched")
