"""The two faces of the sealing engine agree (SPEC section 3): the row evaluator and the
compiled sweep reach the same state, rule and facts for every record of generated people
with whole record histories, on SQLite, PostgreSQL and DuckDB."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from veil.sealing.facts import RecordFacts

from .sealing_helpers import (
    AS_OF,
    RULES,
    duckdb_decisions,
    histories,
    row_decisions,
    store_decisions,
    store_records,
)


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


def test_compact_events_leave_out_only_facts_that_follow_from_the_rule() -> None:
    """PSAPL (2025) art. 136's seal pins the one fact it reads (kind = admin_violation), so
    its compact DuckDB events carry no text and the store writes the constant; CPL art.
    286's rules read the record's own facts (age, disposition, term), so theirs carry it.
    The agreement property above checks the texts read back; this checks which are left
    out."""
    from veil.sealing.compile import OPEN, constant_facts

    constant = constant_facts(RULES, AS_OF[-1])
    ids = {rule.id: i for i, rule in enumerate(RULES.rules)}
    assert constant[OPEN] == "{}"
    assert constant[ids["psapl-136-seal"]] == '{"kind":"admin_violation"}'
    for rule_id in ("cpl-286-seal", "cpl-286-unseal-combined", "cpl-286-unseal-retrial"):
        assert ids[rule_id] not in constant
