"""Every setting the project's code reads is declared in config/settings.py, and read without a default.

A `getattr(settings, "NAME", default)` keeps its own default next to the code, invisible to an operator
reading the settings and free to drift from any declaration; a misspelt `settings.NAME` fails only when
its line runs. So the source is read (not imported) for both forms, and each upper-case name must be
declared by config/settings.py or be one of Django's own settings (django.conf.global_settings).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from django.conf import global_settings

ROOT = Path(__file__).resolve().parents[2]
# The project's own code: its apps, shared code and configuration (not tests/ or bench/, whose
# settings modules and fixtures set names on purpose).
SOURCES = [
    "accounts",
    "audit",
    "bidding",
    "clock",
    "config",
    "deposits",
    "experts",
    "lib",
    "trading",
    "asgi.py",
]
DYNAMIC_READERS = {"getattr", "hasattr"}


def source_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def settings_reads(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(name, line, read with getattr/hasattr) for each upper-case name read from `settings`."""
    reads = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "settings"
            and node.attr.isupper()
        ):
            reads.append((node.attr, node.lineno, False))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in DYNAMIC_READERS
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "settings"
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and node.args[1].value.isupper()
        ):
            reads.append((node.args[1].value, node.lineno, True))
    return reads


def all_reads() -> list[tuple[str, str, int, bool]]:
    found = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line, dynamic in settings_reads(tree):
            found.append((name, str(path.relative_to(ROOT)), line, dynamic))
    return found


def test_the_scan_sees_the_reads_it_is_about():
    names = {name for name, *_ in all_reads()}
    assert {"BID_MASTER_KEY", "AUCTION_BIDS_PER_SECOND", "TRADING_RULES", "SITE_URL"} <= names


def test_every_setting_read_is_declared():
    project = importlib.import_module("config.settings")
    undeclared = [
        f"{path}:{line} {name}"
        for name, path, line, _ in all_reads()
        if not hasattr(project, name) and not hasattr(global_settings, name)
    ]
    assert not undeclared, "read but declared nowhere in config/settings.py: " + ", ".join(
        undeclared
    )


def test_no_setting_is_read_with_a_default_of_its_own():
    dynamic = [f"{path}:{line} {name}" for name, path, line, dynamic in all_reads() if dynamic]
    assert not dynamic, "declare these in config/settings.py and read settings.NAME: " + ", ".join(
        dynamic
    )


def test_an_undeclared_read_would_be_found():
    tree = ast.parse(
        "from django.conf import settings\n"
        "settings.NOT_DECLARED_ANYWHERE\n"
        "getattr(settings, 'ALSO_NOT_DECLARED', 1)\n"
        "api_settings.IGNORED\n"
    )
    assert settings_reads(tree) == [
        ("NOT_DECLARED_ANYWHERE", 2, False),
        ("ALSO_NOT_DECLARED", 3, True),
    ]
