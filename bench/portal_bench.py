"""The public portal at 100,000 announcements, on PostgreSQL, through the real views.

Rerun (from the repository root; DATABASE_URL names any database on the server, only its server and
credentials are used):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bidhall python bench/portal_bench.py

Options: --rows 100000 (announcements), --repeat 30 (timed requests per page), --db bidhall_bench (the
benchmark database, dropped and re-created), --keep (leave it for inspection; then --reuse skips the
fixture next time), --explain (print the plan of each page's slowest query).

What it does: creates a separate database, migrates it, loads the fixture with COPY (projects with
one lot, two announcements per project, one or two versions each, with real content hashes; direct
inserts, no services, no audit events) and VACUUM ANALYZEs. Then it requests each portal page through
django.test.Client: list page 1 and deep pages, every filter, title searches (2, 4 and 6 characters),
project-number searches, an announcement's detail and verification pages, and the Atom feed. Each page
is requested `--repeat` times with the portal's count cache warm and again with it cleared before
every request (a first visit); the script prints p50/p95 of both, the page's SQL query count and its
slowest query. Nothing here is asserted: the figures go to docs/performance.md.

SQLite is refused: the figures are for the production database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DISTRICTS = ["香洲区", "斗门区", "金湾区", "高新区", "横琴", "万山", "保税区", "唐家湾"]
PLACES = [
    "第一中学",
    "人民医院",
    "市政道路",
    "体育中心",
    "污水处理厂",
    "人才公寓",
    "图书馆",
    "档案馆",
    "口岸配套",
    "城市公园",
    "智慧校园",
    "海岸线",
]
WORKS = [
    "改造工程",
    "新建工程",
    "设备采购项目",
    "物业服务采购",
    "勘察设计",
    "监理服务",
    "绿化养护",
    "信息化平台建设",
    "国有建设用地使用权挂牌出让",
    "排污权交易",
]
REGIONS = ["440400", "440402", "440403", "440404"]
KINDS = ["construction", "gp", "land", "rights"]
MAIN_KIND = {
    "construction": "tender",
    "gp": "procurement",
    "land": "land_listing",
    "rights": "tender",
}
FOLLOW_UP = ["amendment", "clarification", "candidates", "result", "termination", "deal"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="announcements to insert")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page")
    parser.add_argument("--db", default="bidhall_bench", help="benchmark database name")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept benchmark database")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow queries")
    return parser.parse_args()


def bench_url(args: argparse.Namespace) -> tuple[str, str]:
    """(the server's maintenance URL, the benchmark database URL); refuses anything but PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("portal_bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/db")
    return url, urlunsplit(parts._replace(path=f"/{args.db}"))


def prepare_database(server_url: str, name: str, reuse: bool) -> bool:
    """Create the benchmark database (dropping an old one). Returns True when a kept one is reused."""
    import psycopg

    with psycopg.connect(
        server_url.replace("postgres://", "postgresql://", 1), autocommit=True
    ) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return True
        if exists:
            c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return False


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(
        server_url.replace("postgres://", "postgresql://", 1), autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- The fixture ---------------------------------------------------------------------------------


def copy_rows(model: type, rows: list[dict]) -> None:
    """COPY rows (dicts by attribute name, ids included) into the model's table. Unnamed columns take
    their field default, so a column another change adds with a default does not break the bench."""
    import json

    from django.db import connection, models

    fields = list(model._meta.concrete_fields)
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(f'"{f.column}"' for f in fields)
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    with connection.cursor() as cursor:
        sql = f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN'
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                values = []
                for f in fields:
                    value = row.get(f.attname, defaults[f.attname])
                    if f.attname in json_fields and value is not None:
                        value = json.dumps(value, ensure_ascii=False)
                    values.append(value)
                copy.write_row(values)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{model._meta.db_table}\"', 'id'), "
            f'(SELECT max(id) FROM "{model._meta.db_table}"))'
        )


def insert_fixture(rows: int) -> None:
    """Projects (one lot each), two announcements per project, one or two versions per announcement,
    written with COPY (minutes faster than bulk_create's quoted arrays of JSON)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts import services as account_services
    from accounts.actors import Actor
    from accounts.models import Organization, Role
    from lib.canonical import canonical_value
    from trading.models import Announcement, AnnouncementVersion, Lot, Project
    from trading.services import content_hash

    rng = random.Random(20260301)
    system = Actor.system("bench")
    agent_org = account_services.create_organization(
        system, uscc="91440400MA4W2B012X", name="广东正诚招标代理有限公司", kind="agent"
    )
    owner = account_services.create_organization(
        system, uscc="1144040000700002X3", name="珠海市教育局", kind=Organization.Kind.OWNER
    )
    user = account_services.create_user(
        system, organization=agent_org, username="bench-agent", role=Role.AGENT
    )
    lot_content = {
        "number": 1,
        "name": "第一标段",
        "estimate": "38000000.00",
        "ceiling_price": "36500000.00",
        "deposit_amount": "500000.00",
        "deposit_forms": ["bank_guarantee"],
    }
    now = timezone.now()
    projects_needed = (rows + 1) // 2
    batch = 10_000
    started = time.perf_counter()
    made = version_id = 0
    for first in range(0, projects_needed, batch):
        projects, lots, announcements, versions = [], [], [], []
        for i in range(first, min(first + batch, projects_needed)):
            pk = i + 1
            kind = rng.choice(KINDS)
            # Newest last: project i was published (projects_needed - i) * 15 minutes ago.
            published = now - dt.timedelta(minutes=15 * (projects_needed - i))
            deadline = published + dt.timedelta(days=25)
            title = f"{rng.choice(DISTRICTS)}{rng.choice(PLACES)}{rng.choice(WORKS)}（{i}）"
            project = {
                "id": pk,
                "number": f"BH{published:%Y}{kind[:2].upper()}{pk:06d}",
                "title": title,
                "description": f"{title}。资金来源：财政资金。",
                "kind": kind,
                "category": "goods" if kind == "gp" else "works",
                "method": "land_listing" if kind == "land" else "open",
                "region": rng.choice(REGIONS),
                "owner_id": owner.pk,
                "agent_id": agent_org.pk,
                "documents_from": published,
                "documents_until": published + dt.timedelta(days=7),
                "questions_until": published + dt.timedelta(days=9),
                "bid_deadline": deadline,
                "deposit_deadline": deadline,
                "status": "terminated" if i % 50 == 0 else "published",
                "created_by_id": user.pk,
                "created_at": published,
                "submitted_at": published,
                "approved_at": published,
                "published_at": published,
            }
            projects.append(project)
            lots.append({"id": pk, "project_id": pk, **lot_content})
            follow = FOLLOW_UP[i % len(FOLLOW_UP)]
            for order, notice in enumerate((MAIN_KIND[kind], follow)):
                if made + len(announcements) >= rows:
                    break
                announcement_id = made + len(announcements) + 1
                at = published + dt.timedelta(days=order * 3)
                count = 2 if (i + order) % 5 == 0 else 1
                notice_title = f"{title}{Announcement.Kind(notice).label}"
                announcements.append(
                    {
                        "id": announcement_id,
                        "project_id": pk,
                        "kind": notice,
                        "title": notice_title,
                        "region": project["region"],
                        "project_kind": kind,
                        "first_published_at": at,
                        "last_published_at": at + dt.timedelta(hours=count - 1),
                        "version_count": count,
                    }
                )
                previous = None
                for number in range(1, count + 1):
                    version_at = at + dt.timedelta(hours=number - 1)
                    content = canonical_value(
                        {
                            "announcement": {"id": announcement_id, "kind": notice},
                            "version": number,
                            "title": notice_title,
                            "body": project["description"],
                            "reason": "首次发布" if number == 1 else "变更",
                            "published_at": version_at,
                            "previous_sha256": previous,
                            "project": {
                                "number": project["number"],
                                "title": title,
                                "kind": kind,
                                "category": project["category"],
                                "method": project["method"],
                                "region": project["region"],
                                "owner": {"name": owner.name, "uscc": owner.uscc},
                                "agent": {"name": agent_org.name, "uscc": agent_org.uscc},
                                "registration_required": True,
                                "bid_validity_days": 90,
                                "timeline": {
                                    name: project[name]
                                    for name in (
                                        "documents_from",
                                        "documents_until",
                                        "questions_until",
                                        "bid_deadline",
                                        "deposit_deadline",
                                    )
                                },
                                "lots": [lot_content],
                                "documents": [],
                                "status": project["status"],
                            },
                        }
                    )
                    version_id += 1
                    previous = content_hash(content)
                    versions.append(
                        {
                            "id": version_id,
                            "announcement_id": announcement_id,
                            "number": number,
                            "title": notice_title,
                            "body": project["description"],
                            "content": content,
                            "sha256": previous,
                            "reason": content["reason"],
                            "published_at": version_at,
                            "published_by_id": user.pk,
                        }
                    )
        with transaction.atomic():
            copy_rows(Project, projects)
            copy_rows(Lot, lots)
            copy_rows(Announcement, announcements)
            copy_rows(AnnouncementVersion, versions)
        made += len(announcements)
        print(f"  {made:>7} announcements  ({time.perf_counter() - started:5.1f} s)", flush=True)
        if made >= rows:
            break
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- Timing ---------------------------------------------------------------------------------------


def pages(rows: int) -> list[tuple[str, str]]:
    from trading.models import Announcement, Project
    from trading.views import PORTAL_PAGE_SIZE

    last_page = max(1, (Announcement.objects.count() + PORTAL_PAGE_SIZE - 1) // PORTAL_PAGE_SIZE)
    deep = max(1, last_page // 2)
    detail = Announcement.objects.filter(version_count=2).order_by("-last_published_at").first()
    sample = Project.objects.order_by("pk")[rows // 4]
    middle = Announcement.objects.order_by("last_published_at")[rows // 2].last_published_at
    month_start = middle.date()
    month_end = month_start + dt.timedelta(days=30)
    return [
        ("list, page 1", "/portal/"),
        (f"list, page {deep} (deep)", f"/portal/?page={deep}"),
        (f"list, page {last_page} (last)", f"/portal/?page={last_page}"),
        ("filter kind=amendment", "/portal/?kind=amendment"),
        ("filter kind=amendment, page 200", "/portal/?kind=amendment&page=200"),
        ("filter project_kind=gp", "/portal/?project_kind=gp"),
        ("filter status=open", "/portal/?status=open"),
        ("filter status=closed", "/portal/?status=closed"),
        ("filter region=440403", "/portal/?region=440403"),
        ("filter one month", f"/portal/?date_from={month_start}&date_to={month_end}"),
        (
            "filters combined",
            "/portal/?kind=tender&project_kind=construction&region=440402&status=closed",
        ),
        ("search title, 2 chars (医院)", "/portal/?q=医院"),
        ("search title, 4 chars (体育中心)", "/portal/?q=体育中心"),
        ("search title, rare (图书馆信息化)", "/portal/?q=图书馆信息化"),
        ("search number (exact)", f"/portal/?q={sample.number}"),
        ("search number (prefix)", f"/portal/?q={sample.number[:10]}"),
        ("announcement detail", f"/portal/announcements/{detail.pk}/"),
        ("version verification", f"/portal/announcements/{detail.pk}/v/2/"),
        ("Atom feed", "/portal/feed.atom"),
    ]


def timed(client, url: str, repeat: int, before=None) -> list[float]:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def measure(repeat: int, rows: int, explain: bool) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    print(
        "\nwarm: the portal's 60-second cache of large counts is filled; cold: cleared before each "
        "request (a first visit)."
    )
    header = f"{'page':<40} {'warm p50':>9} {'warm p95':>9} {'cold p50':>9} {'cold p95':>9}"
    print(f"{header} {'queries':>8} {'slowest SQL (cold)':>19}")
    for label, url in pages(rows):
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = list(captured.captured_queries)
        slowest = max(queries, key=lambda q: float(q["time"]))
        client.get(url)  # fills the count cache again
        warm = timed(client, url, repeat)
        cold = timed(client, url, repeat, before=cache.clear)
        print(
            f"{label:<40} {statistics.median(warm):>9.1f} {p95(warm):>9.1f} "
            f"{statistics.median(cold):>9.1f} {p95(cold):>9.1f} {len(queries):>8} "
            f"{float(slowest['time']) * 1000:>16.1f} ms",
            flush=True,
        )
        if explain:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
                print("    " + slowest["sql"][:300])
                for (line,) in cursor.fetchall():
                    print("    " + line)


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return ""


def describe_machine() -> str:
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} × {cpu}{memory}; PostgreSQL {server}; Python {platform.python_version()}"
    )


def main() -> None:
    args = parse_args()
    server_url, url = bench_url(args)
    reused = prepare_database(server_url, args.db, args.reuse)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Whitenoise warns when collectstatic has not run; the bench serves no static files.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # No SQL logging (DEBUG keeps every query in memory); settings are otherwise a checkout's defaults.
    settings.DEBUG = False
    try:
        call_command("migrate", verbosity=0)
        if not reused:
            print(f"Inserting {args.rows} announcements into {args.db} …", flush=True)
            insert_fixture(args.rows)
        print(describe_machine())
        print(f"before: {load()}")
        measure(args.repeat, args.rows, args.explain)
        print(f"after: {load()}")
        print(
            f"\nRerun: DATABASE_URL=<postgres server URL> python bench/portal_bench.py "
            f"--rows {args.rows} --repeat {args.repeat}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(server_url, args.db)


if __name__ == "__main__":
    main()
