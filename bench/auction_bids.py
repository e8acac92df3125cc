"""Durable bids on PostgreSQL: how many bids per second the bid room accepts, each acknowledged only
after the transaction that decided it has committed, against raw psycopg doing the same work in the
same run.

Rerun (from the repository root; PostgreSQL from DATABASE_URL, only its server and credentials used,
default postgres://postgres@127.0.0.1:5432/postgres):

    python bench/auction_bids.py
    python bench/auction_bids.py --scenarios hot,spread --seconds 60 --profile /tmp/prof

Scenarios (`--scenarios`, default all), each against a fresh daphne process (DEBUG off) on the
benchmark database built by auction_setup.py (the same one as auction_fanout.py) and, except
`hot-limited`, against the raw reference on the same database. Bidders are logged-in suppliers, each
organization connecting from its own loopback address; in the closed-loop scenarios a socket sends its
next bid when the answer to the previous one comes (`--window` bids in flight per socket in `hot`):

- `hot`: one auction, `--hot-sockets` sockets (default 20) bidding as fast as their answers come. The
  per-socket limit of 20 bids/s is lifted for this run (bench/auction_settings.py) so that a few
  sockets can load the engine; every accepted bid still goes to every socket in the room.
- `hot-limited`: the same auction with the product's limit of 20 bids/s per socket, from
  `--limited-sockets` sockets (default 60), each pacing itself under 19 bids/s like a well-behaved
  client. Every accepted bid reaches all 60 sockets.
- `spread`: `--spread` auctions (default 100), one socket on each, paced under 19 bids/s (the product
  limit applies). One writer decides them all (one process).
- `steady`: an open-loop rate of `--rate` bids/s (default 200) into the hot auction from 20 sockets:
  bids leave on a fixed schedule whatever the answers, and the latency of each answer is counted from
  the moment the bid was due (no coordinated omission).

Prices fall by one step per bid in send order (one counter per auction), so nearly all bids are
accepted; bids sent concurrently can still reach the server out of order, and those are refused
(NOT_IMPROVING) and counted. Refused bids are durable too (stored and audited).

The raw reference: one psycopg connection, per bid `BEGIN; SELECT … FOR UPDATE` the auction row, check
the price, `UPDATE` the row, `INSERT` the bid, `COMMIT` (tables `bench_raw_*` in the benchmark
database); closed loop for `hot` (one row) and `spread` (the rows in turn), open loop at the same rate
for `steady`.

Figures over `--seconds` after `--warmup`: bids decided and accepted per second, refusals by code,
answer latency p50/p99, the server's CPU use, how busy the whole machine was, and bids per commit (the
writer's mean batch size, counted from the stored bids' inserting transactions). `--profile DIR`
samples the server with py-spy. Nothing is asserted: the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import auction_common as common

PACE = 1 / 19  # seconds between two bids of one socket under the product's 20 bids/s limit


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="hot,hot-limited,spread,steady")
    parser.add_argument("--seconds", type=float, default=30, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured time before it")
    parser.add_argument("--hot-sockets", type=int, default=20)
    parser.add_argument("--window", type=int, default=1, help="bids in flight per socket (hot)")
    parser.add_argument("--limited-sockets", type=int, default=60)
    parser.add_argument("--spread", type=int, default=100, help="auctions in `spread`")
    parser.add_argument("--rate", type=float, default=200, help="open-loop bids/s in `steady`")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw psycopg reference")
    parser.add_argument("--setup", default=common.DEFAULT_SETUP, help="auction_setup.py output")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the benchmark database first (fresh auctions)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the daphne process (repeatable)",
    )
    parser.add_argument("--profile", help="directory: sample each server with py-spy, summarize")
    return parser.parse_args()


class Tally:
    """Answers inside the measured window."""

    def __init__(self, measure_from: float) -> None:
        self.measure_from = measure_from
        self.latencies: list[float] = []
        self.codes: dict[str, int] = {}

    def add(self, due: float, answered: float, code: str) -> None:
        if due >= self.measure_from:
            self.latencies.append(answered - due)
            self.codes[code] = self.codes.get(code, 0) + 1

    def figures(self, seconds: float) -> dict[str, Any]:
        decided = len(self.latencies)
        accepted = self.codes.get("accepted", 0)
        return {
            "decided_per_s": round(decided / seconds, 1),
            "accepted_per_s": round(accepted / seconds, 1),
            "codes": dict(sorted(self.codes.items())),
            "p50_ms": round(common.percentile(self.latencies, 50) * 1000, 1),
            "p99_ms": round(common.percentile(self.latencies, 99) * 1000, 1),
            "max_ms": round(max(self.latencies, default=float("nan")) * 1000, 1),
        }


class Prices:
    def __init__(self, start: Decimal, step: Decimal) -> None:
        self.start, self.step, self.n = start, step, itertools.count(1)

    def next(self) -> str:
        return str(self.start - self.step * next(self.n))


# --- The bid room ---------------------------------------------------------------------------------


class Bidder:
    """One bidder socket: sends bids, matches answers to their keys."""

    def __init__(self) -> None:
        self.socket: common.RawSocket | None = None
        self.waiting: dict[str, asyncio.Future] = {}
        self.state: asyncio.Future = asyncio.get_running_loop().create_future()
        self.keys = itertools.count()
        self.run = uuid.uuid4().hex[:10]

    def on_frames(self, texts: list[bytes], now: float) -> None:
        for text in texts:
            if text.startswith(b'{"type":"bid"'):
                continue  # the room's events: every socket gets every accepted bid
            frame = json.loads(text)
            if frame.get("type") == "state":
                if not self.state.done():
                    self.state.set_result(frame)
                continue
            future = self.waiting.pop(frame.get("key"), None)
            if future is not None and not future.done():
                future.set_result((frame, now))

    def bid(self, price: str) -> asyncio.Future:
        key = f"{self.run}-{next(self.keys)}"
        future = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        self.socket.send_text(json.dumps({"type": "bid", "key": key, "price": price}))
        return future


def code_of(frame: dict[str, Any]) -> str:
    return "accepted" if frame.get("type") == "ack" else frame.get("code") or frame.get("type")


async def open_bidders(port: int, auction_ids: list[int], setup: dict) -> list[Bidder]:
    cookies = [b["cookie"] for b in setup["bidders"]]

    async def opener(index: int) -> Bidder:
        bidder = Bidder()
        path = f"/ws/auctions/{auction_ids[index]}/"
        who = index % len(cookies)
        bidder.socket = await common.RawSocket.open(
            port, path, bidder.on_frames, cookies[who], common.bidder_host(who)
        )
        state = await asyncio.wait_for(bidder.state, 60)
        assert state["view"] == "bidder" and state["you"]["admitted"], state["you"]
        assert state["auction"]["status"] == "live", state["auction"]["status"]
        return bidder

    return await common.open_many(len(auction_ids), opener)


async def closed_loop(bidders, auction_ids, prices, window, pace, tally, stop_at) -> None:
    async def lane(bidder: Bidder, auction_id: int) -> None:
        monotonic = time.monotonic
        while (now := monotonic()) < stop_at:
            frame, answered = await bidder.bid(prices[auction_id].next())
            tally.add(now, answered, code_of(frame))
            if pace:
                await asyncio.sleep(max(0.0, now + pace - monotonic()))

    await asyncio.gather(
        *(
            lane(bidder, auction_id)
            for bidder, auction_id in zip(bidders, auction_ids, strict=True)
            for _ in range(window)
        )
    )


async def open_loop(bidders, auction_id, prices, rate, tally, began, stop_at) -> None:
    pending = []
    for k in itertools.count():
        due = began + k / rate
        if due >= stop_at:
            break
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        future = bidders[k % len(bidders)].bid(prices[auction_id].next())
        future.add_done_callback(
            lambda f, due=due: tally.add(due, f.result()[1], code_of(f.result()[0]))
        )
        pending.append(future)
    await asyncio.wait_for(asyncio.gather(*pending), 60)


def last_bid_id(database: str, table: str = "bidding_auctionbid") -> int:
    import psycopg

    with psycopg.connect(common.libpq_url(common.database_url(database)), autocommit=True) as c:
        return c.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]


def bids_per_commit(database: str, after_id: int, table: str = "bidding_auctionbid") -> float:
    """Bids stored since `after_id` per transaction that stored them (xmin: the inserting
    transaction), i.e. the writer's mean batch size."""
    import psycopg

    with psycopg.connect(common.libpq_url(common.database_url(database)), autocommit=True) as c:
        bids, transactions = c.execute(
            f"SELECT count(*), count(DISTINCT xmin::text) FROM {table} WHERE id > %s", [after_id]
        ).fetchone()
    return round(bids / transactions, 1) if transactions else float("nan")


