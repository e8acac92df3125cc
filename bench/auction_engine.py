"""The bid engine alone: `services.place_bids` batches in a plain process, no sockets, no server.

What one batch costs the writer thread, and (with --profile) where that time goes. A batch is
`--size` bids spread over `--auctions` auctions (1 = the hot auction; more = the `spread` ones), each
bid one step below the last in its auction, from the setup's bidders in turn. Rerun from the
repository root (PostgreSQL from DATABASE_URL, as the other auction benchmarks):

    python bench/auction_engine.py --size 50 --auctions 50 --batches 200
    python bench/auction_engine.py --size 10 --auctions 1 --batches 200 --profile

Runs on the database built by bench/auction_setup.py (built when missing), with DEBUG off.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import auction_common as common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=50, help="bids per batch")
    parser.add_argument(
        "--auctions", type=int, default=50, help="auctions the batch is spread over"
    )
    parser.add_argument("--batches", type=int, default=200, help="batches to time")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument(
        "--sort", default="cumulative", help="the profile's order: cumulative, tottime, …"
    )
    parser.add_argument("--setup", default=common.DEFAULT_SETUP, help="setup JSON file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    setup = common.load_setup(args.setup)
    os.environ.update(common.server_env(common.database_url(setup["database"])))
    import django

    django.setup()
    from django.db import connection

    from accounts.actors import Actor
    from accounts.models import User
    from bidding.auction import services
    from bidding.models import Auction

    auction_ids = ([setup["hot"]] + setup["spread"])[: args.auctions]
    users = list(User.objects.filter(username__in=[b["username"] for b in setup["bidders"]]))
    actors = [Actor.for_user(u, ip=f"127.0.0.{11 + i}") for i, u in enumerate(users)]
    step = Decimal(setup["step"])
    price = {
        a.pk: a.best_price or Decimal(setup["start_price"])
        for a in Auction.objects.filter(pk__in=auction_ids)
    }
    run = f"{os.getpid()}-{int(time.time())}"

    def batch(number: int) -> list:
        requests = []
        for i in range(args.size):
            auction_id = auction_ids[i % len(auction_ids)]
            price[auction_id] -= step
            actor = actors[(number * args.size + i) % len(actors)]
            key = f"engine-{run}-{number}-{i}"
            requests.append(services.BidRequest(actor, auction_id, key, f"{price[auction_id]:.2f}"))
        return requests

    for number in range(5):  # warm up: imports, caches, the address records
        services.place_bids(batch(number))
    profiler = cProfile.Profile() if args.profile else None
    times, refused = [], 0
    for number in range(5, 5 + args.batches):
        requests = batch(number)
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        answers = services.place_bids(requests)
        if profiler:
            profiler.disable()
        times.append(time.perf_counter() - started)
        refused += sum(not a.accepted for a in answers)
    connection.close()

    ms = sorted(t * 1000 for t in times)
    per_bid = statistics.median(ms) / args.size
    print(
        f"batches of {args.size} bids over {len(auction_ids)} auction(s), {args.batches} batches: "
        f"median {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9)]:.1f} ms per batch; "
        f"{per_bid:.2f} ms per bid = {1000 / per_bid:,.0f} bids/s on one thread; refused {refused}"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(35)
    print("rerun: python bench/auction_engine.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
