"""Seal history in the store: sealed on ingest, append-only, purged on revocation.

Runs on SQLite and PostgreSQL (the `conn` fixture)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Connection

from veil.keys import KeyProvider
from veil.records.catalogue import Catalogue
from veil.sealing.pack import load_ruleset
from veil.store.seals import facts_of_record, history
from veil.store.sweep import sweep

from .factories import good_row
from .ingest_helpers import ingest


def events(conn: Connection) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM seal_events ORDER BY id")]


def test_new_admin_violation_is_sealed_the_moment_it_is_stored_psapl_136(
    conn: Connection, keys: KeyProvider
) -> None:
    ingest(conn, keys, [good_row()])
    record = facts_of_record(conn, "110105-PSB", "2024-0001")
    assert record is not None
    (event,) = history(conn, record.pk)
    assert (event["state"], event["rule_id"], event["article"]) == (
        "sealed",
        "psapl-136-seal",
        "136",
    )
    assert event["trigger"] == "ingest"
    assert json.loads(event["facts"]) == {"kind": "admin_violation"}


def test_ingest_decides_the_persons_other_records_too_measures_18(
    conn: Connection, keys: KeyProvider
) -> None:
    # A minor's theft, sealed; then a robbery committed before it was judged, found later,
    # brings the combined sentence above five years: the first record is unsealed.
    first = good_row(
        record_id="C-1",
        kind="criminal",
        offence_code="CL-264-THEFT",
        offence_date="2007-01-10",
        decision_date="2007-06-01",
        completion_date="2010-06-01",
        disposition="imprisonment",
        detention_days="",
        sentence_months="36",
        source="110105-CRT",
    )
    ingest(conn, keys, [first])
    record = facts_of_record(conn, "110105-CRT", "C-1")
    assert record is not None and record.age_at_offence == 16
    assert history(conn, record.pk)[-1]["state"] == "sealed"
    later = {
        **first,
        "record_id": "C-2",
        "offence_code": "CL-263-ROBBERY",
        "offence_date": "2007-03-01",
        "decision_date": "2012-01-01",
        "completion_date": "2014-07-01",
        "sentence_months": "30",
    }
    ingest(conn, keys, [later])
    states = [e["state"] for e in history(conn, record.pk)]
    assert states == ["sealed", "unsealed"]
    assert history(conn, record.pk)[-1]["rule_id"] == "cpl-286-unseal-combined"


def test_revoked_record_is_purged_with_an_event_that_says_so(
    conn: Connection, keys: KeyProvider
) -> None:
    ingest(conn, keys, [good_row()])
    ingest(conn, keys, [good_row(status="revoked")])
    record = facts_of_record(conn, "110105-PSB", "2024-0001")
    assert record is not None
    last = history(conn, record.pk)[-1]
    assert (last["state"], last["rule_id"]) == ("purged", "revoked")
    assert json.loads(last["facts"]) == {"status": "revoked"}


def test_history_is_append_only_and_sweeps_write_only_changes(
    conn: Connection, keys: KeyProvider, catalogue: Catalogue
) -> None:
    rules = load_ruleset(catalogue)
    ingest(conn, keys, [good_row(), good_row(record_id="2024-0002")])
    before = events(conn)
    # As of 2025 the PSAPL revision was not in force: both records open.
    result = sweep(conn, rules, dt.date(2025, 6, 1))
    assert result.changes == {"open": 2} and result.evaluated == 2
    after = events(conn)
    assert after[: len(before)] == before and len(after) == len(before) + 2
    # The same sweep again writes nothing.
    assert sweep(conn, rules, dt.date(2025, 6, 1)).changes == {}
    assert events(conn) == after
    # The first sweep after 2026-01-01 seals them again.
    assert sweep(conn, rules, dt.date(2026, 1, 1)).changes == {"psapl-136-seal": 2}
    assert events(conn)[: len(after)] == after


def test_duckdb_sweep_of_the_store_writes_what_the_store_sweep_would(
    conn: Connection, keys: KeyProvider, catalogue: Catalogue, tmp_path: Path
) -> None:
    rules = load_ruleset(catalogue)
    rows = [
        good_row(
            record_id=f"2024-{n:04}",
            offence_date=f"2019-0{n}-01",
            decision_date=f"2019-0{n}-15",
            completion_date="",
        )
        for n in range(1, 6)
    ]
    rows = [{**r, "disposition": "warning", "detention_days": ""} for r in rows]
    ingest(conn, keys, rows)
    before = events(conn)
    on_duckdb = sweep(conn, rules, dt.date(2025, 1, 1), engine="duckdb", workdir=tmp_path)
    assert on_duckdb.changes == {"open": 5} and on_duckdb.engine == "duckdb"
    written = events(conn)[len(before) :]
    assert {(e[3], e[4], e[5], e[6]) for e in written} == {("open", None, None, None)}
    # The store's own engine finds nothing left to change, and so does DuckDB again.
    assert sweep(conn, rules, dt.date(2025, 1, 1)).changes == {}
    again = sweep(conn, rules, dt.date(2026, 2, 1), engine="duckdb", workdir=tmp_path)
    assert again.changes == {"psapl-136-seal": 5}
    last = events(conn)[-1]
    assert (last[3], last[4], last[5], last[6]) == (
        "sealed",
        "psapl-136-seal",
        "Public Security Administration Punishment Law (revised 2025)",
        "136",
    )


def test_persons_a_batch_touched_are_read_in_pages(conn: Connection, keys: KeyProvider) -> None:
    from veil.records.idnumber import with_check_digit
    from veil.store.incremental import PERSONS, clear_gathered
    from veil.store.records import RecordStore

    rows = [
        good_row(record_id=f"P-{n}", id_number=with_check_digit(f"1101051990030700{n}"))
        for n in (1, 3, 5, 7, 9)  # odd sequence digits: men, as good_row says
    ]
    ingest(conn, keys, rows)
    batch = conn.exec_driver_sql("SELECT max(id) FROM ingest_batches").scalar_one()
    store = RecordStore(conn)
    clear_gathered(conn)
    assert store.gather_persons_of_batch(batch, (), PERSONS) == 5
    pages = list(store.person_pages(PERSONS, page=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [p for page in pages for p in page]
    assert flat == sorted(set(flat))


def test_a_sweep_that_fails_midway_leaves_the_history_as_it_was(
    conn: Connection,
    keys: KeyProvider,
    catalogue: Catalogue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(conn, keys, [good_row(record_id=f"2024-{n:04}") for n in range(1, 4)])
    tables = ("seal_runs", "seal_events", "seal_states")

    def contents() -> list[list[tuple[object, ...]]]:
        return [[tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t}")] for t in tables]

    before = contents()
    monkeypatch.setattr("veil.store.sweep.SLICE", 1)  # one statement per record

    def interrupted(done: int, total: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(conn, load_ruleset(catalogue), dt.date(2025, 6, 1), progress=interrupted)
    assert contents() == before
