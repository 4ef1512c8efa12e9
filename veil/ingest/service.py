"""Ingest one batch of rows: every row ends stored, unchanged, or rejected with a reason.

The caller gives a connection; the whole batch is one transaction (or savepoint), so a
crash leaves the store as it was before the batch. Rows come in chunks: a chunk is
validated set-at-a-time, and its natural keys and persons are looked up with one query
each, so memory stays flat and the database does the matching.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection

from veil.ingest.decide import COMPILED_FROM, decide_batch
from veil.ingest.prepare import Prepared, prepare
from veil.keys import BlindIndex, ContentMac, DataKey, KeyProvider
from veil.recordfiles import RowChunk
from veil.records.catalogue import Catalogue
from veil.records.codec import person_aad, row_aad
from veil.sealing.evaluate import Evaluator
from veil.sealing.pack import RuleSet, load_ruleset
from veil.store.database import transaction
from veil.store.records import RecordStore
from veil.store.seals import finish_run


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
    batch_id: int | None = field(default=None, compare=False)
    seal_run: int | None = field(default=None, compare=False)  # the run of its seal decisions
    # Records whose seal state the batch changed, by rule ("open" for those opened).
    seal_changes: dict[str, int] = field(default_factory=dict)

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


class _Batch:
    def __init__(
        self,
        store: RecordStore,
        keys: KeyProvider,
        catalogue: Catalogue,
        today: dt.date,
        batch_id: int,
        writer: ThreadPoolExecutor,
    ) -> None:
        self.store = store
        self.keys = keys
        self.catalogue = catalogue
        self.today = today
        self.batch_id = batch_id
        self.blind = BlindIndex(keys.blind_index_key())
        self.mac = ContentMac(keys.content_mac_key())
        self.report = IngestReport()
        self.revoked: list[int] = []  # stored records this batch revoked
        self.writer = writer
        self._writing: list[Future[None]] = []

    def run_chunk(self, chunk: RowChunk) -> None:
        # Validation runs while the writer thread stores the previous chunk (SQLite and
        # psycopg release the GIL while the database works); look-ups wait for it.
        prepared, rejections = prepare(chunk, self.catalogue, self.today)
        for line, column, reason in rejections:
            self.report.reject(line, column, reason)
        macs = [self.mac.of(p.content) for p in prepared]
        self.wait()
        fresh, revoked = self._classify(prepared, macs)
        self.store.set_status(revoked, "revoked")
        self.revoked.extend(revoked)
        self._insert(fresh)

    def wait(self) -> None:
        """Block until the writer has stored everything handed to it (re-raising its error)."""
        writing, self._writing = self._writing, []
        for future in writing:
            future.result()

    def _write(self, store: Callable[[list[Any]], None], rows: list[Any]) -> None:
        """Hand rows to the writer thread, which stores them in the order handed over."""
        self._writing.append(self.writer.submit(store, rows))

    def _classify(
        self, prepared: list[Prepared], macs: list[bytes]
    ) -> tuple[list[tuple[Prepared, bytes]], list[int]]:
        """Split into new records and stored records to revoke; count and reject the rest."""
        stored = self.store.stored_keys(list({(p.source, p.record_id) for p in prepared}))
        fresh: dict[tuple[str, str], tuple[Prepared, bytes]] = {}
        revoked: list[int] = []
        for row, mac in zip(prepared, macs, strict=True):
            key = (row.source, row.record_id)
            earlier = fresh.get(key)
            if earlier is not None:
                first, first_mac = earlier
                self._against(row, mac, first_mac, first.status, f"line {first.line}")
                if row.status == "revoked" and first_mac == mac:
                    fresh[key] = (replace(first, status="revoked"), first_mac)
                continue
            kept = stored.get(key)
            if kept is None:
                fresh[key] = (row, mac)
                self.report.accepted += 1
                continue
            where = (
                f"line {kept.source_line}"
                if kept.batch_id == self.batch_id
                else f"batch {kept.batch_id}, line {kept.source_line}"
            )
            if self._against(row, mac, kept.content_mac, kept.status, where):
                revoked.append(kept.record_pk)
                stored[key] = replace(kept, status="revoked")
        return list(fresh.values()), revoked

    def _against(
        self, row: Prepared, mac: bytes, earlier_mac: bytes, status: str, where: str
    ) -> bool:
        """Compare a row with an earlier one of the same key; True when it revokes it."""
        if mac != earlier_mac:
            self.report.reject(
                row.line,
                "record_id",
                f"{row.source}:{row.record_id} was already given with different content "
                f"({where}); send a correction instead",
            )
            return False
        if status == row.status:
            self.report.unchanged += 1
            return False
        if status == "effective":
            self.report.accepted += 1
            return True
        self.report.reject(
            row.line, "status", f"the record was revoked ({where}) and cannot become effective"
        )
        return False

    def _people(self, fresh: list[tuple[Prepared, bytes]]) -> dict[str, tuple[int, DataKey]]:
        """Person id and data key for every person key in `fresh`, creating new persons."""
        indexes = {key: self.blind.of(key) for key in {row.person_key for row, _ in fresh}}
        found = self.store.persons_by_index(set(indexes.values()))
        by_index: dict[bytes, tuple[int, DataKey]] = {}
        for bi, person in found.items():
            key = self.keys.unwrap(person.key_id, person.wrapped_key, person_aad(bi))
            by_index[bi] = (person.person_id, DataKey(key))
        missing = sorted(set(indexes.values()) - found.keys())  # index order: fewer page splits
        ids = self.store.new_person_ids(len(missing))
        keys = DataKey.generate_many(len(missing))
        wrapped = self.keys.wrap_many(
            [(key, person_aad(bi)) for key, bi in zip(keys, missing, strict=True)]
        )
        batch_id = self.batch_id
        new_people = []
        for person_id, bi, key, (key_id, sealed) in zip(ids, missing, keys, wrapped, strict=True):
            new_people.append((person_id, bi, key_id, sealed, batch_id))
            by_index[bi] = (person_id, DataKey(key))
        self._write(self.store.add_persons, new_people)
        return {person_key: by_index[bi] for person_key, bi in indexes.items()}

    def _insert(self, fresh: list[tuple[Prepared, bytes]]) -> None:
        if not fresh:
            return
        people = self._people(fresh)
        owners = [people[row.person_key] for row, _ in fresh]
        sealed = DataKey.seal_many(
            [
                (data_key, row.identity, row_aad(row.source, row.record_id))
                for (row, _), (_, data_key) in zip(fresh, owners, strict=True)
            ]
        )
        batch_id = self.batch_id
        rows = [
            (
                person_id,
                row.source,
                row.record_id,
                row.status,
                *row.facts,
                identity,
                mac,
                batch_id,
                row.line,
            )
            for (row, mac), (person_id, _), identity in zip(fresh, owners, sealed, strict=True)
        ]
        # In key order, so the unique index is written in runs rather than at random.
        rows.sort(key=lambda r: (r[1], r[2]))
        self._write(self.store.add_records, rows)


def ingest_rows(
    conn: Connection,
    chunks: Iterable[RowChunk],
    *,
    keys: KeyProvider,
    catalogue: Catalogue,
    file_name: str,
    file_format: str,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    on_chunk: Callable[[], None] | None = None,
    rules: RuleSet | None = None,
    compiled_from: int = COMPILED_FROM,
    on_decide: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest `chunks` as one atomic batch; the report lists every rejected row.

    Before the batch commits, every record of each person the batch touched is decided
    under `rules` (default: the shipped rule packs), as of the ingest day: a new
    administrative violation is sealed the moment it is stored. From `compiled_from`
    touched persons the compiled query decides them instead of the row evaluator
    (decide.py); `on_decide(done, total)` hears of the persons decided.
    """
    evaluator = Evaluator(rules or load_ruleset(catalogue))
    with transaction(conn):
        store = RecordStore(conn)
        started = now()
        batch_id = store.begin_batch(file_name, file_format, started)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="veil-ingest") as writer:
            batch = _Batch(store, keys, catalogue, started.date(), batch_id, writer)
            try:
                for chunk in chunks:
                    batch.run_chunk(chunk)
                    if on_chunk is not None:
                        on_chunk()
            finally:
                batch.wait()
        report = batch.report
        report.rejections.sort(key=lambda r: r.line)
        if report.accepted:
            run, evaluated = decide_batch(
                conn,
                evaluator,
                batch_id,
                batch.revoked,
                started.date(),
                compiled_from,
                progress=on_decide,
            )
            report.seal_changes = finish_run(conn, run, evaluated=evaluated)
            report.seal_run = run.id
        report.batch_id = batch_id
        store.finish_batch(
            batch_id,
            now(),
            {
                "accepted": report.accepted,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            },
        )
    return report
