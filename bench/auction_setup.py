"""Builds the auction benchmarks' database: live auctions and logged-in bidders.

Run by auction_fanout.py and auction_bids.py when their setup file is missing; by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/auction_setup.py

Only the server and credentials of DATABASE_URL are used. The script drops and re-creates the database
`--db` (default bidhall_auction_bench), migrates it, and through the real services creates a published
电子反拍 project with 1 + `--auctions` lots (default 1 + 100), `--bidders` supplier organizations
(default 10) each with one user registered for every lot, and an open-format auction on every lot that
is live from now on for `--hours` (default 6), open to public watchers, starting at 1,000,000,000.00
with a step of 0.01 (so prices can fall for a very long time; no bid comes near the end, so no
extension). It writes JSON to `--out`: the database, the hot auction's id, the other auctions' ids and
one session cookie per bidder.

The past (publication, registration, creating the auctions) is replayed with time_machine, as the
tests do; the auctions start at the real current time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import auction_common as common

START_PRICE = "1000000000.00"
STEP = "0.01"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=common.DEFAULT_DB, help="benchmark database name")
    parser.add_argument("--auctions", type=int, default=100, help="auctions besides the hot one")
    parser.add_argument("--bidders", type=int, default=10, help="supplier organizations")
    parser.add_argument("--hours", type=float, default=6, help="how long the auctions stay live")
    parser.add_argument("--out", default=common.DEFAULT_SETUP, help="where to write the JSON")
    return parser.parse_args()


def create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(common.libpq_url(common.server_url()), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


_USCC_BODIES = iter(range(1, 1_000_000))


def make_uscc(prefix: str = "91440400") -> str:
    """A valid 统一社会信用代码 (the same construction as the tests')."""
    from stdnum.cn import uscc as uscc_number

    body = f"MB{next(_USCC_BODIES):06d}"
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    check = 11 - sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True)) % 11
    base = prefix + body + {10: "X", 11: "0"}.get(check, str(check))
    return base + uscc_number.calc_check_digit(base)


def build(args: argparse.Namespace) -> dict:
    import time_machine
    from django.test import Client
    from django.utils import timezone

    from accounts import services as accounts
    from accounts.actors import Actor
    from accounts.models import Organization, Role
    from bidding.auction import services as auctions
    from trading import services as trading
    from trading.models import Project

    system = Actor.system("bench")

    def org(kind: str, name: str) -> Organization:
        return accounts.create_organization(system, uscc=make_uscc(), name=name, kind=kind)

    def user(username: str, role: str, organization: Organization):
        return accounts.create_user(system, organization=organization, username=username, role=role)

    now = timezone.now()
    t0 = now - dt.timedelta(days=12)
    deadline = t0 + dt.timedelta(days=10)
    lots = [
        {
            "name": f"压测标段{index:03d}",
            "estimate": "1000000000.00",
            "deposit_amount": "0.00",
            "deposit_forms": [],
        }
        for index in range(1 + args.auctions)
    ]
    with time_machine.travel(t0, tick=False):
        agent = user("bench-agent", Role.AGENT, org(Organization.Kind.AGENT, "压测招标代理"))
        staff = user(
            "bench-staff", Role.CENTER_STAFF, org(Organization.Kind.CENTER, "压测交易中心")
        )
        owner = org(Organization.Kind.OWNER, "压测采购人")
        project = trading.create_project(
            Actor.for_user(agent),
            owner=owner,
            lots=lots,
            title="压测电子反拍项目",
            description="auction benchmark",
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            method=Project.Method.REVERSE_AUCTION,
            documents_from=t0 + dt.timedelta(minutes=1),
            documents_until=deadline,
            questions_until=deadline - dt.timedelta(days=3),
            bid_deadline=deadline,
        )
        trading.submit_project(Actor.for_user(agent), project)
        trading.approve_project(Actor.for_user(staff), project)
        trading.publish_project(Actor.for_user(agent), project)
    project_lots = list(project.lots.order_by("pk"))
    bidders = []
    with time_machine.travel(t0 + dt.timedelta(hours=2), tick=False):
        for index in range(args.bidders):
            supplier = org(Organization.Kind.SUPPLIER, f"压测竞价供应商{index + 1:02d}有限公司")
            bidder = user(f"bench-bidder{index + 1:02d}", Role.SUPPLIER, supplier)
            for lot in project_lots:
                trading.register(Actor.for_user(bidder), lot)
            bidders.append(bidder)
    ids = []
    with time_machine.travel(t0 + dt.timedelta(days=1), tick=False):
        for lot in project_lots:
            auction = auctions.create_auction(
                Actor.for_user(agent),
                lot,
                start_price=START_PRICE,
                step=STEP,
                starts_at=now,
                duration_seconds=int(args.hours * 3600),
                public_view=True,
            )
            ids.append(auction.pk)
    # Back in the present: the auctions are due, so the first read starts them.
    for auction_id in ids:
        auctions.advance(Actor.system("bench"), auction_id)
    cookies = []
    for bidder in bidders:
        client = Client()
        client.force_login(bidder)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return {
        "database": args.db,
        "schema": common.schema_fingerprint(),
        "created": now.isoformat(),
        "hot": ids[0],
        "spread": ids[1:],
        "start_price": START_PRICE,
        "step": STEP,
        "bidders": [
            {"username": b.username, "cookie": c} for b, c in zip(bidders, cookies, strict=True)
        ],
    }


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    create_database(args.db)
    os.environ.update(common.bench_environ())
    os.environ["DATABASE_URL"] = common.database_url(args.db)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    data = build(args)
    from bidding.models import Auction

    live = Auction.objects.filter(pk__in=[data["hot"], *data["spread"]], status="live").count()
    if live != 1 + len(data["spread"]):
        sys.exit(f"only {live} of {1 + len(data['spread'])} auctions are live")
    Path(args.out).write_text(json.dumps(data, ensure_ascii=False, indent=1))
    print(
        f"{args.db}: hot auction {data['hot']}, {len(data['spread'])} more, "
        f"{len(data['bidders'])} bidders; {args.out} written in {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
