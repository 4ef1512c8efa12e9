"""Every statement the ledger runs against `audit_entries` and `audit_checkpoints`.

The differences between SQLite and PostgreSQL that matter here (how a writer takes the
log's write lock and makes its commits durable) are kept in this module; long reads go
through the driver's own cursor (`veil.ledger.stream`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, select

from veil.ledger.entry import SUBJECT
from veil.ledger.stream import Source
from veil.store.schema import audit_checkpoints, audit_entries


class StoredCheckpoint(NamedTuple):
    size: int
    root: bytes
    note: str


def _driver(conn: Connection) -> Any:
    """The DB-API connection under `conn` (sqlite3 or psycopg)."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the connection is closed")
    return raw


def stored_size(conn: Connection) -> int:
    """The index the next entry gets: one past the highest stored."""
    top = conn.execute(select(func.max(audit_entries.c.idx))).scalar()
    return 0 if top is None else int(top) + 1


def index_range(conn: Connection) -> tuple[int | None, int | None]:
    """Lowest and highest index of the stored entries (from the primary key alone)."""
    # Apart: SQLite reads min() or max() alone from the end of the key, but both at once
    # by scanning the table.
    idx = audit_entries.c.idx
    low = conn.execute(select(func.min(idx))).scalar()
    high = conn.execute(select(func.max(idx))).scalar()
    return low, high


def source(conn: Connection, chunk: int) -> Source:
    """Bulk reads of the log through `conn`'s driver, in `conn`'s transaction."""
    if not conn.in_transaction():
        conn.begin()  # one snapshot for the whole read; the caller's connection ends it
    return Source(_driver(conn), conn.dialect.name, chunk)


def worker_source(conn: Connection) -> tuple[str, str] | None:
    """(backend, what its driver connects with) for another process to read this database
    (None for an in-memory SQLite)."""
    url = conn.engine.url
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return None
        return "sqlite", url.database
    return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)


def leaf_hash_chunks(conn: Connection, low: int, high: int, chunk: int) -> Iterator[list[bytes]]:
    return _column_chunks(source(conn, chunk), "leaf_hash", low, high)


def entry_chunks(conn: Connection, low: int, high: int, chunk: int) -> Iterator[list[bytes]]:
    return _column_chunks(source(conn, chunk), "entry", low, high)


def _column_chunks(source: Source, column: str, low: int, high: int) -> Iterator[list[bytes]]:
    for rows in source.rows(column, low, high):
        yield [bytes(row[0]) for row in rows]


def leaf_hash_at(conn: Connection, index: int) -> bytes | None:
    value = conn.execute(
        select(audit_entries.c.leaf_hash).where(audit_entries.c.idx == index)
    ).scalar()
    return None if value is None else bytes(value)


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    c = audit_checkpoints.c
    row = conn.execute(select(c.size, c.root, c.note).order_by(c.size.desc()).limit(1)).first()
    return None if row is None else StoredCheckpoint(int(row[0]), bytes(row[1]), row[2])


def entries_of_subject(conn: Connection, subject_index: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(index, decoded entry) of every entry naming the subject, in log order.

    The column only finds candidates: an entry counts when its own (hashed) `subject`
    field names the index, so an edited column cannot attribute entries to someone else.
    """
    c = audit_entries.c
    rows = conn.execute(
        select(c.idx, c.entry).where(c.subject_index == subject_index).order_by(c.idx)
    )
    found = []
    for idx, data in rows:
        entry = json.loads(bytes(data))
        if entry.get(SUBJECT) == subject_index.hex():
            found.append((int(idx), entry))
    return found


class CommitSession:
    """The group commit's statements, on a DB-API connection the writer owns (sqlite3 with
    the engine's settings, or psycopg), outside SQLAlchemy.

    Through SQLAlchemy, its transaction events and statement objects cost the writer more
    than the rows (under load, 318 µs of CPU per entry with them, 209 µs without). Every
    commit: `begin` (the log's write lock), `size`, the rows another writer added, if any
    (`leaf_hashes`), `append`, `commit`; `rollback` on any failure.
    """

    def __init__(self, raw: Any, backend: str, *, wal_checkpoints: bool = True) -> None:
        self.raw, self.backend = raw, backend
        mark = "%s" if backend == "postgresql" else "?"
        self._insert_entries = (
            "INSERT INTO audit_entries (idx, entry, leaf_hash, subject_index)"  # noqa: S608
            f" VALUES ({mark}, {mark}, {mark}, {mark})"
        )
        self._insert_checkpoint = (
            "INSERT INTO audit_checkpoints (size, root, note, created_at)"  # noqa: S608
            f" VALUES ({mark}, {mark}, {mark}, {mark})"
        )
        if backend == "sqlite":
            # Durable, not only crash-safe: the engine's synchronous=NORMAL (right for
            # ingest) may lose the last commits of a WAL database if the machine stops; the
            # ledger says "written" only once they cannot be lost. PostgreSQL's commits are.
            raw.execute("PRAGMA synchronous=FULL")
            if not wal_checkpoints:
                # SQLite's automatic checkpoint runs inside the commit that fills the WAL
                # (1,000 pages): that commit took 15-30 ms instead of about 1 ms, and every
                # request waiting for it with it. The caller checkpoints elsewhere.
                raw.execute("PRAGMA wal_autocheckpoint=0")

    def begin(self) -> None:
        """Start a transaction as the log's only writer (waits for the current one).

        SQLite: BEGIN IMMEDIATE takes the database's write lock at once. PostgreSQL (its
        driver begins a transaction by itself): EXCLUSIVE mode lets readers in but no other
        writer.
        """
        if self.backend == "postgresql":
            self.raw.execute("LOCK TABLE audit_checkpoints IN EXCLUSIVE MODE")
        else:
            self.raw.execute("BEGIN IMMEDIATE")

    def size(self) -> int:
        """The index the next entry gets: one past the highest stored."""
        row = self.raw.execute("SELECT max(idx) FROM audit_entries").fetchone()
        top = row[0] if row else None
        return 0 if top is None else int(top) + 1

    def leaf_hashes(self, low: int, high: int, chunk: int) -> Iterator[list[bytes]]:
        """The leaf hashes of entries low ... high - 1, in this transaction."""
        return _column_chunks(Source(self.raw, self.backend, chunk), "leaf_hash", low, high)

    def append(
        self,
        first: int,
        rows: Sequence[tuple[bytes, bytes, bytes | None]],
        root: bytes,
        note: str,
    ) -> None:
        """Insert (entry, leaf hash, subject index) rows at indexes first, first + 1, ...
        and the checkpoint of the grown tree."""
        now = dt.datetime.now(dt.UTC)
        # SQLAlchemy's SQLite DateTime stores this text form; PostgreSQL takes the value.
        created: Any = (
            now.replace(tzinfo=None).isoformat(" ", "microseconds")
            if self.backend == "sqlite"
            else now
        )
        cursor = self.raw.cursor()
        try:
            cursor.executemany(
                self._insert_entries,
                [
                    (first + i, entry, leaf, subject)
                    for i, (entry, leaf, subject) in enumerate(rows)
                ],
            )
            cursor.execute(self._insert_checkpoint, (first + len(rows), root, note, created))
        finally:
            cursor.close()

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        self.raw.rollback()
