"""Load demo data (idempotent): each app's `demo.seed()` in dependency order, then each app's
`demo.seed_last()` (for data about what every app created, such as certificates for every demo user),
then print the logins."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from accounts.demo import logins


class Command(BaseCommand):
    help = "Create demo organizations, one user per role and sample data of every app (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        modules = [
            import_module(f"{app.name}.demo")
            for app in apps.get_app_configs()
            if find_spec(f"{app.name}.demo") is not None
        ]
        for module in modules:
            module.seed(self.stdout)
        for module in modules:
            if hasattr(module, "seed_last"):
                module.seed_last(self.stdout)
        self.stdout.write("Demo logins (username / password / role):")
        for username, password, role in logins():
            self.stdout.write(f"  {username:<11} {password}  {role}")
