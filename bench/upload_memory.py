"""What a large upload costs the server's memory: a real daphne process, one multipart POST, its peak RSS.

    python bench/upload_memory.py [--root CHECKOUT] [--mib 60] [--max-upload-mib N]

Builds a throwaway SQLite database with the demo data (`seed_demo`) in a temporary directory, gives
the demo supervisor and supplier API tokens, starts `daphne asgi:application` from CHECKOUT (default:
this repository; point it at an export of an older commit to compare) in development mode, and sends,
one at a time, a multipart bid of `--mib` MiB to `POST /api/v1/bidding/lots/<id>/bids/`:

- as the read-only supervisor (refused whatever the body);
- as a supplier, with MAX_UPLOAD_BYTES set below the body (`--max-upload-mib`, default half of it).

For each it prints the answer and the daphne process's resident memory before, and its peak
(VmHWM, reset before each request through /proc/<pid>/clear_refs) while serving it. Linux only.
Nothing but the loopback address is contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024

SETUP = """
import django, json
django.setup()
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from accounts.models import User
from trading.models import Lot
call_command("migrate", verbosity=0)
call_command("seed_demo", verbosity=0)
tokens = {name: Token.objects.get_or_create(user=User.objects.get(username=name))[0].key
          for name in ("supervisor", "supplier")}
lot = Lot.objects.filter(project__status="published").order_by("pk").first()
print(json.dumps({"tokens": tokens, "lot": lot.pk}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def reset_peak(pid: int) -> None:
    # Writing 5 resets the peak resident set size (VmHWM) to the current one (Linux ≥ 4.0).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def multipart(size: int) -> tuple[bytes, str]:
    boundary = "bidhall-upload-bench"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="price"\r\n\r\n'
        "1000000.00\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="decryption_code"\r\n\r\n'
        "bench-code-123\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="files"; filename="technical.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = head + b"%PDF" + os.urandom(size - 4) + tail
    return body, f"multipart/form-data; boundary={boundary}"


def post(port: int, path: str, token: str, body: bytes, content_type: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Authorization": f"Token {token}", "Content-Type": content_type},
        )
        response = connection.getresponse()
        return response.status, response.read()[:200].decode(errors="replace")
    except (BrokenPipeError, ConnectionResetError) as exc:
        # A server that answers before reading the body may close while the client still sends.
        return 0, f"connection closed while sending: {exc.__class__.__name__}"
    finally:
        connection.close()


def start_daphne(root: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "asgi:application"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not start")


def measure(root: Path, env: dict[str, str], label: str, token: str, lot: int, size: int) -> None:
    port = free_port()
    process = start_daphne(root, env, port)
    try:
        path = f"/api/v1/bidding/lots/{lot}/bids/"
        # Warm the process (imports, URL resolver, first database connection) with a small request.
        post(port, path, token, *multipart(1024))
        time.sleep(0.5)
        body, content_type = multipart(size)
        before = memory_kib(process.pid)
        reset_peak(process.pid)
        started = time.monotonic()
        status, answer = post(port, path, token, body, content_type)
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        after = memory_kib(process.pid)
        print(
            f"{label}: {size / MIB:.0f} MiB body -> {status} in {elapsed:.2f} s; "
            f"RSS before {before['VmRSS'] / 1024:.0f} MiB, peak while serving "
            f"{after['VmHWM'] / 1024:.0f} MiB (+{(after['VmHWM'] - before['VmRSS']) / 1024:.0f} MiB), "
            f"after {after['VmRSS'] / 1024:.0f} MiB; answer: {answer[:120]!r}"
        )
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to serve (default: this)")
    parser.add_argument("--mib", type=int, default=60, help="size of the uploaded file, MiB")
    parser.add_argument("--max-upload-mib", type=int, default=None)
    args = parser.parse_args()
    size = args.mib * MIB
    with tempfile.TemporaryDirectory(prefix="bidhall-upload-bench-") as tmp:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env |= {
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SQLITE_PATH": str(Path(tmp) / "db.sqlite3"),
            "MEDIA_ROOT": str(Path(tmp) / "media"),
            "PYTHONPATH": str(args.root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LOG_LEVEL": "WARNING",
        }
        out = subprocess.run(
            [sys.executable, "-c", SETUP],
            cwd=args.root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        world = json.loads(out.stdout.strip().splitlines()[-1])
        measure(args.root, env, "supervisor", world["tokens"]["supervisor"], world["lot"], size)
        cap = args.max_upload_mib if args.max_upload_mib is not None else args.mib // 2
        capped = env | {"MAX_UPLOAD_BYTES": str(cap * MIB)}
        measure(
            args.root,
            capped,
            f"supplier, MAX_UPLOAD_BYTES={cap} MiB",
            world["tokens"]["supplier"],
            world["lot"],
            size,
        )


if __name__ == "__main__":
    main()
