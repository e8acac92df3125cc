"""Reconnect storm: W watchers open the hot auction's room at once, as after a server restart or a
network blip in the closing minutes. How long until every one of them has its `state` frame?

Rerun (from the repository root; PostgreSQL from DATABASE_URL as for the other auction benchmarks):

    python bench/auction_connect.py --repeat 3             # 1,000 anonymous watchers, one daphne
    python bench/auction_connect.py --bidders 50           # and 50 logged-in bidders among them

What it does: builds the benchmark database with auction_setup.py if needed, starts daphne (DEBUG off,
bench/auction_common.py), and for each round opens `--watchers` anonymous sockets on the public hot
auction from `--procs` generator processes, at most `--parallel` handshakes in flight per process,
plus `--bidders` sockets of logged-in suppliers (whose `state` carries their own seat). Each socket
counts from the TCP connect to its `state` frame. Figures: wall time until the last socket has its
state, sockets/s, p50/p99/max per socket, and the server's CPU time per socket. All sockets are closed
between rounds; the server stays up, so rounds after the first also show a warm process.
`--profile DIR` samples the server with py-spy during each round. Nothing is asserted; the figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import auction_common as common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--bidders", type=int, default=0, help="logged-in supplier sockets")
    parser.add_argument("--procs", type=int, default=2, help="generator processes for watchers")
    parser.add_argument(
        "--parallel", type=int, default=100, help="handshakes in flight per process"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--setup", default=common.DEFAULT_SETUP, help="auction_setup.py output")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the benchmark database")
    parser.add_argument("--profile", help="directory: sample the server with py-spy, summarize")
    return parser.parse_args()


async def open_all(port: int, path: str, count: int, parallel: int, cookies: list[str]):
    """Open `count` sockets (the first ones with `cookies`); each one's seconds to its state."""
    seconds: list[float] = []
    sockets = []

    async def opener(index: int):
        cookie = cookies[index] if index < len(cookies) else None
        for attempt in range(5):  # a loaded server may drop a handshake: try again
            state = asyncio.get_running_loop().create_future()

            def on_frames(texts, now, state=state):
                for text in texts:
                    if not state.done() and json.loads(text).get("type") == "state":
                        state.set_result(now)

            started = time.monotonic()
            try:
                socket = await common.RawSocket.open(port, path, on_frames, cookie=cookie)
                arrived = await asyncio.wait_for(state, 120)
            except OSError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            seconds.append(arrived - started)
            sockets.append(socket)
            return

    await common.open_many(count, opener, parallel=parallel)
    return sockets, seconds


def generator(conn, port: int, path: str, count: int, parallel: int, cookies: list[str]) -> None:
    async def main():
        conn.recv()  # "go"
        sockets, seconds = await open_all(port, path, count, parallel, cookies)
        conn.send(seconds)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "close"
        for socket in sockets:
            socket.close()
        await asyncio.sleep(0.5)
        conn.send("closed")

    asyncio.run(main())


def one_round(args, port: int, path: str, cookies: list[str], server, index: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    total = args.watchers + len(cookies)
    per = [total // args.procs + (i < total % args.procs) for i in range(args.procs)]
    pipes, procs, given = [], [], 0
    for count in per:
        parent, child = ctx.Pipe()
        mine = cookies[given : given + count]
        given += len(mine)
        proc = ctx.Process(target=generator, args=(child, port, path, count, args.parallel, mine))
        proc.start()
        child.close()
        pipes.append(parent)
        procs.append(proc)
    time.sleep(2.0)  # let the generator processes import and wait for "go"
    profile = None
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        out = str(Path(args.profile) / f"connect-{index}.txt")
        profile = common.start_profile(server.pid, 60, out)
        time.sleep(0.5)
    cpu_before, ticks_before = common.cpu_seconds(server.pid), common.machine_ticks()
    started = time.monotonic()
    for pipe in pipes:
        pipe.send("go")
    seconds: list[float] = []
    for pipe in pipes:
        seconds.extend(pipe.recv())
    wall = time.monotonic() - started
    cpu = common.cpu_seconds(server.pid) - cpu_before
    busy = common.machine_busy(ticks_before, common.machine_ticks())
    if profile is not None:
        profile.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        profile.wait()
    for pipe in pipes:
        pipe.send("close")
    for pipe in pipes:
        pipe.recv()
    for proc in procs:
        proc.join(30)
    return {
        "sockets": len(seconds),
        "wall_seconds": round(wall, 2),
        "sockets_per_second": round(len(seconds) / wall),
        "p50_ms": round(1000 * common.percentile(seconds, 50)),
        "p99_ms": round(1000 * common.percentile(seconds, 99)),
        "max_ms": round(1000 * max(seconds)),
        "server_cpu_ms_per_socket": round(1000 * cpu / len(seconds), 2),
        "machine_busy": busy,
        "profile": profile.args[-1] if profile is not None else None,
    }


def main() -> None:
    args = parse_args()
    setup = common.load_setup(args.setup, rebuild=args.rebuild)
    print(common.describe_machine())
    print(
        f"{args.watchers} anonymous watchers + {args.bidders} bidders, {args.procs} generator "
        f"processes, {args.parallel} handshakes in flight each; {common.load()}"
    )
    cookies = [b["cookie"] for b in setup["bidders"]][: args.bidders]
    if len(cookies) < args.bidders:
        print(f"the benchmark database has {len(cookies)} bidders; using those")
    port = common.free_port()
    server = common.start_daphne(port, common.server_env(common.database_url(setup["database"])))
    path = f"/ws/auctions/{setup['hot']}/"
    try:
        for index in range(args.repeat):
            figures = one_round(args, port, path, cookies, server, index)
            print(
                f"round {index + 1}: {figures['sockets']} sockets in {figures['wall_seconds']} s "
                f"({figures['sockets_per_second']}/s), per socket p50/p99/max "
                f"{figures['p50_ms']}/{figures['p99_ms']}/{figures['max_ms']} ms, server CPU "
                f"{figures['server_cpu_ms_per_socket']} ms per socket, machine "
                f"{figures['machine_busy']} % busy"
            )
            if figures["profile"]:
                print(common.summarize_profile(figures["profile"]))
    finally:
        common.stop(server)
    print("\nRerun: python bench/auction_connect.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
