"""Fan-out of the bid room: W watcher sockets and B bidder sockets on one auction, against daphne and
against a bare `websockets` broadcast server, measured by the same load generator in the same run.

Rerun (from the repository root; PostgreSQL from DATABASE_URL, only its server and credentials used,
default postgres://postgres@127.0.0.1:5432/postgres):

    python bench/auction_fanout.py --repeat 3             # 1,000 watchers + 10 bidders, one daphne
    python bench/auction_fanout.py --rate 40              # open loop: 40 bids/s = 40,000 deliveries/s
    python bench/auction_fanout.py --servers 2 --targets django   # two daphne processes over Redis

What it does: builds the benchmark database with auction_setup.py if needed (or reuses `--setup`),
then for each target (`--targets reference,django`, `--repeat` times, alternating) starts the server
as a child process (daphne with DEBUG off: bench/auction_common.py), opens the watchers in `--procs`
generator processes (anonymous sockets on the public hot auction, each waiting for its `state` frame;
a minimal receive-only client, so that the generator is not the first thing to saturate) and the
bidders in this process (one logged-in supplier per socket, `websockets` client). Closed loop (the
default): each bidder sends a bid, waits for its own answer (daphne: the `ack` sent after commit; the
reference server: its own copy of the broadcast) and sends the next. Open loop (`--rate`): bids leave on
a fixed schedule, in turn from the bidder sockets, whatever the answers. Prices come from one counter
and fall by one step per bid in send order, so nearly all bids are accepted; refusals are counted and
left out of the delivery figures (a refused bid is not broadcast).

Figures, over the accepted bids sent after `--warmup`, for `--seconds`: bids/s, bids/s fully delivered
(to every watcher), deliveries/s (bid frames received by all watchers per second), p50/p99 of "bid sent
(or due) → the last watcher has it", p50/p99 of "bid sent (or due) → its bidder has the answer" (daphne:
the ack), the server's CPU use and CPU time per delivery, and how busy the whole machine was. Against
daphne also: whether every watcher saw the same gap-free sequence of events (`seq`); with `--servers 2`
(REDIS_URL set, watchers and bidders alternating between the processes) that is the Redis relay check.
The ratio is daphne's deliveries/s to the reference's (medians over `--repeat`). `--profile DIR` samples
each server with py-spy. Nothing is asserted; the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import sys
import time
import uuid
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import auction_common as common

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--bidders", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30, help="measured time per target")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured time before it")
    parser.add_argument(
        "--targets",
        default="reference,django",
        help="comma-separated: reference, django, or django+NAME=VALUE (extra server environment)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the targets, alternating")
    parser.add_argument("--servers", type=int, default=1, help="daphne processes (>1: Redis)")
    parser.add_argument(
        "--rate", type=float, default=0, help="open loop: bids/s on a fixed schedule (0: closed)"
    )
    parser.add_argument("--procs", type=int, default=2, help="generator processes for watchers")
    parser.add_argument("--setup", default=common.DEFAULT_SETUP, help="auction_setup.py output")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the benchmark database first (fresh auctions)",
    )
    parser.add_argument(
        "--bid-limit", type=int, default=20, help="daphne's bids/s per socket (product: 20)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile", help="directory: sample each server with py-spy, summarize")
    return parser.parse_args()


# --- Watchers (in generator processes) ------------------------------------------------------------


class Watcher:
    """One watcher socket: what it saw (bid frames by price: count and last arrival, shared by the
    process) and its event sequence (first and last `seq`, gaps, and a crc32 chained over
    "seq:type:price" of every event, to compare the sequences of all watchers)."""

    def __init__(self, arrivals: dict[str, list], django: bool) -> None:
        self.arrivals = arrivals
        self.django = django
        self.state: asyncio.Future = asyncio.get_running_loop().create_future()
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.gaps = 0
        self.count = 0
        self.digest = 0

    def on_frames(self, texts: list[bytes], now: float) -> None:
        arrivals, loads = self.arrivals, json.loads
        for text in texts:
            frame = loads(text)
            kind = frame.get("type")
            if kind == "state":
                self.first_seq = self.last_seq = frame["seq"]
                if not self.state.done():
                    self.state.set_result(frame)
                continue
            price = frame.get("price")
            if price is not None:
                seen = arrivals.get(price)
                if seen is None:
                    arrivals[price] = [1, now]
                else:
                    seen[0] += 1
                    seen[1] = now
            if self.django and "seq" in frame:
                seq = frame["seq"]
                if self.last_seq is None:
                    self.first_seq = seq
                elif seq != self.last_seq + 1:
                    self.gaps += 1
                self.last_seq = seq
                self.digest = zlib.crc32(f"{seq}:{kind}:{price}".encode(), self.digest)
            self.count += 1


async def watcher_main(conn, ports: list[int], path: str, count: int, offset: int, django: bool):
    arrivals: dict[str, list] = {}
    watchers: list[Watcher] = []

    async def opener(index: int):
        port = ports[(offset + index) % len(ports)]
        for attempt in range(5):  # a loaded server may drop a handshake: try again
            watcher = Watcher(arrivals, django)
            try:
                socket = await common.RawSocket.open(port, path, watcher.on_frames)
                if django:
                    await asyncio.wait_for(watcher.state, 120)
            except OSError:  # refused, reset, or no state in time (TimeoutError)
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            watchers.append(watcher)
            return socket

    sockets = await common.open_many(count, opener)
    conn.send("ready")
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
    for socket in sockets:
        socket.close()
    conn.send(
        {
            "arrivals": arrivals,
            "logs": [(w.first_seq, w.last_seq, w.gaps, w.count, w.digest) for w in watchers],
        }
    )


def watcher_process(conn, ports, path, count, offset, django) -> None:
    asyncio.run(watcher_main(conn, ports, path, count, offset, django))


# --- Bidders (in this process) --------------------------------------------------------------------


class Prices:
    """Strictly falling prices in send order: start − step × n."""

    def __init__(self, start: Decimal, step: Decimal) -> None:
        self.start, self.step, self.n = start, step, itertools.count(1)

    def next(self) -> str:
        return str(self.start - self.step * next(self.n))


async def bidder(ws, index: int, prices: Prices, sent: list, answers: dict, stop_at: float, django):
    keys = itertools.count()
    run = uuid.uuid4().hex[:12]  # keys are never reused across runs (that would be KEY_REUSED)
    monotonic = time.monotonic
    while monotonic() < stop_at:
        key = f"{run}-{index}-{next(keys)}"
        price = prices.next()
        t_sent = monotonic()
        await ws.send(json.dumps({"type": "bid", "key": key, "price": price}))
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("key") != key:
                continue
            if django:
                code = "accepted" if frame["type"] == "ack" else frame.get("code", frame["type"])
            else:
                code = "echoed"
            answers[code] = answers.get(code, 0) + 1
            if code in ("accepted", "echoed"):  # refused bids are not broadcast
                sent.append((price, t_sent, monotonic()))
            break


async def scheduled_bids(sockets, rate, prices, sent, answers, began, stop_at, django):
    """Open loop: bids leave at `rate` per second in turn from the bidder sockets, whatever the answers;
    latency is counted from the moment each bid was due."""
    run = uuid.uuid4().hex[:12]
    due_of: dict[str, tuple[str, float]] = {}

    async def reader(ws) -> None:
        try:
            async for text in ws:
                frame = json.loads(text)
                key = frame.get("key")
                if key not in due_of:
                    continue
                price, due = due_of.pop(key)
                if django:
                    code = (
                        "accepted" if frame["type"] == "ack" else frame.get("code", frame["type"])
                    )
                else:
                    code = "echoed"
                answers[code] = answers.get(code, 0) + 1
                if code in ("accepted", "echoed"):
                    sent.append((price, due, time.monotonic()))
        except Exception:
            pass

    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    for k in itertools.count():
        due = began + k / rate
        if due >= stop_at:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        key, price = f"{run}-{k}", prices.next()
        due_of[key] = (price, due)
        await sockets[k % len(sockets)].send(
            json.dumps({"type": "bid", "key": key, "price": price})
        )
    for _ in range(100):  # the last answers
        if not due_of:
            break
        await asyncio.sleep(0.05)
    for task in readers:
        task.cancel()


# --- One target -----------------------------------------------------------------------------------


def run_target(target: str, args: argparse.Namespace, setup: dict) -> dict[str, Any]:
    # "django+NAME=VALUE+…" runs daphne with extra environment (to compare two variants in one run).
    name, *assignments = target.split("+")
    extra_env = dict(a.split("=", 1) for a in assignments)
    django = name == "django"
    servers = []
    ports = []
    server_count = args.servers if django else 1
    redis = REDIS_URL if django and server_count > 1 else None
    if redis:
        import redis as redis_lib

        redis_lib.Redis.from_url(redis).ping()
    for _ in range(server_count):
        port = common.free_port()
        if django:
            env = common.server_env(
                common.database_url(setup["database"]),
                REDIS_URL=redis,
                **extra_env,
                BENCH_BIDS_PER_SECOND=str(args.bid_limit),
            )
            servers.append(common.start_daphne(port, env))
        else:
            servers.append(common.start_reference(port))
        ports.append(port)
    path = f"/ws/auctions/{setup['hot']}/" if django else "/"
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    try:
        per = [
            args.watchers // args.procs + (i < args.watchers % args.procs)
            for i in range(args.procs)
        ]
        offset = 0
        for count in per:
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=watcher_process, args=(child, ports, path, count, offset, django)
            )
            proc.start()
            child.close()  # so that a generator process that dies shows as EOF here
            pipes.append(parent)
            procs.append(proc)
            offset += count
        opened = time.monotonic()
        for pipe in pipes:
            pipe.recv()  # ready
        connect_seconds = time.monotonic() - opened
        result = asyncio.run(bid_phase(args, setup, ports, path, django, servers))
        time.sleep(1.0)  # let the last deliveries land
        for pipe in pipes:
            pipe.send("stop")
        reports = [pipe.recv() for pipe in pipes]
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()
        for server in servers:
            common.stop(server)
    arrivals: dict[str, list] = {}
    logs = []
    for report in reports:
        logs.extend(report["logs"])
        for price, (count, last) in report["arrivals"].items():
            seen = arrivals.setdefault(price, [0, 0.0])
            seen[0] += count
            seen[1] = max(seen[1], last)
    return summarize(target, args, result, arrivals, logs, connect_seconds, server_count)


async def bid_phase(args, setup, ports, path, django, servers) -> dict[str, Any]:
    bidders = setup["bidders"]
    start = Decimal(setup["start_price"])

    async def opener(index: int):
        cookie = bidders[index % len(bidders)]["cookie"] if django else None
        host = common.bidder_host(index % len(bidders))
        ws = await common.open_socket(ports[index % len(ports)], path, cookie, host)
        state = json.loads(await ws.recv()) if django else None
        return ws, state

    opened = await common.open_many(args.bidders, opener)
    sockets = [ws for ws, _ in opened]
    if django:
        state = opened[0][1]
        assert state["view"] == "bidder" and state["you"]["admitted"], state["you"]
        auction = state["auction"]
        assert auction["status"] == "live", auction["status"]
        start = Decimal(auction["best_price"] or auction["start_price"])
    prices = Prices(start, Decimal(setup["step"]))
    sent: list[tuple[str, float]] = []
    answers: dict[str, int] = {}
    began = time.monotonic()
    measure_from = began + args.warmup
    stop_at = measure_from + args.seconds
    cpu_before: list[float] = []
    machine: list[tuple[int, int]] = []

    profiles = []

    async def mark_cpu():
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        cpu_before.extend(common.cpu_seconds(s.pid) for s in servers)
        machine.append(common.machine_ticks())
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            for index, server in enumerate(servers):
                out = str(
                    Path(args.profile) / f"fanout-{'django' if django else 'ref'}-{index}.txt"
                )
                profiles.append(common.start_profile(server.pid, args.seconds - 1, out))

    marker = asyncio.create_task(mark_cpu())
    if args.rate:
        await scheduled_bids(sockets, args.rate, prices, sent, answers, began, stop_at, django)
    else:
        await asyncio.gather(
            *(bidder(ws, i, prices, sent, answers, stop_at, django) for i, ws in enumerate(sockets))
        )
    ended = min(time.monotonic(), stop_at)
    await marker
    cpu_after = [common.cpu_seconds(s.pid) for s in servers]
    machine_busy = common.machine_busy(machine[0], common.machine_ticks())
    for profile in profiles:
        if profile is not None:
            await asyncio.to_thread(profile.wait)
            print(common.summarize_profile(profile.args[-1]))
    for ws in sockets:
        await ws.close()
    return {
        "sent": sent,
        "answers": answers,
        "measure_from": measure_from,
        "ended": ended,
        "cpu": [a - b for a, b in zip(cpu_after, cpu_before, strict=True)],
        "machine_busy_percent": machine_busy,
    }


def summarize(target, args, result, arrivals, logs, connect_seconds, server_count) -> dict:
    window = [(p, t, a) for p, t, a in result["sent"] if t >= result["measure_from"]]
    seconds = result["ended"] - result["measure_from"]
    answered = [a - t for _, t, a in window]
    latencies, deliveries, full = [], 0, 0
    for price, t_sent, _ in window:
        count, last = arrivals.get(price, (0, 0.0))
        deliveries += count
        if count >= args.watchers:
            full += 1
            latencies.append(last - t_sent)
    out = {
        "target": target,
        "servers": server_count,
        "watchers": args.watchers,
        "bidders": args.bidders,
        "seconds": round(seconds, 1),
        "connect_seconds": round(connect_seconds, 1),
        "bids_per_s": round(len(window) / seconds, 1),
        "bids_fully_delivered_per_s": round(full / seconds, 1),
        "not_fully_delivered": len(window) - full,
        "deliveries_per_s": round(deliveries / seconds),
        "p50_ms": round(common.percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(common.percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
        # bid sent (or due) → its bidder has the answer (daphne: the ack after commit)
        "answer_p50_ms": round(common.percentile(answered, 50) * 1000, 1),
        "answer_p99_ms": round(common.percentile(answered, 99) * 1000, 1),
        "server_cpu_percent": [round(c / seconds * 100) for c in result["cpu"]],
        "server_cpu_us_per_delivery": round(sum(result["cpu"]) / max(deliveries, 1) * 1e6, 1),
        "machine_busy_percent": result["machine_busy_percent"],
        "answers_all_run": result["answers"],
    }
    if target.startswith("django"):
        digests = {(first, last, digest) for first, last, _, _, digest in logs}
        gaps = sum(g for _, _, g, _, _ in logs)
        out["sequences_identical"] = len(digests) == 1
        out["gaps"] = gaps
        out["events_per_watcher"] = sorted({c for _, _, _, c, _ in logs})[:5]
    return out


def show(figures: dict) -> None:
    line = (
        f"{figures['target']:>9} ×{figures['servers']}: {figures['bids_per_s']:7.1f} bids/s (accepted), "
        f"{figures['bids_fully_delivered_per_s']:7.1f} fully delivered, "
        f"{figures['deliveries_per_s']:>7,} deliveries/s, p50/p99 {figures['p50_ms']}/"
        f"{figures['p99_ms']} ms (max {figures['max_ms']}), server CPU "
        f"{figures['server_cpu_percent']} % ({figures['server_cpu_us_per_delivery']} µs/delivery), "
        f"machine {figures['machine_busy_percent']} % busy, "
        f"connect {figures['connect_seconds']} s"
    )
    print(line)
    extra = (
        f"           answer p50/p99 {figures['answer_p50_ms']}/{figures['answer_p99_ms']} ms, "
        f"answers {figures['answers_all_run']}"
    )
    if "gaps" in figures:
        extra += (
            f", sequences identical: {figures['sequences_identical']}, gaps: {figures['gaps']}, "
            f"events per watcher {figures['events_per_watcher']}"
        )
    print(extra, flush=True)


def main() -> None:
    args = parse_args()
    setup = common.load_setup(args.setup, rebuild=args.rebuild)
    print(common.describe_machine())
    print(
        f"{args.watchers} watchers in {args.procs} generator processes, {args.bidders} bidders, "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per target, "
        + (f"open loop at {args.rate:g} bids/s" if args.rate else "closed loop")
    )
    print(f"before: {common.load()}; {common.bids_in(setup)}", flush=True)
    results = []
    for _ in range(args.repeat):
        for target in args.targets.split(","):
            figures = run_target(target, args, setup)
            show(figures)
            results.append(figures)
    print(f"after: {common.load()}; {common.bids_in(setup)}")
    by_target: dict[str, list[dict]] = {}
    for figures in results:
        by_target.setdefault(figures["target"], []).append(figures)
    if "django" in by_target and "reference" in by_target:
        django = common.median([f["deliveries_per_s"] for f in by_target["django"]])
        reference = common.median([f["deliveries_per_s"] for f in by_target["reference"]])
        print(
            f"ratio daphne / reference deliveries/s (medians): {django:,.0f} / {reference:,.0f} "
            f"= {django / reference:.2f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    command = " ".join(["python", "bench/auction_fanout.py", *sys.argv[1:]])
    print(f"\nRerun: {command}")


if __name__ == "__main__":
    main()
