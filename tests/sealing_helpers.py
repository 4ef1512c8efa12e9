"""Running both sealing evaluators on hand-made or generated records."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection

from veil.sealing.compile import Tables
from veil.sealing.evaluate import Decision, Evaluator
from veil.sealing.facts import RECORDS_SCHEMA, STATES_SCHEMA, RecordFacts
from veil.sealing.pack import RuleSet
from veil.store.dialect import dialect_of
from veil.store.duckdb_sweep import arrow_schema, run_changes
from veil.store.seals import Run
from veil.store.sweep import sweep

D = dt.date.fromisoformat
# The record columns besides the two ids, in RECORDS_SCHEMA's order.
FACTS = [c for c in RECORDS_SCHEMA if c not in ("id", "person_id")]


def rec(pk: int, person: int = 1, **facts: object) -> RecordFacts:
    """A criminal record of an adult by default; override any fact by keyword."""
    base = RecordFacts(
        pk=pk,
        person_id=person,
        status="effective",
        kind="criminal",
        offence_code="CL-264-THEFT",
        offence_date=D("2015-03-01"),
        decision_date=D("2015-09-01"),
        completion_date=D("2016-09-01"),
        disposition="imprisonment",
        detention_days=None,
        sentence_months=12,
        fine_yuan=None,
        age_at_offence=25,
    )
    return replace(base, **facts)  # type: ignore[arg-type]


def row_decisions(
    ruleset: RuleSet, records: Sequence[RecordFacts], as_of: dt.date
) -> dict[int, Decision]:
    evaluator = Evaluator(ruleset)
    decisions: dict[int, Decision] = {}
    for person in sorted({r.person_id for r in records}):
        mine = [r for r in records if r.person_id == person]
        decisions.update(evaluator.evaluate_person(mine, as_of))
    return decisions


def duckdb_decisions(
    ruleset: RuleSet, records: Sequence[RecordFacts], as_of: dt.date, workdir: Path
) -> dict[int, Decision]:
    """The compiled sweep on DuckDB over Parquet files, as `veil seal sweep` runs it."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"records-{os.getpid()}-{id(records)}.parquet"
    states = workdir / "states.parquet"
    columns = {
        name: [getattr(r, "pk" if name == "id" else name) for r in records]
        for name in RECORDS_SCHEMA
    }
    pq.write_table(pa.table(columns, schema=arrow_schema(RECORDS_SCHEMA)), path)
    pq.write_table(arrow_schema(STATES_SCHEMA).empty_table(), states)
    found: dict[int, Decision] = {}
    for batch in run_changes(ruleset, Run(1, as_of), Tables(str(path), str(states))):
        for row in batch.to_pylist():
            found[row["record_pk"]] = Decision(row["state"], row["rule_id"], row["facts"])
    return found


def decide(
    ruleset: RuleSet, records: Sequence[RecordFacts], as_of: dt.date, workdir: Path
) -> dict[int, Decision]:
    """Both evaluators' decisions, which must be the same; the row evaluator's are returned."""
    by_row = row_decisions(ruleset, records, as_of)
    assert duckdb_decisions(ruleset, records, as_of, workdir) == by_row
    return by_row


def store_records(conn: Connection, records: Sequence[RecordFacts]) -> None:
    """Put facts straight into the store (identity columns are placeholders)."""
    dialect = dialect_of(conn)
    batch = conn.exec_driver_sql(
        "INSERT INTO ingest_batches (file_name, format, started_at, accepted, unchanged, rejected)"
        f" VALUES ('t', 'csv', {dialect.placeholder}, 0, 0, 0) RETURNING id",
        (dt.datetime(2026, 1, 1, tzinfo=dt.UTC),),
    ).scalar_one()
    persons = sorted({r.person_id for r in records})
    conn.exec_driver_sql(
        dialect.insert_sql(
            "persons", ("id", "blind_index", "key_id", "wrapped_key", "created_batch")
        ),
        [(p, p.to_bytes(32, "big"), "k", b"w", batch) for p in persons],
    )
    columns = (
        "id",
        "person_id",
        "source",
        "record_id",
        *FACTS,
        "identity",
        "content_mac",
        "batch_id",
        "source_line",
    )
    conn.exec_driver_sql(
        dialect.insert_sql("records", tuple(columns)),
        [
            (
                r.pk,
                r.person_id,
                "T",
                str(r.pk),
                *[_db(getattr(r, c)) for c in FACTS],
                b"x",
                b"m" * 32,
                batch,
                1,
            )
            for r in records
        ],
    )


def _db(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def store_decisions(conn: Connection, ruleset: RuleSet, as_of: dt.date) -> dict[int, Decision]:
    """Sweep the store on its own engine; the decisions the sweep recorded."""
    result = sweep(conn, ruleset, as_of)
    rows = conn.exec_driver_sql(
        f"SELECT record_pk, state, rule_id, facts FROM seal_events WHERE run_id = {result.run_id}"
    )
    return {pk: Decision(state, rule, facts) for pk, state, rule, facts in rows}
