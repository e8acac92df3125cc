"""The apps' dependency order, enforced (docs/architecture.md, "Dependency order").

Every project module is read with `ast` (nothing is imported), and every `import` / `from … import`
naming a project module is an edge from its app to the imported app — at module top, inside
`if TYPE_CHECKING:`, and inside functions alike: an import hidden in a function is still a dependency.
The test fails on

- an upward import: an app importing an app above it in `LAYERS` (or a package no layer names);
- a cycle: modules of different apps that reach each other through imports (a strongly connected
  component of the module graph that spans two apps);
- function-local imports of project modules above `FUNCTION_LOCAL_CEILING`: they were how cycles were
  dodged. Not counted: `AppConfig.ready` in `apps.py` (Django loads apps.py before any model exists,
  so what it registers is imported there) and migrations (frozen history, run only by `migrate`).

Run it as a script (`.venv/bin/python tests/config/test_import_layers.py`) to print the figures and
every offender.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Bottom first. An app may import its own modules and any app before it in this list, never one after.
LAYERS: tuple[str, ...] = (
    "lib",
    "audit",
    "accounts",
    "clock",
    "notifications",
    "signing",
    "trading",
    "deposits",
    "experts",
    "bidding",
    "contracts",
    "frameworks",
    "complaints",
    "supervision",
    "config",
)
# Top-level modules that belong to a layer without being a package of that name.
MODULE_LAYER = {"asgi": "config", "manage": "config"}

# Function-local imports of project modules still allowed. All 16 are in bidding/auction/services.py,
# which is being split by another change; lower the ceiling as they move to the module top.
FUNCTION_LOCAL_CEILING = 0


@dataclass(frozen=True)
class Import:
    source: str  # dotted module doing the import
    target: str  # dotted project module imported (the longest prefix that is a module or package)
    line: int
    local: bool  # inside a function or method body
    in_function: str = ""  # the innermost function's name, for a local import

    @property
    def source_app(self) -> str:
        return app_of(self.source)

    @property
    def target_app(self) -> str:
        return app_of(self.target)

    def where(self) -> str:
        return f"{self.source.replace('.', '/')}.py:{self.line} imports {self.target}"


def app_of(module: str) -> str:
    top = module.split(".", 1)[0]
    return MODULE_LAYER.get(top, top)


def project_files() -> dict[str, Path]:
    """Dotted module name → file, for every module of every layer (migrations included)."""
    modules: dict[str, Path] = {}
    for layer in LAYERS:
        folder = ROOT / layer
        if folder.is_dir():
            for path in sorted(folder.rglob("*.py")):
                parts = list(path.relative_to(ROOT).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                modules[".".join(parts)] = path
    for name in MODULE_LAYER:
        path = ROOT / f"{name}.py"
        if path.exists():
            modules[name] = path
    return modules


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    # A package's own name is its first level; a module's first level is its package.
    drop = node.level - 1 if is_package else node.level
    base = base[: len(base) - drop] if drop else base
    return ".".join([*base, node.module] if node.module else base)


def _project_target(name: str, modules: dict[str, Path]) -> str | None:
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, function: str) -> None:
        local = bool(function)
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else ""
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _project_target(alias.name, modules)
                    if target:
                        found.append(Import(module, target, child.lineno, local, function))
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, is_package, child)
                for alias in child.names:
                    # `from pkg import mod` imports the module pkg.mod when there is one.
                    target = _project_target(f"{base}.{alias.name}", modules)
                    target = target or _project_target(base, modules)
                    if target:
                        found.append(Import(module, target, child.lineno, local, function))
            visit(child, inner or function)

    visit(tree, "")
    # One edge per statement and target: `from x import a, b` is one import of x.
    return [i for i in dict.fromkeys(found) if i.target != module]


def all_imports() -> list[Import]:
    modules = project_files()
    found: list[Import] = []
    for module, path in modules.items():
        found.extend(imports_of(module, path, modules))
    return found


def upward(found: list[Import]) -> list[Import]:
    rank = {layer: position for position, layer in enumerate(LAYERS)}
    return [
        i
        for i in found
        if i.source_app != i.target_app
        and rank.get(i.target_app, len(LAYERS)) > rank.get(i.source_app, -1)
    ]


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    nodes = set(edges) | {t for targets in edges.values() for t in targets}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def cycles(found: list[Import], *, top_only: bool = False) -> list[list[str]]:
    """Groups of modules of more than one app that import each other (directly or around a loop)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for i in found:
        if not (top_only and i.local):
            edges[i.source].add(i.target)
    return [c for c in _components(edges) if len({app_of(m) for m in c}) > 1]


