"""What the auction benchmarks share: the benchmark database, the server environment, starting and
stopping daphne, the load generator's sockets and the statistics. Not a benchmark by itself.

The servers run with DEBUG off (production settings; no query is kept in memory), with random
secrets drawn for the benchmark (`bench_secrets`), and, when a benchmark asks for it, another
per-socket bid limit (`bench/auction_settings.py`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DB = "bidhall_auction_bench"
DEFAULT_SETUP = "/tmp/bidhall_auction_bench.json"

# The servers run with DEBUG off, as in production. Settings then refuse every secret left at its
# development default, even one passed explicitly (it is public, being in the source), and any secret
# too weak to guard anything. The benchmarks therefore draw random secrets of each one's shape once,
# keep them next to the setup file (the benchmark database's sessions are signed with SECRET_KEY),
# and pass them to every process.
BENCH_ENV = {
    "DEBUG": "0",
    "DJANGO_SETTINGS_MODULE": "bench.auction_settings",
    "LOG_LEVEL": "WARNING",
}
SECRETS_FILE = Path(DEFAULT_SETUP).with_suffix(".secrets.json")
_secrets: dict[str, str] = {}


def secret_names() -> dict[str, str]:
    """Every secret the settings read, with its development default (asked of the settings)."""
    code = (
        "import json, django; django.setup(); from lib import env; "
        "print(json.dumps(env._DEV_SECRETS))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env |= {"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    secrets: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    return secrets


@functools.cache
def _document_signing_pair() -> tuple[str, str]:
    """A fresh document-signing key and self-signed certificate (PDF_SIGNING_KEY and
    PDF_SIGNING_CERTIFICATE must belong together, so they are drawn as one pair per process)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from lib.pdfkeys import self_signed  # needs no Django: cryptography only

    now = dt.datetime.now(dt.UTC)
    pair = self_signed(
        "bidhall benchmark document signing",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=3650),
    )
    return pair.key_pem().decode(), pair.chain_pem().decode()


def random_like(dev_default: str) -> str:
    """A random secret of the development default's shape: 64 hex digits for a key, `NAME:secret`
    pairs for per-bank secrets, a new key and certificate for the PEM document-signing pair, else 64
    URL-safe characters."""
    if "-----BEGIN PRIVATE KEY-----" in dev_default:
        return _document_signing_pair()[0]
    if "-----BEGIN CERTIFICATE-----" in dev_default:
        return _document_signing_pair()[1]
    if len(dev_default) == 64 and all(c in "0123456789abcdefABCDEF" for c in dev_default):
        return secrets.token_hex(32)
    if ":" in dev_default:
        names = [pair.split(":", 1)[0] for pair in dev_default.split(",")]
        return ",".join(f"{name}:{secrets.token_urlsafe(32)}" for name in names)
    return secrets.token_urlsafe(48)


def bench_secrets() -> dict[str, str]:
    """Random values for every secret the settings read, drawn once and kept in `SECRETS_FILE`."""
    if not _secrets:
        names = secret_names()
        kept = json.loads(SECRETS_FILE.read_text()) if SECRETS_FILE.exists() else {}
        if set(kept) != set(names):
            kept = {name: random_like(default) for name, default in names.items()}
            SECRETS_FILE.write_text(json.dumps(kept))
            SECRETS_FILE.chmod(0o600)
        _secrets.update(kept)
    return dict(_secrets)


def bench_environ() -> dict[str, str]:
    return bench_secrets() | BENCH_ENV


# --- The database ---------------------------------------------------------------------------------


def server_url() -> str:
    """The PostgreSQL server from DATABASE_URL (only its host and credentials are used)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            "the auction benchmarks need PostgreSQL: DATABASE_URL=postgres://user@host:5432/db"
        )
    return url


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(server_url())._replace(path=f"/{name}"))


def libpq_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1).replace("pgsql://", "postgresql://", 1)


def server_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(bench_environ())
    env["DATABASE_URL"] = db_url
    env["PYTHONPATH"] = str(ROOT)
    # Whitenoise warns that collectstatic has not run; the benchmarks serve no static files.
    env["PYTHONWARNINGS"] = "ignore:No directory at"
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def load_setup(path: str, *, rebuild: bool = False) -> dict[str, Any]:
    """The auctions and bidders made by auction_setup.py; runs it if the file or database is missing."""
    setup_file = Path(path)
    if not rebuild and setup_file.exists():
        data = json.loads(setup_file.read_text())
        if data.get("schema") == schema_fingerprint() and _database_exists(data["database"]):
            return data
    print(f"setting up the benchmark database ({path}) …", flush=True)
    subprocess.run([PYTHON, str(ROOT / "bench" / "auction_setup.py"), "--out", path], check=True)
    return json.loads(setup_file.read_text())


def bids_in(setup: dict[str, Any]) -> str:
    """How many bids the hot auction and the others already hold (some per-batch work grows with it)."""
    import psycopg

    with psycopg.connect(libpq_url(database_url(setup["database"])), autocommit=True) as c:
        hot, others = c.execute(
            "SELECT count(*) FILTER (WHERE auction_id = %s), count(*) FILTER (WHERE auction_id <> %s)"
            " FROM bidding_auctionbid",
            [setup["hot"], setup["hot"]],
        ).fetchone()
    return f"bids stored: {hot:,} in the hot auction, {others:,} in the others"


def schema_fingerprint() -> str:
    """A hash of every migration file and of the servers' environment: a benchmark database built
    before a migration changed, or with another SECRET_KEY (its sessions), is rebuilt."""
    import hashlib

    digest = hashlib.sha256(json.dumps(bench_environ(), sort_keys=True).encode())
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(libpq_url(server_url()), autocommit=True) as c:
        return (
            c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        )


# --- Servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def start_daphne(port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [PYTHON, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "asgi:application"],
        cwd=ROOT,
        env=env,
    )
    wait_for_port(port, process)
    return process


def start_reference(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "ws_broadcast_reference.py"), "--port", str(port)], cwd=ROOT
    )
    wait_for_port(port, process)
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to report a server's CPU use."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (Linux /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def machine_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Share of the machine's CPU time (all cores) that was busy between two `machine_ticks()`."""
    total = after[1] - before[1]
    return round(100 * (after[0] - before[0]) / total) if total else float("nan")


