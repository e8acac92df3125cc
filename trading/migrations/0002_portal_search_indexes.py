"""Indexes for the public portal at 100,000+ announcements (PostgreSQL only; see docs/performance.md).

- A pg_trgm GIN index on the announcement title: `title LIKE '%…%'` and `title ~* '…'` (the portal's
  title search, trading.views._title_search) use it from three characters on instead of scanning
  every row.
- A partial index on the bid deadline of published projects: the portal's "open for bids" filter
  reads the few open projects instead of every project.

SQLite (development, tests) has neither index type and scans, which is fast at its sizes. The indexes
are created CONCURRENTLY so a live portal keeps serving while they build.
"""

from django.db import migrations

INDEXES = [
    (
        "announcement_title_trgm_idx",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS announcement_title_trgm_idx "
        "ON trading_announcement USING gin (title gin_trgm_ops)",
    ),
    (
        "project_open_deadline_idx",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS project_open_deadline_idx "
        "ON trading_project (bid_deadline) WHERE status = 'published'",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for _name, sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _sql in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("trading", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
