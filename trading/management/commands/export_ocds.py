"""Print one OCDS release package with the releases of every published project (open-data dump)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trading import ocds


class Command(BaseCommand):
    help = (
        "Write ONE OCDS 1.1.5 release package with every release of every published project to "
        "stdout, a release at a time. --project NUMBER limits it to one project."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", metavar="NUMBER", help="only this project (项目编号)")

    def handle(self, *args: Any, **options: Any) -> None:
        projects = ocds.published_projects()
        uri = ocds.package_uri()
        if options["project"]:
            projects = projects.filter(number=options["project"])
            project = projects.first()
            if project is None:
                raise CommandError(f"no published project numbered {options['project']!r}")
            uri = ocds.package_uri(project)
        elif not projects.exists():
            # An OCDS package must hold at least one release: say so rather than print an invalid one.
            raise CommandError("no published project to export")
        for chunk in ocds.iter_release_package(projects, uri=uri):
            self.stdout.write(chunk, ending="")
        self.stdout.flush()
