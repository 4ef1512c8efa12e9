"""Reading the log in bulk through the DB-API driver itself (sqlite3 or psycopg).

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


class Source:
    """The log's rows and checkpoints, read through one DB-API connection."""

    def __init__(self, raw: Any, backend: str, chunk: int) -> None:
        self.raw, self.backend, self.chunk = raw, backend, chunk
        self._mark = "%s" if backend == "postgresql" else "?"

    def rows(self, columns: str, low: int, high: int) -> Iterator[list[Any]]:
        """Rows of `columns` for low <= idx < high in index order, a chunk at a time."""
        sql = (
            f"SELECT {columns} FROM audit_entries"  # noqa: S608 - fixed columns, bound values
            f" WHERE idx >= {self._mark} AND idx < {self._mark} ORDER BY idx"
        )
        if self.backend == "postgresql":
            # A named cursor stays on the server: the client holds one chunk, not the log.
            cursor = self.raw.cursor(name=f"veil_audit_{next(_cursor_names)}")
            cursor.itersize = self.chunk
        else:
            cursor = self.raw.cursor()
        try:
            cursor.execute(sql, (low, high))
            while rows := cursor.fetchmany(self.chunk):
                yield rows
        finally:
            cursor.close()

    def checkpoints(self, low: int, high: int | None = None) -> list[tuple[int, bytes, str]]:
        """(size, root, note) of the checkpoints with low < size <= high, smallest first."""
        bounded = "" if high is None else f" AND size <= {self._mark}"
        sql = (
            "SELECT size, root, note FROM audit_checkpoints"  # noqa: S608 - bound values
            f" WHERE size > {self._mark}{bounded} ORDER BY size"
        )
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql, (low,) if high is None else (low, high))
            return [(size, bytes(root), note) for size, root, note in cursor.fetchall()]
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


def connect(backend: str, dsn: str, chunk: int) -> Source:
    """A read connection for a scan worker, inside one transaction (one snapshot)."""
    if backend == "postgresql":
        import psycopg

        return Source(psycopg.connect(dsn), backend, chunk)  # one implicit transaction
    import sqlite3

    raw = sqlite3.connect(dsn, isolation_level=None, timeout=30)
    raw.execute("BEGIN")
    return Source(raw, backend, chunk)