# --- Sockets --------------------------------------------------------------------------------------


def bidder_host(index: int) -> str:
    """Each bidder organization connects from its own loopback address (127.0.0.11, .12, …), as real
    bidders do from their own networks: one address behind several bidders is a collusion signal."""
    return f"127.0.0.{11 + index}"


async def open_socket(
    port: int, path: str, cookie: str | None = None, local_host: str | None = None
):
    from websockets.asyncio.client import connect

    headers = {"Cookie": cookie} if cookie else None
    extra = {"local_addr": (local_host, 0)} if local_host else {}
    return await connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=f"http://127.0.0.1:{port}",
        additional_headers=headers,
        compression=None,
        proxy=None,
        ping_interval=None,
        max_queue=None,
        open_timeout=120,
        **extra,
    )


class RawSocket(asyncio.Protocol):
    """A WebSocket client reduced to what the load generator needs, so that it can take in tens of
    thousands of frames per second on a small machine (the `websockets` client costs several times
    more per frame). It calls `on_frames(texts, arrival_time)` with the text frames (bytes) of each
    read, answers pings, sends text frames, and assumes unfragmented frames (daphne and `websockets`
    do not fragment small messages). Used for watchers and for the bid benchmark's bidders."""

    def __init__(self, on_frames) -> None:
        self.on_frames = on_frames
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.closed = False

    @classmethod
    async def open(
        cls,
        port: int,
        path: str,
        on_frames,
        cookie: str | None = None,
        local_host: str | None = None,
    ) -> RawSocket:
        import base64

        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: cls(on_frames),
            "127.0.0.1",
            port,
            local_addr=(local_host, 0) if local_host else None,
        )
        key = base64.b64encode(os.urandom(16)).decode()
        cookie_line = f"Cookie: {cookie}\r\n" if cookie else ""
        protocol.transport.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: http://127.0.0.1:{port}\r\n{cookie_line}\r\n"
            ).encode()
        )
        await asyncio.wait_for(protocol.upgraded, 120)
        return protocol

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))
            self.upgraded.exception()  # retrieved: `open` reports it

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buffer
        buf += data
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[: end + 4]
            if b" 101 " not in status + b" ":
                self.upgraded.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self.upgraded.set_result(None)
        texts = []
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode, length, head = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            if opcode == 1:
                texts.append(payload)
            elif opcode == 9:  # ping → pong (a client frame must be masked: zero mask)
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            elif opcode == 8:
                self.transport.close()
        del buf[:pos]
        if texts:
            self.on_frames(texts, now)

    def send_text(self, text: str) -> None:
        """One masked text frame (a zero mask: the payload goes as it is)."""
        payload = text.encode()
        size = len(payload)
        if size < 126:
            head = bytes([0x81, 0x80 | size])
        elif size < 65536:
            head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
        else:
            head = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
        self.transport.write(head + b"\0\0\0\0" + payload)

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(b"\x88\x80\0\0\0\0")  # close frame, no status, zero mask
            self.transport.close()


async def open_many(count: int, opener, parallel: int = 50) -> list[Any]:
    gate = asyncio.Semaphore(parallel)

    async def one(index: int):
        async with gate:
            return await opener(index)

    return await asyncio.gather(*(one(i) for i in range(count)))


# --- Statistics and the machine -------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return ""


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import websockets

    return (
        f"{os.cpu_count()} × {cpu}, Python {platform.python_version()}, "
        f"websockets {websockets.__version__}"
    )


# --- Profiling the server (optional: py-spy) ------------------------------------------------------


def start_profile(pid: int, seconds: float, out: str) -> subprocess.Popen | None:
    """Sample the server with py-spy (if installed: `pip install py-spy`) for `seconds`."""
    import shutil

    spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not spy:
        print("py-spy not found (pip install py-spy, or PY_SPY=/path/to/py-spy): no profile")
        return None
    duration = str(max(1, int(seconds)))
    command = [spy, "record", "-p", str(pid), "-d", duration, "-r", "200", "--format", "raw"]
    command += ["--threads", "--nonblocking", "-o", out]
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize_profile(path: str, top: int = 25) -> str:
    """Threads, and the frames with the most samples (inclusive), from py-spy's raw output."""
    from collections import Counter

    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        threads[frames[0]] += n
        for frame in set(frames[1:]):
            inclusive[frame] += n
    lines = [f"profile {path}: {total} samples"]
    lines += [f"  {n:6d} {name}" for name, n in threads.most_common()]
    lines += [f"  {n:6d} {name[:110]}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)
