"""Ingest into the store, on SQLite and PostgreSQL: nothing lost, nothing wrong gets in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, func, select

from veil.ingest import ingest_rows
from veil.ingest.readback import read_record
from veil.keys import KeyProvider
from veil.recordfiles import RowChunk
from veil.records.catalogue import load_catalogue
from veil.store import records as store_records
from veil.store.records import RecordStore
from veil.store.schema import persons, records

from .factories import good_row
from .ingest_helpers import chunks_of, ingest


def count(conn: Connection, table: object) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_valid_rows_are_stored_and_read_back_exactly(conn: Connection, keys: KeyProvider) -> None:
    rows = [good_row(record_id=f"R{i}") for i in range(3)]
    report = ingest(conn, keys, rows)
    assert (report.accepted, report.unchanged, report.rejected) == (3, 0, 0)
    for row in rows:
        record = read_record(conn, keys, row["source"], row["record_id"])
        assert record is not None and record.as_row() == row


def test_records_of_one_id_number_link_to_one_person(conn: Connection, keys: KeyProvider) -> None:
    ingest(conn, keys, [good_row(record_id="A"), good_row(record_id="B", name="张 伟")])
    assert count(conn, persons) == 1
    assert count(conn, records) == 2


def test_reingesting_the_same_rows_changes_nothing(conn: Connection, keys: KeyProvider) -> None:
    rows = [good_row(record_id=f"R{i}") for i in range(5)]
    ingest(conn, keys, rows)
    before = conn.execute(select(records.c.id, records.c.identity)).all()
    report = ingest(conn, keys, rows)
    assert (report.accepted, report.unchanged, report.rejected) == (0, 5, 0)
    assert conn.execute(select(records.c.id, records.c.identity)).all() == before


def test_same_key_with_different_content_is_rejected_across_batches(
    conn: Connection, keys: KeyProvider
) -> None:
    ingest(conn, keys, [good_row()])
    report = ingest(conn, keys, [good_row(detention_days="12")])
    assert report.rejected == 1
    (rejection,) = report.rejections
    assert rejection.column == "record_id"
    assert "already given with different content" in rejection.reason
    assert "line 2" in rejection.reason
    stored = read_record(conn, keys, "110105-PSB", "2024-0001")
    assert stored is not None and stored.detention_days == 10


@pytest.mark.parametrize("chunk_rows", [1, 5000])
def test_same_key_with_different_content_is_rejected_within_a_file(
    conn: Connection, keys: KeyProvider, chunk_rows: int
) -> None:
    report = ingest(
        conn, keys, [good_row(), good_row(), good_row(name="张卫")], chunk_rows=chunk_rows
    )
    assert (report.accepted, report.unchanged, report.rejected) == (1, 1, 1)
    assert report.rejections[0].line == 4
    assert "line 2" in report.rejections[0].reason


def test_a_file_in_many_chunks_is_stored_as_in_one_chunk(
    conn: Connection, keys: KeyProvider
) -> None:
    rows = [good_row(record_id=f"R{i}") for i in range(6)]
    rows += [
        good_row(record_id="R1"),  # unchanged
        good_row(record_id="R2", fine_yuan="5"),  # different content
        good_row(record_id="R3", status="revoked"),  # revokes line 5
        good_row(record_id="R4", sex="F"),  # invalid
        good_row(record_id="P1", id_number="", alt_id="PASSPORT:E1"),
    ]
    savepoint = conn.begin_nested()
    whole = ingest(conn, keys, rows)
    stored = {r: read_record(conn, keys, "110105-PSB", r) for r in ("R1", "R3", "P1")}
    savepoint.rollback()
    chunked = ingest(conn, keys, rows, chunk_rows=2)  # earlier chunks are in the store
    assert chunked == whole
    assert (whole.accepted, whole.unchanged, whole.rejected) == (8, 1, 2)
    assert [(r.line, r.column) for r in whole.rejections] == [(9, "record_id"), (11, "sex")]
    assert {r: read_record(conn, keys, "110105-PSB", r) for r in stored} == stored
    assert stored["R3"] is not None and stored["R3"].status == "revoked"
    assert count(conn, persons) == 2


def test_rows_inserted_many_to_a_statement_are_stored_exactly(
    conn: Connection, keys: KeyProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two records or eight persons to a statement: whole statements and a remainder.
    monkeypatch.setattr(store_records, "INSERT_PARAMETERS", 40)
    rows = [good_row(record_id=f"R{i}", id_number="", alt_id=f"PASSPORT:E{i}") for i in range(9)]
    rows += [good_row(record_id=f"S{i}") for i in range(4)]
    report = ingest(conn, keys, rows)
    assert (report.accepted, report.rejected) == (13, 0)
    for row in rows:
        record = read_record(conn, keys, row["source"], row["record_id"])
        assert record is not None and record.as_row() == row
    assert (count(conn, records), count(conn, persons)) == (13, 10)


def test_revocation_of_a_stored_record_is_accepted(conn: Connection, keys: KeyProvider) -> None:
    ingest(conn, keys, [good_row()])
    report = ingest(conn, keys, [good_row(status="revoked")])
    assert (report.accepted, report.rejected) == (1, 0)
    stored = read_record(conn, keys, "110105-PSB", "2024-0001")
    assert stored is not None and stored.status == "revoked"
    again = ingest(conn, keys, [good_row(status="revoked")])
    assert again.unchanged == 1


def test_a_revoked_record_cannot_become_effective_again(
    conn: Connection, keys: KeyProvider
) -> None:
    ingest(conn, keys, [good_row(status="revoked")])
    report = ingest(conn, keys, [good_row()])
    assert report.rejected == 1
    assert report.rejections[0].column == "status"


def test_a_bad_row_is_reported_and_the_rest_of_the_batch_is_stored(
    conn: Connection, keys: KeyProvider
) -> None:
    rows = [good_row(record_id="A"), good_row(record_id="B", sex="F"), good_row(record_id="C")]
    report = ingest(conn, keys, rows)
    assert (report.accepted, report.rejected) == (2, 1)
    assert (report.rejections[0].line, report.rejections[0].column) == (3, "sex")
    assert count(conn, records) == 2


def test_a_failing_batch_leaves_the_store_as_before(conn: Connection, keys: KeyProvider) -> None:
    ingest(conn, keys, [good_row(record_id="before")])

    def chunks() -> Iterator[RowChunk]:
        yield from chunks_of([good_row(record_id="X1"), good_row(record_id="X2")], 1)
        raise OSError("disk went away")

    with pytest.raises(OSError):
        ingest_rows(
            conn, chunks(), keys=keys, catalogue=load_catalogue(), file_name="f", file_format="csv"
        )
    assert count(conn, records) == 1
    assert read_record(conn, keys, "110105-PSB", "X1") is None


def test_identity_is_sealed_and_person_is_pseudonymous(conn: Connection, keys: KeyProvider) -> None:
    ingest(conn, keys, [good_row()])
    row = conn.execute(select(records)).mappings().one()
    assert "张伟".encode() not in bytes(row["identity"])
    person = conn.execute(select(persons)).mappings().one()
    assert good_row()["id_number"].encode() not in bytes(person["blind_index"])
    assert row["age_at_offence"] == 34


def test_a_failure_in_the_writer_thread_fails_the_batch_and_stores_nothing(
    conn: Connection, keys: KeyProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(conn, keys, [good_row(record_id="before")])
    persons_before = count(conn, persons)
    written = RecordStore.add_records
    calls = []

    def fail_on_second_chunk(self: RecordStore, rows: list[tuple[object, ...]]) -> None:
        calls.append(len(rows))
        if len(calls) == 2:
            raise OSError("the disk is full")
        written(self, rows)

    monkeypatch.setattr(RecordStore, "add_records", fail_on_second_chunk)
    other = [good_row(record_id=f"N{i}", id_number="", alt_id=f"PASSPORT:E{i}") for i in range(4)]
    with pytest.raises(OSError, match="disk is full"):
        ingest(conn, keys, other, chunk_rows=2)
    assert count(conn, records) == 1
    assert count(conn, persons) == persons_before