def run_room(scenario: str, args: argparse.Namespace, setup: dict) -> dict[str, Any]:
    if scenario == "hot":
        auction_ids, window, pace, limit = [setup["hot"]] * args.hot_sockets, args.window, 0, 10_000
    elif scenario == "hot-limited":
        auction_ids, window, pace, limit = [setup["hot"]] * args.limited_sockets, 1, PACE, 20
    elif scenario == "spread":
        auction_ids, window, pace, limit = setup["spread"][: args.spread], 1, PACE, 20
    elif scenario == "steady":
        auction_ids, window, pace, limit = [setup["hot"]] * 20, 0, 0, 20
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    port = common.free_port()
    env = common.server_env(
        common.database_url(setup["database"]), BENCH_BIDS_PER_SECOND=str(limit), **args.env
    )
    server = common.start_daphne(port, env)
    try:
        return asyncio.run(
            room_phase(scenario, args, setup, port, server, auction_ids, window, pace)
        ) | {"sockets": len(auction_ids), "window": window, "per_socket_limit": limit}
    finally:
        common.stop(server)


async def room_phase(scenario, args, setup, port, server, auction_ids, window, pace) -> dict:
    bidders = await open_bidders(port, auction_ids, setup)
    step = Decimal(setup["step"])
    prices = {}
    for bidder, auction_id in zip(bidders, auction_ids, strict=True):
        if auction_id not in prices:
            auction = bidder.state.result()["auction"]
            prices[auction_id] = Prices(
                Decimal(auction["best_price"] or auction["start_price"]), step
            )
    began = time.monotonic()
    measure_from = began + args.warmup
    stop_at = measure_from + args.seconds
    tally = Tally(measure_from)
    marks: dict[str, float] = {}

    profile = None

    async def mark() -> None:
        nonlocal profile
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        marks["cpu"] = common.cpu_seconds(server.pid)
        marks["machine"] = common.machine_ticks()
        marks["bid_id"] = await asyncio.to_thread(last_bid_id, setup["database"])
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            out = str(Path(args.profile) / f"bids-{scenario}.txt")
            profile = common.start_profile(server.pid, args.seconds - 1, out)

    marker = asyncio.create_task(mark())
    if scenario == "steady":
        await open_loop(bidders, setup["hot"], prices, args.rate, tally, began, stop_at)
    else:
        await closed_loop(bidders, auction_ids, prices, window, pace, tally, stop_at)
    ended = time.monotonic()
    await marker
    cpu = common.cpu_seconds(server.pid) - marks["cpu"]
    machine = common.machine_busy(marks["machine"], common.machine_ticks())
    if profile is not None:
        await asyncio.to_thread(profile.wait)
        print(common.summarize_profile(profile.args[-1]))
    for bidder in bidders:
        bidder.socket.close()
    seconds = ended - measure_from
    batch = await asyncio.to_thread(bids_per_commit, setup["database"], marks["bid_id"])
    figures = tally.figures(seconds)
    return figures | {
        "path": "bid room",
        "scenario": scenario,
        "seconds": round(seconds, 1),
        "server_cpu_percent": round(cpu / seconds * 100),
        "machine_busy_percent": machine,
        "bids_per_commit": batch,
    }


