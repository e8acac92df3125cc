"""A bounded schemathesis pass over the whole API, as every demo role, plus a targeted probe of unsafe
text (NUL, lone surrogates, invalid UTF-8) in every query parameter, JSON field and form field.

    make fuzz-api                                     # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bidhall make fuzz-api    # PostgreSQL
    python bench/schemathesis_pass.py --examples 10 --roles staff,anonymous --no-probe

What it does:
1. creates a throwaway database — SQLite in a temporary folder, or `<DATABASE_URL's name>_fuzz` on
   the PostgreSQL server of DATABASE_URL (dropped at the end unless --keep) —, migrates it and loads
   the demo data (`manage.py seed_demo`);
2. starts daphne on a free local port with DEBUG off (production error handling; the development
   secrets passed explicitly, it is a throwaway database);
3. logs in as each role (staff, supervisor, agent, supplier, landbidder, expert — the demo password —
   and anonymous) and runs `schemathesis run` against /api/v1/schema/ with the checks
   not_a_server_error, status_code_conformance, content_type_conformance and
   response_schema_conformance, `--max-examples` per operation and a fixed seed;
4. probes every operation's query parameters, JSON fields and form fields with NUL and a lone
   surrogate (`\\ud800` in JSON, its UTF-8-like bytes and an invalid byte in query strings and
   forms): NUL and JSON surrogates must be refused with 400 TEXT_INVALID_CHAR — or, in a multipart
   body, which is read only by a view that may read it, with the view's own 401/403/404/409 —,
   nothing may answer 5xx or anything but the JSON error shape;
5. prints a table per role (operations, test cases, failures by kind, server errors) and writes
   everything (schemathesis' JSON reports and output, the probe's failures, daphne's log) to
   --report-dir. Exits non-zero when anything answered 5xx.

Results of the last run are in docs/performance.md ("API fuzzing").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode, urlsplit, urlunsplit

import requests
from auction_common import random_like, secret_names

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SCHEMA_PATH = "/api/v1/schema/?format=json"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
ROLES = ["staff", "supervisor", "agent", "supplier", "landbidder", "expert", "anonymous"]
DEMO_PASSWORD = "bidhall-demo-2026"


# --- The server -----------------------------------------------------------------------------------


def server_secrets() -> dict[str, str]:
    """A random value of each secret's shape for every secret the settings read: the server runs with
    DEBUG off, which refuses the development defaults even when they are passed explicitly. Each pass
    builds a fresh database, so nothing signed with them needs to outlive the run."""
    return {name: random_like(default) for name, default in secret_names().items()}


def _postgres(url: str) -> bool:
    return urlsplit(url).scheme in ("postgres", "postgresql", "pgsql")


def _maintenance(url: str) -> str:
    """The server's `postgres` database: where databases are created and dropped (the one named in
    DATABASE_URL need not exist)."""
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql", path="/postgres"))


def make_database(workdir: Path) -> tuple[dict[str, str], str]:
    """(environment naming a fresh database, backend name)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return {"SQLITE_PATH": str(workdir / "fuzz.sqlite3")}, "sqlite"
    if not _postgres(url):
        sys.exit(f"DATABASE_URL is neither empty (SQLite) nor PostgreSQL: {url}")
    import psycopg

    name = urlsplit(url).path.lstrip("/") + "_fuzz"
    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return {"DATABASE_URL": urlunsplit(urlsplit(url)._replace(path=f"/{name}"))}, "postgresql"


