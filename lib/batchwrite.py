"""Writes whose answers nobody reads, sent together: the bid engine's and the audit chain's.

Django sends each statement and waits for PostgreSQL's answer, and psycopg's client-side binding
(Django's default) quotes every value into the SQL text, array elements through regular expressions.
A batch of bids ends with three inserts and three updates whose answers are never read, then the
audit chain, which only needs the chain head: twelve round trips and most of the batch's Python time
in query compilation (bench/auction_engine.py, docs/performance.md section F).

On PostgreSQL these calls go through one psycopg cursor that binds on the server (parameters travel
as values, statements repeated often are prepared), and inside `pipeline()` they are queued and sent
together: PostgreSQL answers them at the next `fetchone` or at the end of the block, where an error
is raised as from any statement. On other databases (SQLite) each call is one ordinary statement
through Django.

Inside `pipeline()`, only this module's functions may touch the database: an ORM write there would
read a row count the pipeline has not delivered yet, so any statement through Django's cursors
raises `RuntimeError` there instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from django.db import connection, models

if TYPE_CHECKING:
    import psycopg

M = TypeVar("M", bound=models.Model)

_state = threading.local()  # `cursor`: the open pipeline's cursor on this thread's connection


def _server_binding() -> bool:
    return connection.vendor == "postgresql"


def _new_cursor() -> psycopg.Cursor[Any]:
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


@contextmanager
def pipeline() -> Iterator[None]:
    """Queue this module's statements and send them together (PostgreSQL); a no-op elsewhere.

    Must run inside the caller's `transaction.atomic()`: an error comes out of the block and rolls
    the whole transaction back, queued statements included.
    """
    if not _server_binding() or getattr(_state, "cursor", None) is not None:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("batchwrite.pipeline must run inside transaction.atomic()")
    cursor = _new_cursor()
    _state.cursor = cursor
    try:
        with (
            connection.execute_wrapper(_refuse_django_statements),
            connection.connection.pipeline(),
        ):
            yield
    finally:
        _state.cursor = None
        cursor.close()


def _refuse_django_statements(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> NoReturn:
    raise RuntimeError(
        "an ORM statement inside batchwrite.pipeline(): run it before or after the block "
        f"(its answer would not be there yet): {sql[:120]}"
    )


@contextmanager
def _cursor() -> Iterator[Any]:
    queued = getattr(_state, "cursor", None)
    if queued is not None:
        yield queued
        return
    if _server_binding():
        with _new_cursor() as cursor:
            yield cursor
        return
    with connection.cursor() as cursor:
        yield cursor


def execute(sql: str, params: Sequence[Any] = ()) -> None:
    """One statement whose result is not read (`%s` placeholders)."""
    with _cursor() as cursor:
        cursor.execute(sql, params)


def fetchone(sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """One row; inside `pipeline()`, this is where the queued statements are sent and answered."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row


def insert(objects: Sequence[M]) -> None:
    """Insert new rows of one model, marked as saved. Inside `pipeline()` on PostgreSQL their primary
    keys are not read back (they stay None): use it there only for rows nobody refers to by id."""
    if not objects:
        return
    model = type(objects[0])
    if not _server_binding():
        # A plain QuerySet: a model's own queryset may refuse bulk_create to everyone else (AuditEvent).
        models.QuerySet[M](model).bulk_create(objects)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    quote = connection.ops.quote_name
    rows = [
        [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objects
    ]
    if len(rows) == 1:
        values, params = ", ".join(["%s"] * len(fields)), rows[0]
        source = f"VALUES ({values})"
    else:
        # One statement whatever the number of rows: a column array each (as Django's bulk_create
        # does on PostgreSQL), so the text stays the same and the statement is prepared once.
        types = [_column_type(f).split("(")[0] for f in fields]
        arrays = ", ".join(f"%b::{t}[]" for t in types)  # binary: no quoting element by element
        source = f"SELECT * FROM UNNEST({arrays})"  # noqa: S608 (types from the model)
        params = [list(column) for column in zip(*rows, strict=True)]
    sql = "INSERT INTO {} ({}) {}".format(
        quote(meta.db_table), ", ".join(quote(_column(f)) for f in fields), source
    )
    auto_field = meta.auto_field
    read_ids = auto_field is not None and getattr(_state, "cursor", None) is None
    if auto_field is not None and read_ids:
        sql += f" RETURNING {quote(_column(auto_field))}"
    with _cursor() as cursor:
        cursor.execute(sql, params)
        if read_ids:
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


# A concrete field always has a column and a column type; Django types both as optional for the
# fields that have no column, which `insert` never sees.


def _column(field: models.Field[Any, Any]) -> str:
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return field.column


def _column_type(field: models.Field[Any, Any]) -> str:
    column_type = field.db_type(connection)
    if column_type is None:
        raise TypeError(f"{field} has no column type")
    return column_type