# --- The raw reference ----------------------------------------------------------------------------

RAW_SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_raw_auction (
    id integer PRIMARY KEY, best numeric(16, 2) NOT NULL, seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bench_raw_bid (
    id bigserial PRIMARY KEY, auction_id integer NOT NULL REFERENCES bench_raw_auction,
    key varchar(64) NOT NULL, price numeric(16, 2) NOT NULL, seq bigint NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now()
);
"""


def run_raw(scenario: str, args: argparse.Namespace, setup: dict) -> dict[str, Any]:
    import psycopg

    rows = 1 if scenario in ("hot", "hot-limited", "steady") else args.spread
    start, step = Decimal(setup["start_price"]), Decimal(setup["step"])
    url = common.libpq_url(common.database_url(setup["database"]))
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(RAW_SCHEMA)
        c.execute("TRUNCATE bench_raw_bid, bench_raw_auction")
        c.cursor().executemany(
            "INSERT INTO bench_raw_auction (id, best) VALUES (%s, %s)",
            [(i, start) for i in range(rows)],
        )
    counters = [itertools.count(1) for _ in range(rows)]
    with psycopg.connect(url) as c:
        began = time.monotonic()
        measure_from = began + args.warmup
        stop_at = measure_from + args.seconds
        tally = Tally(measure_from)
        for k in itertools.count():
            if scenario == "steady":
                due = began + k / args.rate
                if due >= stop_at:
                    break
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            else:
                due = time.monotonic()
                if due >= stop_at:
                    break
            row = k % rows
            price = start - step * next(counters[row])
            with c.transaction():
                best = c.execute(
                    "SELECT best FROM bench_raw_auction WHERE id = %s FOR UPDATE", [row]
                ).fetchone()[0]
                accepted = price < best and (best - price) % step == 0
                if accepted:
                    seq = c.execute(
                        "UPDATE bench_raw_auction SET best = %s, seq = seq + 1 WHERE id = %s "
                        "RETURNING seq",
                        [price, row],
                    ).fetchone()[0]
                    c.execute(
                        "INSERT INTO bench_raw_bid (auction_id, key, price, seq) "
                        "VALUES (%s, %s, %s, %s)",
                        [row, f"raw-{k}", price, seq],
                    )
            tally.add(due, time.monotonic(), "accepted" if accepted else "NOT_IMPROVING")
        ended = time.monotonic()
    seconds = ended - measure_from
    return tally.figures(seconds) | {
        "path": "raw psycopg",
        "scenario": scenario,
        "seconds": round(seconds, 1),
        "bids_per_commit": 1,
        "sockets": 0,
        "window": 1,
    }


def show(figures: dict[str, Any]) -> None:
    who = figures["path"]
    if figures.get("sockets"):
        who += f" ({figures['sockets']} sockets × {figures['window'] or 'open loop'}"
        who += f", limit {figures['per_socket_limit']}/s)"
    line = (
        f"{figures['scenario']:>11} {who:<42} {figures['accepted_per_s']:7.1f} accepted/s "
        f"({figures['decided_per_s']:.1f} decided), p50/p99 {figures['p50_ms']}/"
        f"{figures['p99_ms']} ms (max {figures['max_ms']}), {figures['bids_per_commit']} bids/commit"
    )
    if "server_cpu_percent" in figures:
        line += f", server CPU {figures['server_cpu_percent']} %"
        line += f", machine {figures['machine_busy_percent']} % busy"
    print(line)
    print(f"{'':>12}answers {figures['codes']}", flush=True)


def main() -> None:
    args = parse_args()
    args.env = dict(item.split("=", 1) for item in args.server_env)
    setup = common.load_setup(args.setup, rebuild=args.rebuild)
    print(common.describe_machine())
    print(f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per run")
    print(f"before: {common.load()}; {common.bids_in(setup)}", flush=True)
    results = []
    for scenario in args.scenarios.split(","):
        if not args.no_raw and scenario != "hot-limited":
            results.append(run_raw(scenario, args, setup))
            show(results[-1])
        results.append(run_room(scenario, args, setup))
        show(results[-1])
    print(f"after: {common.load()}; {common.bids_in(setup)}")
    raw = {r["scenario"]: r for r in results if r["path"] == "raw psycopg"}
    for room in (r for r in results if r["path"] == "bid room"):
        reference = raw.get("hot" if room["scenario"] == "hot-limited" else room["scenario"])
        if reference is None:
            continue
        if room["scenario"] == "steady":
            print(
                f"steady {args.rate:g} bids/s: p99 {room['p99_ms']} ms (raw {reference['p99_ms']} ms)"
            )
        else:
            print(
                f"{room['scenario']}: {room['accepted_per_s']:.0f} / {reference['accepted_per_s']:.0f}"
                f" accepted/s = {room['accepted_per_s'] / reference['accepted_per_s']:.2f} of raw"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"\nRerun: {' '.join(['python', 'bench/auction_bids.py', *sys.argv[1:]])}")


if __name__ == "__main__":
    main()