def drop_database(env: dict[str, str]) -> None:
    if "DATABASE_URL" not in env:
        return
    import psycopg

    target = env["DATABASE_URL"]
    name = urlsplit(target).path.lstrip("/")
    with psycopg.connect(_maintenance(os.environ["DATABASE_URL"]), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env |= server_secrets()
    env |= database
    env |= {
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        # Whitenoise warns that collectstatic has not run; the API serves no static files.
        "PYTHONWARNINGS": "ignore:No directory at",
        # The pass measures what every operation answers, not the rate limits (tests/config covers
        # them): thousands of requests a minute from one address would otherwise be 429s.
        "API_THROTTLE_USER": "1000000/minute",
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_AUTH": "1000000/minute",
    }
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_daphne(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    # Generous: the first schema request builds the whole schema, slow on a busy machine.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}{SCHEMA_PATH}", timeout=60).ok:
                return server
        except requests.RequestException:
            time.sleep(1)
    server.terminate()
    sys.exit(f"daphne did not answer within 300 s (see {log})")


def token_for(base: str, role: str) -> str | None:
    if role == "anonymous":
        return None
    answer = requests.post(
        f"{base}/api/v1/auth/token/", data={"username": role, "password": DEMO_PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()["token"]


# --- schemathesis ---------------------------------------------------------------------------------


def run_schemathesis(
    base: str, role: str, token: str | None, args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    report = out / f"schemathesis-{role}.json"
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{base}{SCHEMA_PATH}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.examples),
        "--seed",
        str(args.seed),
        "--phases",
        args.phases,
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--suppress-health-check",
        "all",
    ]
    if token:
        command += ["--header", f"Authorization: Token {token}"]
    started = time.monotonic()
    with (out / f"schemathesis-{role}.txt").open("w") as text:
        # Run in the report folder: schemathesis keeps a cache (.schemathesis/) where it runs.
        subprocess.run(command, cwd=out, stdout=text, stderr=subprocess.STDOUT, check=False)
    data = json.loads(report.read_text())
    failures = {f"{f['code']} {f['title']}": f["count"] for f in data.get("failures", [])}
    return {
        "role": role,
        "operations": data["operations"]["tested"],
        "test_cases": data["test_cases"]["generated"],
        "failures": failures,
        "server_errors": sum(n for kind, n in failures.items() if "Server error" in kind),
        "errors": {e["title"]: e["count"] for e in data.get("errors", [])},
        "seconds": round(time.monotonic() - started),
    }


# --- The unsafe-text probe ------------------------------------------------------------------------

NUL = "\x00"
SURROGATE = "\ud800"


def _sample(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A plausible value for `schema`, so a probe reaches the field it targets (not a validation error
    about another one)."""
    if "$ref" in schema:
        return _sample(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("allOf", "oneOf", "anyOf"):
        if schema.get(key):
            return _sample(schema[key][0], components)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v not in (None, "")), None)
    kind = schema.get("type", "string")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return {
        "date": "2026-03-02",
        "date-time": "2026-03-02T09:00:00+08:00",
        "decimal": "1.00",
        "binary": "probe.txt",
    }.get(schema.get("format", ""), schema.get("example", "1"))


def _body_fields(operation: dict[str, Any], components: dict[str, Any]) -> list[tuple]:
    """(media type, field name, property schemas) for every top-level body property."""
    fields = []
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        schema = content.get("schema", {})
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        properties = schema.get("properties", {})
        for name in properties:
            fields.append((media, name, properties))
    return fields


def probes(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One probe per (operation, location, field, character)."""
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, item in schema["paths"].items():
        url = path
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                if parameter["in"] == "path":
                    url = url.replace("{" + parameter["name"] + "}", "1")
            query = [p for p in parameters if p["in"] == "query"]
            for parameter in query:
                for char in ("nul", "surrogate", "invalid-utf8"):
                    found.append(
                        {
                            "method": method.upper(),
                            "path": path,
                            "url": url,
                            "location": "query",
                            "field": parameter["name"],
                            "char": char,
                        }
                    )
            for media, name, properties in _body_fields(operation, components):
                base = {k: _sample(v, components) for k, v in properties.items()}
                chars = ("nul", "surrogate") if "json" in media else ("nul", "invalid-utf8")
                for char in chars:
                    found.append(
                        {
                            "method": method.upper(),
                            "path": path,
                            "url": url,
                            "location": media,
                            "field": name,
                            "char": char,
                            "body": base,
                        }
                    )
    return found


def _query_value(char: str) -> str:
    # Percent-encoded by hand: a lone surrogate has no UTF-8 form, so clients send its 3-byte
    # pattern (WTF-8), and some send bytes that are not UTF-8 at all.
    return {"nul": "a%00b", "surrogate": "a%ED%A0%80b", "invalid-utf8": "a%FFb"}[char]


def send_probe(session: requests.Session, base: str, probe: dict[str, Any]) -> requests.Response:
    method, url, char = probe["method"], base + probe["url"], probe["char"]
    if probe["location"] == "query":
        return session.request(method, f"{url}?{probe['field']}={_query_value(char)}", timeout=60)
    body = dict(probe["body"])
    media = probe["location"]
    if "json" in media:
        body[probe["field"]] = {"nul": f"a{NUL}b", "surrogate": f"a{SURROGATE}b"}[char]
        # ensure_ascii: the surrogate travels as the escape "\ud800", as JSON clients send it.
        data = json.dumps(body, ensure_ascii=True).encode()
        return session.request(method, url, data=data, headers={"Content-Type": media}, timeout=60)
    raw = {"nul": b"a\x00b", "invalid-utf8": b"a\xffb"}[char]
    if media == "multipart/form-data":
        files = {
            k: (None, str(v).encode() if k != probe["field"] else raw)
            for k, v in body.items()
            if not isinstance(v, (list, dict))
        }
        files[probe["field"]] = (None, raw)
        return session.request(method, url, files=files, timeout=60)
    others = {k: v for k, v in body.items() if k != probe["field"] and isinstance(v, (str, int))}
    encoded = urlencode(others) + ("&" if others else "")
    data = f"{encoded}{quote(probe['field'])}={quote_from_bytes(raw)}"
    return session.request(
        method,
        url,
        data=data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )


def _error_code(response: requests.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def judge(probe: dict[str, Any], response: requests.Response) -> str | None:
    """Why the answer is wrong, or None."""
    if response.status_code >= 500:
        return f"{response.status_code}"
    multipart = probe["location"] == "multipart/form-data"
    if multipart and response.status_code in (401, 403, 404, 409) and _error_code(response):
        return None  # refused before the view read the body (it checks permission first)
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        if probe["method"] == "GET" and response.status_code == 200:
            return None  # a file or a CSV answered: the probe did not reach text handling
        return f"{response.status_code} {response.headers.get('Content-Type')}"
    must_refuse = probe["char"] == "nul" or (
        probe["char"] == "surrogate" and "json" in probe["location"]
    )
    if must_refuse:
        code = _error_code(response)
        if response.status_code != 400 or code != "TEXT_INVALID_CHAR":
            return f"{response.status_code} {code} (expected 400 TEXT_INVALID_CHAR)"
    return None


def run_probe(base: str, role: str, token: str | None, schema: dict[str, Any]) -> dict[str, Any]:
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Token {token}"
    wrong = []
    statuses: Counter[int] = Counter()
    planned = probes(schema)
    for probe in planned:
        response = send_probe(session, base, probe)
        statuses[response.status_code] += 1
        reason = judge(probe, response)
        if reason:
            wrong.append({k: v for k, v in probe.items() if k != "body"} | {"answer": reason})
    return {
        "role": role,
        "probes": len(planned),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for status, n in statuses.items() if status >= 500),
        "wrong": wrong,
    }


# --- Main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10, help="max examples per operation")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--no-probe", action="store_true")
    parser.add_argument("--no-fuzz", action="store_true", help="only the unsafe-text probe")
    parser.add_argument("--keep", action="store_true", help="keep the database and report")
    parser.add_argument("--report-dir", default="")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bidhall-fuzz-"))
    out = (Path(args.report_dir) if args.report_dir else workdir / "report").resolve()
    out.mkdir(parents=True, exist_ok=True)
    database, backend = make_database(workdir)
    env = server_env(database)
    server = None
    try:
        print(f"[{backend}] migrating and loading the demo data …", flush=True)
        for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
            subprocess.run(
                [PYTHON, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        port = free_port()
        server = start_daphne(env, port, out / "daphne.log")
        base = f"http://127.0.0.1:{port}"
        schema = requests.get(base + SCHEMA_PATH, timeout=60).json()
        results: dict[str, Any] = {"backend": backend, "fuzz": [], "probe": []}
        for role in args.roles.split(","):
            token = token_for(base, role)
            if not args.no_fuzz:
                result = run_schemathesis(base, role, token, args, out)
                results["fuzz"].append(result)
                print(
                    f"[{backend}] {role:<10} operations {result['operations']:>3}  "
                    f"test cases {result['test_cases']:>6}  server errors "
                    f"{result['server_errors']:>3}  failures {result['failures'] or '—'}  "
                    f"errors {result['errors'] or '—'}  ({result['seconds']} s)",
                    flush=True,
                )
            if not args.no_probe:
                probe = run_probe(base, role, token, schema)
                results["probe"].append(probe)
                print(
                    f"[{backend}] {role:<10} probe: {probe['probes']} requests, statuses "
                    f"{probe['statuses']}, wrong {len(probe['wrong'])}",
                    flush=True,
                )
            # Written after every role: a long run can be read while it goes on.
            (out / "summary.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
        server_errors = sum(r["server_errors"] for r in results["fuzz"] + results["probe"])
        wrong = sum(len(r["wrong"]) for r in results["probe"])
        print(f"[{backend}] server errors: {server_errors}; probe answers wrong: {wrong}")
        print(f"[{backend}] reports: {out}")
        return 1 if server_errors or wrong else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            drop_database(database)
            for leftover in workdir.glob("fuzz.sqlite3*"):
                leftover.unlink()
            if args.report_dir:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