def app_cycles(found: list[Import]) -> list[list[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for i in found:
        if i.source_app != i.target_app:
            edges[i.source_app].add(i.target_app)
    return _components(edges)


def _exempt_from_ceiling(i: Import) -> bool:
    parts = i.source.split(".")
    return "migrations" in parts or (parts[-1] == "apps" and i.in_function == "ready")


def function_local(found: list[Import]) -> list[Import]:
    return [i for i in found if i.local and not _exempt_from_ceiling(i)]


def test_no_upward_import() -> None:
    offenders = upward(all_imports())
    assert not offenders, "imports pointing up the dependency order:\n" + "\n".join(
        i.where() for i in offenders
    )


def test_no_cycle_between_apps() -> None:
    found = all_imports()
    assert not app_cycles(found), app_cycles(found)
    assert not cycles(found), cycles(found)


def test_function_local_imports_stay_under_the_ceiling() -> None:
    offenders = function_local(all_imports())
    assert len(offenders) <= FUNCTION_LOCAL_CEILING, (
        f"{len(offenders)} function-local imports of project modules (ceiling "
        f"{FUNCTION_LOCAL_CEILING}); move them to the module top:\n"
        + "\n".join(i.where() for i in offenders)
    )


def test_the_checker_sees_every_app() -> None:
    """A renamed or new app must be placed in LAYERS, or its imports would go unchecked."""
    apps = {
        p.name for p in ROOT.iterdir() if (p / "apps.py").exists() or (p / "__init__.py").exists()
    }
    apps -= {"tests", "bench", "docs", "locale", "static", "templates"}
    assert apps <= set(LAYERS), apps - set(LAYERS)


def test_the_checker_catches_what_it_is_for() -> None:
    """An upward import, a cycle across apps, and a local import are each seen."""
    up = Import("trading.services", "bidding.models", 1, local=True, in_function="f")
    down = Import("bidding.models", "trading.models", 1, local=False)
    back = Import("trading.models", "bidding.models", 1, local=False)
    assert upward([up, down]) == [up]
    assert cycles([down, back]) == [["bidding.models", "trading.models"]]
    assert app_cycles([down, back]) == [["bidding", "trading"]]
    assert function_local([up, down]) == [up]
    ready = Import("bidding.apps", "bidding.services", 1, local=True, in_function="ready")
    assert function_local([ready]) == []


def report() -> None:
    found = all_imports()
    up = upward(found)
    local = function_local(found)
    print(f"imports of project modules: {len(found)}")
    print(f"app-level cycles: {len(app_cycles(found))} {app_cycles(found)}")
    print(f"module cycles spanning apps (all imports): {len(cycles(found))}")
    for c in cycles(found):
        print("  ", len(c), "modules:", ", ".join(c[:12]), "…" if len(c) > 12 else "")
    print(f"module cycles spanning apps (module top only): {len(cycles(found, top_only=True))}")
    for c in cycles(found, top_only=True):
        print("  ", ", ".join(c))
    print(
        f"upward imports: {len(up)} (top {sum(not i.local for i in up)}, local {sum(i.local for i in up)})"
    )
    for i in up:
        print("  ", i.where(), "(local)" if i.local else "")
    print(f"function-local imports of project modules: {len(local)}")
    if "-v" in sys.argv:
        for i in local:
            print("  ", i.where())


if __name__ == "__main__":
    report()
