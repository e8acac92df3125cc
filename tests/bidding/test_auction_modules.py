"""How the auction engine's modules depend on each other (docs/architecture.md, "Where an auction rule
lives"): reads cannot reach a transition, and no module takes another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "bidding" / "auction"
# What the read side may not import: the modules that change an auction.
WRITERS = {"bidding.auction.lifecycle", "bidding.auction.decide", "bidding.auction.create"}


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every `from module import name`, and (module, "") for `import module`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return found


def test_reading_the_room_imports_nothing_that_changes_an_auction():
    for name in ("state.py", "results.py", "participants.py"):
        imported = {module for module, _name in _imports(ENGINE / name)}
        assert not imported & WRITERS, name


def test_no_engine_module_imports_a_private_name():
    taken = [
        (path.name, module, name)
        for path in sorted(ENGINE.glob("*.py"))
        for module, name in _imports(path)
        if name.startswith("_") and name != "__future__"
    ]
    assert taken == []
