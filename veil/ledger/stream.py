"""Reading the log in index order through the DB-API driver itself (sqlite3 or psycopg).

SQLAlchemy's row objects cost more than hashing the rows, and importing it costs a scan
worker more than its share of a million entries: long reads and workers use this module.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_cursor_names = itertools.count()


def stream(
    raw: Any, backend: str, columns: str, low: int, high: int, chunk: int
) -> Iterator[list[Any]]:
    """Rows of `columns` for low <= idx < high in index order, `chunk` rows at a time."""
    mark = "%s" if backend == "postgresql" else "?"
    sql = (
        f"SELECT {columns} FROM audit_entries"  # noqa: S608 - fixed column lists, bound values
        f" WHERE idx >= {mark} AND idx < {mark} ORDER BY idx"
    )
    if backend == "postgresql":
        # A named cursor stays on the server: the client holds one chunk, not the log.
        cursor = raw.cursor(name=f"veil_audit_{next(_cursor_names)}")
        cursor.itersize = chunk
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql, (low, high))
        while rows := cursor.fetchmany(chunk):
            yield rows
    finally:
        cursor.close()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk read and hash.

    Such a pass makes millions of short-lived tuples and no cycles: the collector would
    only walk them, for about a quarter of the time.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def connect(backend: str, dsn: str) -> Any:
    """A read connection for a scan worker, inside one transaction (one snapshot)."""
    if backend == "postgresql":
        import psycopg

        return psycopg.connect(dsn)  # transactions are implicit: one until close
    import sqlite3

    raw = sqlite3.connect(dsn, isolation_level=None, timeout=30)
    raw.execute("BEGIN")
    return raw
