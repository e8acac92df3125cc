"""Load demo data (idempotent): each app's `demo.seed()` in dependency order, then print the logins."""

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
        for app in apps.get_app_configs():
            module_name = f"{app.name}.demo"
            if find_spec(module_name) is None:
                continue
            import_module(module_name).seed(self.stdout)
        self.stdout.write("Demo logins (username / password / role):")
        for username, password, role in logins():
            self.stdout.write(f"  {username:<11} {password}  {role}")
