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

from sqlalchemy import Connection, func, insert, select

from veil.ledger.entry import SUBJECT
from veil.ledger.stream import Source
from veil.store.dialect import dialect_of, execute_rows, fetch_rows
from veil.store.schema import audit_checkpoints, audit_entries


class StoredCheckpoint(NamedTuple):
    size: int
    root: bytes
    note: str


def take_write_lock(conn: Connection) -> None:
    """Make this transaction the log's only writer until it ends (waits for the current one).

    PostgreSQL: EXCLUSIVE mode lets readers in but no other writer. SQLite: the engine
    issues a deferred BEGIN, so a write that touches no row takes the lock at once, as
    BEGIN IMMEDIATE would.
    """
    if conn.dialect.name == "postgresql":
        execute_rows(conn, "LOCK TABLE audit_checkpoints IN EXCLUSIVE MODE", [()])
    else:
        execute_rows(conn, "UPDATE audit_checkpoints SET size = size WHERE 0 = 1", [()])


def durable_commits(conn: Connection) -> None:
    """Commits on this connection survive power loss, not only a crash of the process.

    SQLite in WAL mode with synchronous=NORMAL (the engine's setting, right for ingest)
    may lose the last commits if the machine stops; the ledger says "written" only once
    they cannot be lost. PostgreSQL commits are durable already. Call outside a transaction.
    """
    if conn.dialect.name == "sqlite":
        _driver(conn).execute("PRAGMA synchronous=FULL")


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
    for rows in source(conn, chunk).rows("leaf_hash", low, high):
        yield [bytes(row[0]) for row in rows]


def entry_chunks(conn: Connection, low: int, high: int, chunk: int) -> Iterator[list[bytes]]:
    for rows in source(conn, chunk).rows("entry", low, high):
        yield [bytes(row[0]) for row in rows]


def leaf_hash_at(conn: Connection, index: int) -> bytes | None:
    value = conn.execute(
        select(audit_entries.c.leaf_hash).where(audit_entries.c.idx == index)
    ).scalar()
    return None if value is None else bytes(value)


def insert_entries(
    conn: Connection, first: int, rows: Sequence[tuple[bytes, bytes, bytes | None]]
) -> None:
    """(entry, leaf hash, subject index) rows at indexes first, first + 1, ..."""
    conn.execute(
        insert(audit_entries),
        [
            {"idx": first + i, "entry": entry, "leaf_hash": leaf, "subject_index": subject}
            for i, (entry, leaf, subject) in enumerate(rows)
        ],
    )


def insert_checkpoint(conn: Connection, size: int, root: bytes, note: str) -> None:
    conn.execute(
        insert(audit_checkpoints).values(
            size=size, root=root, note=note, created_at=dt.datetime.now(dt.UTC)
        )
    )


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


def append_batch(
    conn: Connection,
    first: int,
    rows: Sequence[tuple[bytes, bytes, bytes | None]],
    root: bytes,
    note: str,
) -> None:
    """Insert entries first, first + 1, ... and the checkpoint of the grown tree.

    The group commit's own statements, run on every commit: on the driver's cursor, since
    SQLAlchemy's statement and result objects cost the writer more than the rows do (and
    the writer shares the interpreter lock with every request).
    """
    mark = dialect_of(conn).placeholder
    execute_rows(
        conn,
        f"INSERT INTO audit_entries (idx, entry, leaf_hash, subject_index)"  # noqa: S608
        f" VALUES ({mark}, {mark}, {mark}, {mark})",
        [(first + i, entry, leaf, subject) for i, (entry, leaf, subject) in enumerate(rows)],
    )
    now = dt.datetime.now(dt.UTC)
    # SQLAlchemy's SQLite DateTime stores this text form; PostgreSQL takes the value.
    created = now.strftime("%Y-%m-%d %H:%M:%S.%f") if conn.dialect.name == "sqlite" else now
    execute_rows(
        conn,
        f"INSERT INTO audit_checkpoints (size, root, note, created_at)"  # noqa: S608
        f" VALUES ({mark}, {mark}, {mark}, {mark})",
        [(first + len(rows), root, note, created)],
    )


def stored_size_fast(conn: Connection) -> int:
    """`stored_size` on the driver's cursor, for the group commit."""
    rows = fetch_rows(conn, "SELECT max(idx) FROM audit_entries", ())
    top = rows[0][0] if rows else None
    return 0 if top is None else int(top) + 1
