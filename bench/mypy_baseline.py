"""The type-check gate of `make lint`: mypy over the project, held against `mypy-baseline.txt`.

    python bench/mypy_baseline.py            # the gate: fails on any error the baseline does not hold
    python bench/mypy_baseline.py --shrink   # rewrite the baseline without the errors since fixed

The baseline is the list of errors the project had when the gate came in, and it only shrinks: an entry
is (file, error code, message) with how many times it occurs in that file, without line numbers, so code
moving up or down a file neither breaks the gate nor hides a new error. The gate fails when

* mypy reports an error that the baseline does not hold (or more of one than it holds), or
* the baseline holds an entry under a STRICT path, or a file there has a `# type: ignore`: those
  parts of the project are fully typed, and stay so.

`--shrink` writes the baseline as it is now, and only ever removes entries or lowers counts: it refuses
while any error is new. Fixed entries are printed by the gate, so whoever fixes them shrinks the file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"

# Paths (prefixes of repository-relative file names) that must type-check with no baseline entry and no
# `# type: ignore`. Add an app's folder here once its entries are gone (bidding/auction/, all of audit/).
STRICT = (
    "lib/",
    "audit/",
    "deposits/",
    "supervision/",
    "accounts/",
    "clock/",
    "experts/",
    "trading/",
    "config/",
    "signing/",
    # The auction engine: every module that decides, moves or shows a room (its pages, forms,
    # serializers, PDF and demo are not in it yet).
    *(
        f"bidding/auction/{module}.py"
        for module in (
            "services",
            "addresses",
            "batch",
            "broadcast",
            "create",
            "decide",
            "hub",
            "lifecycle",
            "participants",
            "results",
            "rules",
            "state",
            "api",
            "tasks",
        )
    ),
)

HEADER = (
    "# mypy errors the project still has: file<TAB>error code<TAB>count<TAB>message.\n"
    "# Written by `python bench/mypy_baseline.py --shrink`; it only shrinks. See the script's docstring.\n"
)

Key = tuple[str, str, str]


def is_strict(path: str) -> bool:
    return path.startswith(STRICT)


IGNORE_COMMENT = re.compile(r"#\s*type:\s*ignore")


def ignores_in_strict_files() -> list[str]:
    """Every `# type: ignore` comment in a STRICT file, as path:line."""
    found = []
    paths: set[Path] = set()
    for prefix in STRICT:
        if prefix.endswith("/"):
            paths.update((ROOT / prefix).rglob("*.py"))
        elif (ROOT / prefix).exists():
            paths.add(ROOT / prefix)
    for path in sorted(paths):
        name = path.relative_to(ROOT).as_posix()
        if "/migrations/" in name:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if IGNORE_COMMENT.search(line):
                found.append(f"{name}:{number}")
    return found


def normalize(message: str) -> str:
    """A message without the line numbers some messages quote ("defined on line 12")."""
    return re.sub(r"\bline \d+", "line N", message)


def run_mypy() -> tuple[Counter[Key], dict[Key, list[str]]]:
    """Every error mypy reports now, counted per key, and where each key occurs (for the report)."""
    # The Django plugin loads config.settings_test; development mode whatever the caller's DEBUG, since
    # production's settings refuse the development secrets and mypy would not start.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--output", "json"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    # 0: clean, 1: errors reported; anything else (2) is mypy failing to run, e.g. settings not loading.
    if result.returncode not in (0, 1):
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"mypy did not run (exit {result.returncode})")
    errors: Counter[Key] = Counter()
    places: dict[Key, list[str]] = {}
    for line in result.stdout.splitlines():
        try:
            report = json.loads(line)
        except json.JSONDecodeError:
            sys.exit(f"mypy printed something that is not a JSON report: {line}")
        if report["severity"] != "error":
            continue
        key = (report["file"], report["code"] or "misc", normalize(report["message"]))
        errors[key] += 1
        places.setdefault(key, []).append(f"{report['file']}:{report['line']}")
    return errors, places


def read_baseline() -> Counter[Key]:
    baseline: Counter[Key] = Counter()
    if not BASELINE.exists():
        return baseline
    for number, line in enumerate(BASELINE.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        try:
            path, code, count, message = line.split("\t", 3)
            baseline[(path, code, message)] += int(count)
        except ValueError:
            sys.exit(f"{BASELINE.name}:{number}: not file<TAB>code<TAB>count<TAB>message")
    return baseline


def write_baseline(entries: Counter[Key]) -> None:
    lines = [
        f"{path}\t{code}\t{count}\t{message}\n"
        for (path, code, message), count in sorted(entries.items())
        if count > 0
    ]
    BASELINE.write_text(HEADER + "".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--shrink", action="store_true", help="drop fixed entries from the baseline (never adds)"
    )
    args = parser.parse_args()

    baseline = read_baseline()
    errors, places = run_mypy()
    new = errors - baseline
    fixed = baseline - errors
    shrunk = args.shrink and not new
    if shrunk:
        write_baseline(baseline & errors)
    kept = baseline & errors if shrunk else baseline
    strict_entries = sorted(key for key in kept if is_strict(key[0]))
    strict_ignores = ignores_in_strict_files()

    for key in sorted(new):
        path, code, message = key
        lines = ", ".join(places[key])
        sys.stdout.write(f"new: {lines}: {message}  [{code}]\n")
    for path, code, message in strict_entries:
        sys.stdout.write(f"strict path in the baseline: {path}: {message}  [{code}]\n")
    for place in strict_ignores:
        sys.stdout.write(f"type: ignore in a strict path: {place}\n")

    baseline_total = sum(baseline.values())
    fixed_total = sum(fixed.values())
    sys.stdout.write(
        f"mypy: {sum(errors.values())} errors, {baseline_total} in the baseline, "
        f"{sum(new.values())} new, {fixed_total} of the baseline fixed\n"
    )
    if args.shrink and not shrunk:
        sys.stdout.write("--shrink refused: the baseline never takes new errors; fix them first\n")
    elif shrunk:
        sys.stdout.write(f"{BASELINE.name}: {baseline_total} -> {sum(kept.values())} errors\n")
    elif fixed_total:
        sys.stdout.write(
            f"{fixed_total} baseline errors are fixed: run `python bench/mypy_baseline.py --shrink`\n"
        )
    return 1 if new or strict_entries or strict_ignores else 0


if __name__ == "__main__":
    sys.exit(main())
