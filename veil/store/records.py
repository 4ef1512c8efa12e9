"""The records store: the narrow interface ingest writes through and reads back from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from veil.records.model import FACT_COLUMNS
from veil.store.dialect import dialect_of
from veil.store.schema import ingest_batches, persons, records

RECORD_INSERT_COLUMNS = (
    "person_id",
    "source",
    "record_id",
    "status",
    *FACT_COLUMNS,
    "age_at_offence",
    "identity",
    "content_mac",
    "batch_id",
    "source_line",
)

PERSON_INSERT_COLUMNS = ("id", "blind_index", "key_id", "wrapped_key", "created_batch")

# Stay well under SQLite's bound-parameter limit in IN (...) look-ups.
LOOKUP_CHUNK = 4_096
# Values bound by one multi-row INSERT: under SQLite's limit (32,766) and PostgreSQL's
# (65,535), and enough rows that the database works for milliseconds per statement.
INSERT_PARAMETERS = 16_384


T = TypeVar("T")


def padded(items: Sequence[T], filler: T) -> list[T]:
    """`items` padded to the next power of two with a value that matches nothing.

    Look-ups bind one parameter per key; without padding nearly every chunk has its own
    statement text, and the drivers' prepared-statement caches fill with them.
    """
    size = max(16, 1 << (len(items) - 1).bit_length())
    return [*items, *([filler] * (size - len(items)))]


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What re-ingest needs to know about a natural key already in the store."""

    record_pk: int
    content_mac: bytes
    status: str
    batch_id: int
    source_line: int


@dataclass(frozen=True, slots=True)
class StoredPerson:
    person_id: int
    key_id: str
    wrapped_key: bytes


class RecordStore:
    """All SQL for records and persons. Callers own the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = dialect_of(conn)

    # --- ingest batches -------------------------------------------------------------------
    def begin_batch(self, file_name: str, file_format: str, started_at: dt.datetime) -> int:
        result = self.conn.execute(
            insert(ingest_batches).values(
                file_name=file_name[:255],
                format=file_format,
                started_at=started_at,
                accepted=0,
                unchanged=0,
                rejected=0,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish_batch(
        self, batch_id: int, finished_at: dt.datetime, counts: Mapping[str, int]
    ) -> None:
        self.conn.execute(
            update(ingest_batches)
            .where(ingest_batches.c.id == batch_id)
            .values(finished_at=finished_at, **counts)
        )

    # --- look-ups for re-ingest -----------------------------------------------------------
    def stored_keys(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StoredKey]:
        """The stored rows among these natural keys (source, record_id)."""
        found: dict[tuple[str, str], StoredKey] = {}
        step = LOOKUP_CHUNK // 2
        for start in range(0, len(keys), step):
            chunk = padded(keys[start : start + step], ("", ""))  # no source is empty
            sql = self.dialect.stored_keys_sql(len(chunk))
            params = tuple(value for key in chunk for value in key)
            for row in self.conn.exec_driver_sql(sql, params):
                found[(row[0], row[1])] = StoredKey(row[2], bytes(row[3]), row[4], row[5], row[6])
        return found

    def persons_by_index(self, blind_indexes: Iterable[bytes]) -> dict[bytes, StoredPerson]:
        wanted = list(blind_indexes)
        found: dict[bytes, StoredPerson] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = padded(wanted[start : start + LOOKUP_CHUNK], b"")  # no index is empty
            sql = self.dialect.persons_by_index_sql(len(chunk))
            for row in self.conn.exec_driver_sql(sql, tuple(chunk)):
                found[bytes(row[0])] = StoredPerson(row[1], row[2], bytes(row[3]))
        return found

    # --- writes ---------------------------------------------------------------------------
    def new_person_ids(self, count: int) -> list[int]:
        """Ids for `count` new persons, reserved for this transaction."""
        return self.dialect.allocate_ids(self.conn, "persons", count)

    def add_persons(self, rows: Sequence[tuple[int, bytes, str, bytes, int]]) -> None:
        """Insert persons (id, blind_index, key_id, wrapped_key, created_batch)."""
        self._insert("persons", PERSON_INSERT_COLUMNS, rows)

    def add_records(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows whose values follow RECORD_INSERT_COLUMNS (dates as ISO text)."""
        self._insert("records", RECORD_INSERT_COLUMNS, rows)

    def _insert(
        self, table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert `rows` many to a statement, the rest one to a statement.

        One statement per row costs the driver a step per row and, from the writer thread,
        a wait for the GIL per row; two statement texts per table keep the drivers'
        statement caches from growing.
        """
        per = max(1, INSERT_PARAMETERS // len(columns))
        whole = len(rows) - len(rows) % per
        if whole:
            sql = self.dialect.insert_sql(table, columns, per)
            self.conn.exec_driver_sql(
                sql,
                [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)],
            )
        if whole < len(rows):
            sql = self.dialect.insert_sql(table, columns)
            self.conn.exec_driver_sql(sql, list(rows[whole:]))

    def set_status(self, record_pks: Sequence[int], status: str) -> None:
        if record_pks:
            self.conn.execute(
                update(records).where(records.c.id.in_(record_pks)).values(status=status)
            )

    # --- reads ----------------------------------------------------------------------------
    def gather_persons_of_batch(self, batch_id: int, also: Sequence[int], table: str) -> int:
        """Fill the empty temporary `table` (person_id INTEGER PRIMARY KEY; see
        `incremental.clear_gathered`) with the persons that have a record stored by the
        batch or among the records `also`; how many."""
        place = self.dialect.placeholder
        run = self.conn.exec_driver_sql
        run(
            f"INSERT INTO {table} (person_id)"
            f" SELECT DISTINCT person_id FROM records WHERE batch_id = {place}",
            (batch_id,),
        )
        for start in range(0, len(also), LOOKUP_CHUNK):
            part = padded(also[start : start + LOOKUP_CHUNK], -1)
            marks = ", ".join([place] * len(part))
            run(
                f"INSERT INTO {table} (person_id)"
                f" SELECT DISTINCT person_id FROM records WHERE id IN ({marks})"
                " ON CONFLICT (person_id) DO NOTHING",
                tuple(part),
            )
        return int(run(f"SELECT count(*) FROM {table}").scalar_one())

    def person_pages(self, table: str, page: int = LOOKUP_CHUNK) -> Iterator[list[int]]:
        """The person ids in the temporary `table`, in order, a page at a time: memory
        stays flat however many persons a batch touches."""
        place = self.dialect.placeholder
        last = -1
        while True:
            ids = [
                row[0]
                for row in self.conn.exec_driver_sql(
                    f"SELECT person_id FROM {table} WHERE person_id > {place}"
                    f" ORDER BY person_id LIMIT {int(page)}",
                    (last,),
                )
            ]
            if not ids:
                return
            yield ids
            last = ids[-1]

    def stored_record(self, source: str, record_id: str) -> dict[str, Any] | None:
        """One record's stored row with its person's wrapped key, or None."""
        query = (
            select(records, persons.c.blind_index, persons.c.key_id, persons.c.wrapped_key)
            .join(persons, persons.c.id == records.c.person_id)
            .where(records.c.source == source, records.c.record_id == record_id)
        )
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row is not None else None
