"""Every SQL difference between the backends, in one place (STYLE: splink's `Dialect`).

The hot paths of ingest run as driver-level SQL: building SQLAlchemy constructs for
thousands of parameters per chunk costs more than the database work itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from veil.sealing.facts import FACT_FIELDS


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str

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

    @lru_cache(maxsize=64)  # noqa: B019 - dialects are two module-level singletons
    def persons_by_index_sql(self, count: int) -> str:
        marks = ", ".join([self.placeholder] * count)
        return (
            "SELECT blind_index, id, key_id, wrapped_key FROM persons"
            f" WHERE blind_index IN ({marks})"
        )

    @lru_cache(maxsize=64)  # noqa: B019 - dialects are two module-level singletons
    def facts_of_persons_sql(self, count: int) -> str:
        """The facts the rules read (RecordFacts' fields) of `count` persons' records."""
        columns = ", ".join(["id", *FACT_FIELDS[1:]])
        marks = ", ".join([self.placeholder] * count)
        return f"SELECT {columns} FROM records WHERE person_id IN ({marks}) ORDER BY person_id, id"

    @lru_cache(maxsize=64)  # noqa: B019 - dialects are two module-level singletons
    def current_states_sql(self, count: int) -> str:
        marks = ", ".join([self.placeholder] * count)
        return f"SELECT record_pk, state, rule_id FROM seal_states WHERE record_pk IN ({marks})"

    @lru_cache(maxsize=16)  # noqa: B019 - dialects are two module-level singletons
    def insert_sql(self, table: str, columns: tuple[str, ...], rows: int = 1) -> str:
        """An INSERT of `rows` rows, their values bound row after row."""
        values = ", ".join([self.row_placeholders(len(columns))] * rows)
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"

    def upsert_states_from_run(self, conn: Connection, run_id: int) -> None:
        """Point each record with an event in the run at that event (one per record)."""
        conn.exec_driver_sql(
            "INSERT INTO seal_states (record_pk, state, rule_id, event_id)"
            " SELECT record_pk, state, rule_id, id FROM seal_events"
            f" WHERE run_id = {int(run_id)}"
            " ON CONFLICT (record_pk) DO UPDATE SET state = excluded.state,"
            " rule_id = excluded.rule_id, event_id = excluded.event_id"
        )

    def keep_record_writers_out(self, conn: Connection) -> None:
        """Hold off every writer of records until this transaction ends; wait for those
        writing now. A sweep does, so that the records it reads and the states it writes
        are one consistent picture: a later incremental sweep relies on it.
        """
        if self.name == "postgresql":
            # Conflicts with the ROW EXCLUSIVE lock every INSERT or UPDATE of records takes
            # (held to the writer's commit), and with itself, so sweeps also run one at a
            # time; reads (ACCESS SHARE) go on.
            conn.exec_driver_sql("LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE")
        # SQLite has one writer at a time: the sweep's first write (its run) takes the lock
        # and holds it to the end of the transaction.

    def allocate_ids(self, conn: Connection, table: str, count: int) -> list[int]:
        """`count` unused primary keys for `table`, reserved for this transaction."""
        if count == 0:
            return []
        if self.name == "postgresql":
            rows = conn.exec_driver_sql(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
                f" FROM generate_series(1, {int(count)})"
            )
            return [row[0] for row in rows]
        # SQLite has one writer at a time, and this transaction holds the write lock
        # (ingest has written its batch row first), so nobody else can take these ids.
        top = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one()
        return list(range(top + 1, top + 1 + count))


SQLITE = Dialect("sqlite", "?")
POSTGRESQL = Dialect("postgresql", "%s")


def dialect_of(conn: Connection) -> Dialect:
    return SQLITE if conn.dialect.name == "sqlite" else POSTGRESQL


def fetch_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run one read on the driver's own cursor: plain tuples, no result objects.

    For the statements every disclosure runs, where SQLAlchemy's result construction costs
    more than the query; `sql` uses this dialect's placeholder.
    """
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def execute_rows(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """`executemany` on the driver's own cursor: no result objects (see fetch_rows)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()
