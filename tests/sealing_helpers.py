"""Running both sealing evaluators on hand-made or generated records."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st
from sqlalchemy import Connection

from veil.records.catalogue import load_catalogue
from veil.sealing.compile import Tables
from veil.sealing.evaluate import Decision, Evaluator
from veil.sealing.facts import RECORDS_SCHEMA, STATES_SCHEMA, RecordFacts
from veil.sealing.pack import RuleSet, load_ruleset
from veil.store.dialect import dialect_of
from veil.store.duckdb_sweep import GROUPED_BY, arrow_schema, changed, run_changes, write_parquet
from veil.store.seals import Run
from veil.store.sweep import sweep

D = dt.date.fromisoformat
# The record columns besides the two ids, in RECORDS_SCHEMA's order.
FACTS = [c for c in RECORDS_SCHEMA if c not in ("id", "person_id")]
CLEAN_SLATE = Path(__file__).parent / "packs" / "clean-slate-7y.yaml"
# The shipped packs and the test clean-slate pack: every construct of the rule language.
RULES = load_ruleset(load_catalogue(), [CLEAN_SLATE])

# --- generated histories -------------------------------------------------------------------

CODES = {
    "criminal": ["CL-264-THEFT", "CL-263-ROBBERY", "CL-237-INDECENT-ASSAULT"],
    "admin_violation": ["PSAPL-43-BEAT", "PSAPL-49-THEFT"],
    "drug_registration": ["ADL-62-DRUG-USE"],
}
DISPOSITIONS = {
    "criminal": [
        "imprisonment",
        "detention",
        "probation",
        "fine",
        "exempted",
        "non_prosecution",
        "not_criminally_liable",
        "life_imprisonment",
    ],
    "admin_violation": ["warning", "fine", "detention"],
    "drug_registration": ["registration"],
}
START = D("2014-01-01")
# Few distinct values, so that equal dates, same offences and boundaries come up often.
AS_OF = [
    D("2015-06-01"),
    D("2020-01-01"),
    D("2025-12-31"),
    D("2026-01-01"),
    D("2026-11-24"),
    D("2035-01-01"),
]


@st.composite
def record_facts(draw: st.DrawFn, pk: int, person: int) -> RecordFacts:
    kind = draw(st.sampled_from(["criminal"] * 4 + ["admin_violation"] * 2 + ["drug_registration"]))
    offence = START + dt.timedelta(days=draw(st.sampled_from([0, 30, 400, 1000])))
    decision = offence + dt.timedelta(days=draw(st.sampled_from([0, 100, 2000])))
    done = draw(st.sampled_from([None, 300, 1500, 3000]))
    return RecordFacts(
        pk=pk,
        person_id=person,
        status=draw(st.sampled_from(["effective"] * 6 + ["revoked"])),
        kind=kind,
        offence_code=draw(st.sampled_from(CODES[kind])),
        offence_date=offence,
        decision_date=decision,
        completion_date=None if done is None else decision + dt.timedelta(days=done),
        disposition=draw(st.sampled_from(DISPOSITIONS[kind][:1] * 4 + DISPOSITIONS[kind])),
        detention_days=draw(st.sampled_from([None, 5])),
        sentence_months=draw(st.sampled_from([None, 6, 30, 36, 60, 61, 120])),
        fine_yuan=draw(st.sampled_from([None, 0, 500])),
        age_at_offence=draw(st.sampled_from([14, 16, 17, 17, 18, 30])),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[RecordFacts]:
    """One to four people, each with one to five records."""
    records: list[RecordFacts] = []
    for person in range(1, draw(st.integers(1, 4)) + 1):
        for _ in range(draw(st.integers(1, 5))):
            records.append(draw(record_facts(len(records) + 1, person)))
    return records


# --- the evaluators ------------------------------------------------------------------------


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
    schema = arrow_schema(RECORDS_SCHEMA)
    # Laid out as the export lays it out, in row groups small enough that a kind spans several.
    write_parquet(path, schema, [pa.table(columns, schema=schema)], GROUPED_BY, rows=3)
    pq.write_table(arrow_schema(STATES_SCHEMA).empty_table(), states)
    found: dict[int, Decision] = {}
    for batch in run_changes(ruleset, Run(1, as_of), Tables(str(path), str(states))):
        for pk, state, rule_id, facts in changed(batch, ruleset, as_of):
            assert pk not in found, f"record {pk} decided twice"  # one event per record
            found[pk] = Decision(state, rule_id, facts)
    return found


def decide(
    ruleset: RuleSet, records: Sequence[RecordFacts], as_of: dt.date, workdir: Path
) -> dict[int, Decision]:
    """Both evaluators' decisions, which must be the same; the row evaluator's are returned."""
    by_row = row_decisions(ruleset, records, as_of)
    assert duckdb_decisions(ruleset, records, as_of, workdir) == by_row
    return by_row


def store_records(conn: Connection, records: Sequence[RecordFacts]) -> None:
    """Put facts straight into the store (identity columns are placeholders); persons not
    yet stored are added."""
    dialect = dialect_of(conn)
    batch = conn.exec_driver_sql(
        "INSERT INTO ingest_batches (file_name, format, started_at, accepted, unchanged, rejected)"
        f" VALUES ('t', 'csv', {dialect.placeholder}, 0, 0, 0) RETURNING id",
        (dt.datetime(2026, 1, 1, tzinfo=dt.UTC),),
    ).scalar_one()
    stored = {row[0] for row in conn.exec_driver_sql("SELECT id FROM persons")}
    persons = sorted({r.person_id for r in records} - stored)
    if persons:
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


def seal_states(conn: Connection) -> dict[int, tuple[str, str | None, str]]:
    """Every record's current (state, rule, facts), the facts those of its latest event."""
    rows = conn.exec_driver_sql(
        "SELECT s.record_pk, s.state, s.rule_id, e.facts FROM seal_states s"
        " JOIN seal_events e ON e.id = s.event_id"
    )
    return {pk: (state, rule, facts) for pk, state, rule, facts in rows}


def run_events(conn: Connection, run_id: int) -> dict[int, tuple[object, ...]]:
    """One run's events by record: state, rule, statute, article, as-of date and facts."""
    rows = conn.exec_driver_sql(
        "SELECT record_pk, state, rule_id, statute, article, as_of, facts FROM seal_events"
        f" WHERE run_id = {int(run_id)}"
    )
    return {row[0]: (*row[1:5], str(row[5]), row[6]) for row in rows}
