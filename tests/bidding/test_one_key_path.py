"""One path to a project's private key: `bidding.services.project_private_key` is the only code that
reads a wrapped key and unwraps it. The opening, a rounds auction's sealed initial bids, a land
listing's sealed values and an expert draw's seed all ask it, each at its own moment; a module that
unwrapped a key itself would open sealed values past every one of those checks."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "audit", "bidding", "clock", "config", "deposits", "experts", "lib", "trading")
THE_PATH = ("bidding/services.py", "project_private_key")


def _sources() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _places(what: type[ast.AST], matches: Callable[[Any], bool]) -> list[tuple[str, str]]:
    """(file, enclosing function) of every node of type `what` for which `matches(node)`."""
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [tree, *ast.walk(tree)]:
            if function is not tree and not isinstance(
                function, ast.FunctionDef | ast.AsyncFunctionDef
            ):
                continue
            name = getattr(function, "name", "<module>")
            body = function.body if function is not tree else tree.body
            for statement in body:
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue  # counted under its own name
                for node in ast.walk(statement):
                    if isinstance(node, what) and matches(node):
                        found.append((str(path.relative_to(ROOT)), name))
    return sorted(set(found))


def _called(name: str) -> Callable[[Any], bool]:
    def matches(node: ast.Call) -> bool:
        target = node.func
        return (isinstance(target, ast.Attribute) and target.attr == name) or (
            isinstance(target, ast.Name) and target.id == name
        )

    return matches


def test_only_project_private_key_unwraps_a_key():
    assert _places(ast.Call, _called("unwrap_private_key")) == [THE_PATH]


def test_only_project_private_key_reads_a_wrapped_key():
    reads = _places(
        ast.Attribute,
        lambda node: node.attr == "wrapped_private_key" and isinstance(node.ctx, ast.Load),
    )
    assert reads == [THE_PATH]


def test_only_the_crypto_module_makes_a_private_key_from_bytes():
    makers = _places(ast.Call, _called("PrivateKey"))
    assert {path for path, _function in makers} == {"bidding/crypto.py"}
