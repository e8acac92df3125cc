"""Write a project's evidence package (ZIP) — what supervisors download from the project's page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supervision import evidence
from trading.models import Project


class Command(BaseCommand):
    help = (
        "Export a project's evidence package: manage.py export_evidence <project number> -o out.zip"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("-o", "--output", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(number=options["project"]).first()
        if project is None:
            raise CommandError(f"no project {options['project']}")
        output = options["output"] or Path(f"evidence-{project.number}.zip")
        output.write_bytes(evidence.build(project))
        self.stdout.write(f"wrote {output}")
        # Only possible with DEBUG on: the settings refuse the development key otherwise.
        if evidence.signs_with_dev_key():
            self.stderr.write(
                "WARNING: signed with the development key, which proves nothing; verify_evidence "
                "refuses it without --allow-dev-key"
            )
