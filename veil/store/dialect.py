"""Every SQL difference between the backends, in one place (STYLE: splink's `Dialect`).

The hot paths of ingest run as driver-level SQL: building SQLAlchemy constructs for
thousands of parameters per chunk costs more than the database work itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str
    # SQLite keeps dates as ISO text (as SQLAlchemy's Date type does); PostgreSQL has a type.
    dates_as_text: bool

    def date(self, value: dt.date | None) -> dt.date | str | None:
        if value is None or not self.dates_as_text:
            return value
        return value.isoformat()

    def row_placeholders(self, width: int) -> str:
        return "(" + ", ".join([self.placeholder] * width) + ")"

    @lru_cache(maxsize=64)  # noqa: B019 - dialects are two module-level singletons
    def stored_keys_sql(self, keys: int) -> str:
        """Stored rows for `keys` (source, record_id) pairs, bound in order."""
        # A join from a VALUES list probes the unique index once per key on every backend;
        # `(source, record_id) IN (...)` makes SQLite scan the whole index instead.
        values = ", ".join([self.row_placeholders(2)] * keys)
        return (
            f"WITH wanted(source, record_id) AS (VALUES {values}) "
            "SELECT r.source, r.record_id, r.id, r.content_mac, r.status, r.batch_id,"
            " r.source_line FROM wanted JOIN records r"
            " ON r.source = wanted.source AND r.record_id = wanted.record_id"
        )

    @lru_cache(maxsize=16)  # noqa: B019 - dialects are two module-level singletons
    def insert_sql(self, table: str, columns: tuple[str, ...]) -> str:
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + self.row_placeholders(
            len(columns)
        )


SQLITE = Dialect("sqlite", "?", dates_as_text=True)
POSTGRESQL = Dialect("postgresql", "%s", dates_as_text=False)


def dialect_of(conn: Connection) -> Dialect:
    return SQLITE if conn.dialect.name == "sqlite" else POSTGRESQL
