"""Settings of the daphne processes started by the auction benchmarks: the project's settings, plus a
per-socket bid limit taken from the environment (`BENCH_BIDS_PER_SECOND`, default: the product's 20).

Used as `DJANGO_SETTINGS_MODULE=bench.auction_settings` (from the repository root); nothing else
differs from production settings. The benchmarks run with DEBUG off (bench/auction_common.py).
"""

import os

from config.settings import *  # noqa: F403

AUCTION_BIDS_PER_SECOND = int(os.environ.get("BENCH_BIDS_PER_SECOND") or 20)
