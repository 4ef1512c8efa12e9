"""Ingest one batch of rows: every row ends stored, unchanged, or rejected with a reason.

The caller gives a connection; the whole batch is one transaction (or savepoint), so a
crash leaves the store as it was before the batch. Rows are handled in chunks: a chunk's
natural keys and persons are looked up with one query each, so memory stays flat and the
database does the matching.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection

from veil.keys import BlindIndex, ContentMac, DataKey, KeyProvider
from veil.recordfiles.read import BadRow, Row
from veil.records.catalogue import Catalogue
from veil.records.codec import content_bytes, identity_bytes, person_aad, row_aad
from veil.records.model import Record
from veil.records.validation import RowError, validate_row
from veil.store.database import transaction
from veil.store.records import RecordStore

CHUNK_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class IngestReport:
    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    batch_id: int | None = None

    def reject(self, line: int, column: str, reason: str) -> None:
        self.rejected += 1
        self.rejections.append(Rejection(line, column, reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejections": [r.as_dict() for r in self.rejections],
        }


@dataclass(slots=True)
class _Pending:
    line: int
    record: Record
    mac: bytes


class _Batch:
    def __init__(
        self,
        store: RecordStore,
        keys: KeyProvider,
        catalogue: Catalogue,
        today: dt.date,
        batch_id: int,
    ) -> None:
        self.store = store
        self.keys = keys
        self.catalogue = catalogue
        self.today = today
        self.batch_id = batch_id
        self.blind = BlindIndex(keys.blind_index_key())
        self.mac = ContentMac(keys.content_mac_key())
        self.report = IngestReport(batch_id=batch_id)

    def run_chunk(self, rows: list[tuple[int, Row]]) -> None:
        valid: list[_Pending] = []
        for line, row in rows:
            if isinstance(row, BadRow):
                self.report.reject(line, row.column, row.reason)
                continue
            try:
                record = validate_row(row, self.catalogue, self.today)
            except RowError as exc:
                self.report.reject(line, exc.column, exc.reason)
                continue
            valid.append(_Pending(line, record, self.mac.of(content_bytes(record))))
        fresh, revoked = self._classify(valid)
        self.store.set_status(revoked, "revoked")
        self._insert(fresh)

    def _classify(self, valid: list[_Pending]) -> tuple[list[_Pending], list[int]]:
        """Split into new records and stored records to revoke; count and reject the rest."""
        stored = self.store.stored_keys(list({p.record.natural_key for p in valid}))
        fresh: dict[tuple[str, str], _Pending] = {}
        revoked: list[int] = []
        for pending in valid:
            record = pending.record
            key = record.natural_key
            earlier = fresh.get(key)
            if earlier is not None:
                self._against(pending, earlier.mac, earlier.record.status, f"line {earlier.line}")
                if record.status == "revoked" and earlier.mac == pending.mac:
                    fresh[key] = _Pending(earlier.line, record, earlier.mac)
                continue
            kept = stored.get(key)
            if kept is None:
                fresh[key] = pending
                self.report.accepted += 1
                continue
            where = (
                f"line {kept.source_line}"
                if kept.batch_id == self.batch_id
                else f"batch {kept.batch_id}, line {kept.source_line}"
            )
            if self._against(pending, kept.content_mac, kept.status, where):
                revoked.append(kept.record_pk)
                stored[key] = replace(kept, status="revoked")
        return list(fresh.values()), revoked

    def _against(self, pending: _Pending, mac: bytes, status: str, where: str) -> bool:
        """Compare a row with an earlier one of the same key; True when it revokes it."""
        record = pending.record
        if mac != pending.mac:
            self.report.reject(
                pending.line,
                "record_id",
                f"{record.source}:{record.record_id} was already given with different content "
                f"({where}); send a correction instead",
            )
            return False
        if status == record.status:
            self.report.unchanged += 1
            return False
        if status == "effective":
            self.report.accepted += 1
            return True
        self.report.reject(
            pending.line, "status", f"the record was revoked ({where}) and cannot become effective"
        )
        return False

    def _insert(self, fresh: list[_Pending]) -> None:
        if not fresh:
            return
        indexes = {p.record.person_key: self.blind.of(p.record.person_key) for p in fresh}
        found = self.store.persons_by_index(set(indexes.values()))
        data_keys: dict[bytes, tuple[int, DataKey]] = {}
        for bi, person in found.items():
            key = self.keys.unwrap(person.key_id, person.wrapped_key, person_aad(bi))
            data_keys[bi] = (person.person_id, DataKey(key))
        new_people: list[dict[str, Any]] = []
        new_keys: dict[bytes, bytes] = {}
        for bi in set(indexes.values()) - found.keys():
            key = DataKey.generate()
            key_id, wrapped = self.keys.wrap(key, person_aad(bi))
            new_keys[bi] = key
            new_people.append(
                {
                    "blind_index": bi,
                    "key_id": key_id,
                    "wrapped_key": wrapped,
                    "created_batch": self.batch_id,
                }
            )
        for bi, person_id in self.store.add_persons(new_people).items():
            data_keys[bi] = (person_id, DataKey(new_keys[bi]))
        date = self.store.dialect.date
        rows = []
        for pending in fresh:
            record = pending.record
            person_id, data_key = data_keys[indexes[record.person_key]]
            rows.append(
                (
                    person_id,
                    record.source,
                    record.record_id,
                    record.kind,
                    record.offence_code,
                    date(record.offence_date),
                    date(record.decision_date),
                    date(record.completion_date),
                    record.disposition,
                    record.detention_days,
                    record.sentence_months,
                    record.fine_yuan,
                    record.status,
                    record.age_at_offence,
                    data_key.seal(identity_bytes(record), row_aad(record.source, record.record_id)),
                    pending.mac,
                    self.batch_id,
                    pending.line,
                )
            )
        self.store.add_records(rows)


def ingest_rows(
    conn: Connection,
    rows: Iterable[tuple[int, Row]],
    *,
    keys: KeyProvider,
    catalogue: Catalogue,
    file_name: str,
    file_format: str,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    on_chunk: Callable[[], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> IngestReport:
    """Ingest `rows` as one atomic batch; the report lists every rejected row."""
    with transaction(conn):
        store = RecordStore(conn)
        started = now()
        batch = _Batch(
            store,
            keys,
            catalogue,
            started.date(),
            store.begin_batch(file_name, file_format, started),
        )
        chunk: list[tuple[int, Row]] = []
        for item in rows:
            chunk.append(item)
            if len(chunk) >= chunk_rows:
                batch.run_chunk(chunk)
                chunk = []
                if on_chunk is not None:
                    on_chunk()
        batch.run_chunk(chunk)
        report = batch.report
        store.finish_batch(
            batch.batch_id,
            now(),
            {
                "accepted": report.accepted,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            },
        )
    return report
