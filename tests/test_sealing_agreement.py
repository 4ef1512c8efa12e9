"""The two faces of the sealing engine agree (SPEC section 3): the row evaluator and the
compiled sweep reach the same state, rule and facts for every record of generated people
with whole record histories, on SQLite, PostgreSQL and DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from veil.records.catalogue import load_catalogue
from veil.sealing.facts import RecordFacts
from veil.sealing.pack import load_ruleset

from .sealing_helpers import D, duckdb_decisions, row_decisions, store_decisions, store_records

# The shipped packs and the test clean-slate pack: every construct of the rule language.
RULES = load_ruleset(load_catalogue(), [Path(__file__).parent / "packs" / "clean-slate-7y.yaml"])

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


@settings(max_examples=150, deadline=None)
@given(records=histories(), as_of=st.sampled_from(AS_OF))
def test_row_evaluator_and_duckdb_sweep_agree(
    records: list[RecordFacts], as_of: dt.date, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("duckdb", numbered=True)
    assert duckdb_decisions(RULES, records, as_of, workdir) == row_decisions(RULES, records, as_of)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=histories(), as_of=st.sampled_from(AS_OF))
def test_row_evaluator_and_store_sweep_agree(
    conn: Connection, records: list[RecordFacts], as_of: dt.date
) -> None:
    """On SQLite and PostgreSQL; each example in a savepoint that is rolled back."""
    example = conn.begin_nested()
    try:
        store_records(conn, records)
        assert store_decisions(conn, RULES, as_of) == row_decisions(RULES, records, as_of)
        # A second sweep with nothing new changes nothing.
        assert store_decisions(conn, RULES, as_of) == {}
    finally:
        example.rollback()


@pytest.mark.parametrize("rule_id", [r.id for r in RULES.rules] + ["revoked", None])
def test_generated_histories_reach_every_rule(rule_id: str | None) -> None:
    """The agreement properties are not vacuous: the generator reaches each outcome."""
    cases = st.tuples(histories(), st.sampled_from(AS_OF))

    def decided_by_rule(case: tuple[list[RecordFacts], dt.date]) -> bool:
        records, as_of = case
        return any(d.rule_id == rule_id for d in row_decisions(RULES, records, as_of).values())

    quick = settings(max_examples=5_000, database=None, phases=[Phase.generate])
    find(cases, decided_by_rule, settings=quick)
