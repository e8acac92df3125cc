"""Recompute an expert draw from its record and compare the record with its audit events; exit 1
naming what differs."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from experts.models import DrawRequest
from experts.services import verify


class Command(BaseCommand):
    help = (
        "Verify an expert draw: seed against its commitment, pool and request against their hashes, "
        "picks, and the record against its commit and draw audit events."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("draw_id", type=int)

    def handle(self, *args: Any, draw_id: int, **options: Any) -> None:
        draw = DrawRequest.objects.filter(pk=draw_id).first()
        if draw is None:
            raise CommandError(f"no draw {draw_id}")
        problems = verify(draw)
        if not problems:
            self.stdout.write(
                f"draw {draw_id} OK: seed_hash={draw.seed_hash} pool_hash={draw.pool_hash} "
                f"{draw.drawn.count()} experts recomputed"
            )
            return
        for problem in problems:
            self.stderr.write(f"draw {draw_id} BROKEN: {problem}")
        sys.exit(1)
