"""Settings of the daphne processes started by the auction benchmarks: the project's settings, plus a
per-socket bid limit taken from the environment (`BENCH_BIDS_PER_SECOND`, default: the product's 20)
and, to compare the room's write paths in one run, `BENCH_FRAME_ONCE=0` (every frame through daphne's
per-socket send instead of one prepared frame per event: `--targets django,django+BENCH_FRAME_ONCE=0`)
and `BENCH_SEND_NOW=0` (prepared frames through Twisted's buffered write instead of a direct send).

Used as `DJANGO_SETTINGS_MODULE=bench.auction_settings` (from the repository root); nothing else
differs from production settings. The benchmarks run with DEBUG off (bench/auction_common.py).
"""

import os

from config.settings import *  # noqa: F403

AUCTION_BIDS_PER_SECOND = int(os.environ.get("BENCH_BIDS_PER_SECOND") or 20)
AUCTION_FRAME_ONCE = os.environ.get("BENCH_FRAME_ONCE", "1") != "0"
AUCTION_SEND_NOW = os.environ.get("BENCH_SEND_NOW", "1") != "0"
