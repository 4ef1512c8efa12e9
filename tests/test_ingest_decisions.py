"""An ingest decides the persons it touched the same way whichever evaluator it uses.

SPEC section 3: a new violation is sealed the moment it is stored (PSAPL art. 136 seals an
administrative violation; CPL art. 286 a minor's sentence of five years or less). A batch
touching many persons is decided by the compiled query inside the store, a small one by the
row evaluator (veil/ingest/decide.py); both must write the same events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import Connection

from veil.ingest import IngestReport, decide, ingest_rows
from veil.keys import KeyProvider
from veil.records.catalogue import load_catalogue
from veil.synth.population import SynthOptions, generate_rows

from .ingest_helpers import chunks_of

NOW = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
ROW, COMPILED = 10**9, 0  # compiled_from: never, always


def ingest(
    conn: Connection,
    keys: KeyProvider,
    rows: Sequence[dict[str, str]],
    compiled_from: int,
    on_decide: Callable[[int, int], None] | None = None,
) -> IngestReport:
    return ingest_rows(
        conn,
        chunks_of(rows, 300),
        keys=keys,
        catalogue=load_catalogue(),
        file_name="test.csv",
        file_format="csv",
        now=lambda: NOW,
        compiled_from=compiled_from,
        on_decide=on_decide,
    )


def events(conn: Connection) -> list[tuple[object, ...]]:
    """Every event by the record's natural key (ids differ between the two stores)."""
    rows = conn.exec_driver_sql(
        "SELECT r.source, r.record_id, u.trigger, u.as_of, e.state, e.rule_id, e.statute,"
        " e.article, e.as_of, e.facts FROM seal_events e"
        " JOIN records r ON r.id = e.record_pk JOIN seal_runs u ON u.id = e.run_id"
    )
    return sorted(tuple(str(v) for v in row) for row in rows)


def engines(conn: Connection) -> list[str]:
    return [row[0] for row in conn.exec_driver_sql("SELECT engine FROM seal_runs ORDER BY id")]


def batches() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A synthetic population's records; then a second batch that revokes some of them
    and adds later records for some of the same people."""
    first = list(generate_rows(SynthOptions(persons=20_000, seed=7)))
    revoked = [{**row, "status": "revoked"} for row in first[::9]]
    later = [
        {
            **row,
            "record_id": row["record_id"] + "-R",
            "kind": "admin_violation",
            "offence_code": "PSAPL-43-BEAT",
            "offence_date": "2026-05-02",
            "decision_date": "2026-05-20",
            "completion_date": "2026-05-30",
            "disposition": "detention",
            "detention_days": "5",
            "sentence_months": "",
            "fine_yuan": "",
        }
        for row in first[1::7]
    ]
    return first, revoked + later


def test_the_compiled_query_and_the_row_evaluator_write_the_same_events(
    conn: Connection, keys: KeyProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decide, "COMPILED_PAGE", 100)  # several pages of persons
    first, second = batches()
    kinds = {(row["kind"], row["status"]) for row in first + second}
    assert {("admin_violation", "effective"), ("criminal", "effective")} <= kinds
    assert ("admin_violation", "revoked") in kinds or ("criminal", "revoked") in kinds

    written = []
    for compiled_from in (ROW, COMPILED):
        savepoint = conn.begin_nested()
        for rows in (first, second):
            report = ingest(conn, keys, rows, compiled_from)
            assert report.rejected == 0, report.rejections[:3]
        written.append((events(conn), engines(conn)))
        savepoint.rollback()

    (by_row, row_engines), (by_query, query_engines) = written
    assert row_engines == ["row", "row"]
    assert query_engines == [conn.dialect.name] * 2
    states = {event[4] for event in by_row}
    assert {"sealed", "open", "purged"} <= states, states  # revoked records are purged
    rules = {event[5] for event in by_row}
    assert {"psapl-136-seal", "cpl-286-seal"} <= rules, rules  # PSAPL art. 136; CPL art. 286
    assert by_query == by_row


def test_the_changes_reported_count_every_event_of_the_run(
    conn: Connection, keys: KeyProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The changes per rule are counted a slice of events at a time (bounded memory); the
    slices together count each event of the run once."""
    from veil.store import seals

    monkeypatch.setattr(seals, "COUNT_SLICE", 7)
    first, second = batches()
    for rows in (first, second):
        report = ingest(conn, keys, rows, COMPILED)
        counted: dict[str, int] = {}
        for rule_id, state, count in conn.exec_driver_sql(
            "SELECT rule_id, state, count(*) FROM seal_events WHERE run_id = "
            f"{int(report.seal_run or 0)} GROUP BY rule_id, state"
        ):
            counted[rule_id or state] = counted.get(rule_id or state, 0) + count
        assert sum(counted.values()) > 7 * 3
        assert report.seal_changes == dict(sorted(counted.items()))


@pytest.mark.parametrize("compiled_from", [ROW, COMPILED])
def test_the_decisions_report_their_progress_to_the_last_person(
    conn: Connection, keys: KeyProvider, monkeypatch: pytest.MonkeyPatch, compiled_from: int
) -> None:
    """After the last chunk, the terminal's second bar follows the persons decided."""
    monkeypatch.setattr(decide, "COMPILED_PAGE", 100)
    monkeypatch.setattr(decide, "ROW_PAGE", 100)
    first, _ = batches()
    heard: list[tuple[int, int]] = []
    ingest(conn, keys, first, compiled_from, lambda done, total: heard.append((done, total)))
    persons = conn.exec_driver_sql("SELECT count(*) FROM persons").scalar_one()
    assert heard[0] == (0, persons)
    assert heard[-1] == (persons, persons)
    assert len(heard) > 3  # a page at a time
    assert [done for done, _ in heard] == sorted({done for done, _ in heard})


@pytest.mark.parametrize("compiled_from", [ROW, COMPILED])
def test_decisions_that_fail_midway_leave_the_store_as_before_the_batch(
    conn: Connection, keys: KeyProvider, monkeypatch: pytest.MonkeyPatch, compiled_from: int
) -> None:
    """A batch is atomic (SPEC section 2): decisions failing after some pages are written
    take the batch's records, persons and events with them."""
    monkeypatch.setattr(decide, "COMPILED_PAGE", 100)
    monkeypatch.setattr(decide, "ROW_PAGE", 100)
    first, second = batches()
    ingest(conn, keys, first, compiled_from)
    tables = ("ingest_batches", "persons", "records", "seal_runs", "seal_events", "seal_states")

    def contents() -> list[list[tuple[object, ...]]]:
        return [[tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t}")] for t in tables]

    before = contents()
    pages = 0

    def failing(done: int, total: int) -> None:
        nonlocal pages
        pages += 1
        if pages == 3:  # the first page or two are decided and written by now
            raise OSError("disk went away")

    with pytest.raises(OSError):
        ingest(conn, keys, first[:50] + second, compiled_from, failing)
    assert contents() == before
