"""The incremental sweep (SPEC section 3): continuing from the last sweep, it writes exactly
the events a full sweep would, and sweeps in full whenever it cannot show that it may.

Store tests run on SQLite and PostgreSQL (the `conn` fixture)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from veil.keys import KeyProvider
from veil.records.catalogue import Catalogue, load_catalogue
from veil.sealing.evaluate import Evaluator, years_before
from veil.sealing.expr import Column
from veil.sealing.facts import RecordFacts
from veil.sealing.pack import RuleSet, load_ruleset
from veil.sealing.windows import DECISION_DATE, FullSweepNeeded, Window, windows_between
from veil.store.seals import decide_persons, facts_of_record, finish_run, start_run
from veil.store.sweep import SweepResult, sweep

from .factories import good_row
from .ingest_helpers import ingest
from .sealing_helpers import (
    AS_OF,
    RULES,
    D,
    histories,
    rec,
    row_decisions,
    run_events,
    seal_states,
    store_records,
)

SHIPPED = load_ruleset(load_catalogue())
# PSAPL (revised 2025) is in force from this day: `as_of >= in_force_date` in its rule.
PSAPL_IN_FORCE = D("2026-01-01")


# --- the property: continuing writes what a full sweep writes -----------------------------


@dataclass(frozen=True)
class Case:
    """A full sweep as of `first`; then an ingest as of its own day that stores the `late`
    records and revokes the `revoked` ones; then a sweep as of `second` (>= `first`)."""

    records: list[RecordFacts]
    first: dt.date
    second: dt.date
    late: frozenset[int]
    revoked: frozenset[int]
    ingest_day: dt.date

    def final_records(self) -> list[RecordFacts]:
        return [replace(r, status="revoked") if r.pk in self.revoked else r for r in self.records]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    records = draw(histories())
    # The dates are the moments where something flips (a record decided; the clean-slate
    # pack's seven years after a completion; PSAPL coming into force), or the day before.
    moments = sorted(
        {*AS_OF, *(r.decision_date for r in records)}
        | {years_before(r.completion_date, -7) for r in records if r.completion_date}
    )

    def moment() -> dt.date:
        return draw(st.sampled_from(moments)) - dt.timedelta(days=draw(st.sampled_from([0, 1])))

    first = moment()
    # Often a short step, as from one nightly sweep to the next; else to any later moment.
    later = [m for m in moments if m > first] or [first]
    step = draw(st.sampled_from(["same", "day", "later"]))
    second = {
        "same": first,
        "day": first + dt.timedelta(days=1),
        "later": draw(st.sampled_from(later)),
    }[step]
    chosen = draw(st.frozensets(st.sampled_from([r.pk for r in records])))
    # Stored later, so numbered after the others, as the store numbers records.
    order = [r for r in records if r.pk not in chosen] + [r for r in records if r.pk in chosen]
    records = [replace(r, pk=n) for n, r in enumerate(order, start=1)]
    late = frozenset(range(len(records) - len(chosen) + 1, len(records) + 1))
    revocable = [r.pk for r in records if r.pk not in late and r.status == "effective"]
    revoked = draw(st.frozensets(st.sampled_from(revocable))) if revocable else frozenset()
    return Case(records, first, second, late, revoked, moment())


Outcome = tuple[SweepResult, dict[int, tuple[object, ...]], dict[int, tuple[str, str | None, str]]]


def replay(
    conn: Connection, case: Case, *, full: bool, engine: str | None, workdir: Path
) -> Outcome:
    """Play `case`, both sweeps on `engine` (None: the store's own); the second sweep's
    result, its events, and the states it leaves."""
    early = [r for r in case.records if r.pk not in case.late]
    if early:
        store_records(conn, early)
    sweep(conn, RULES, case.first, engine=engine, workdir=workdir)
    if case.late or case.revoked:
        ingest_between(conn, case)
    result = sweep(conn, RULES, case.second, full=full, engine=engine, workdir=workdir)
    return result, run_events(conn, result.run_id), seal_states(conn)


def ingest_between(conn: Connection, case: Case) -> None:
    """What an ingest does: store and revoke records, then decide every record of the
    persons it touched with the row evaluator, as of the ingest day."""
    late = [r for r in case.records if r.pk in case.late]
    if late:
        store_records(conn, late)
    if case.revoked:
        listed = ", ".join(str(pk) for pk in sorted(case.revoked))
        conn.exec_driver_sql(f"UPDATE records SET status = 'revoked' WHERE id IN ({listed})")
    run = start_run(conn, trigger="ingest", engine="row", as_of=case.ingest_day, packs=RULES.label)
    touched = sorted({r.person_id for r in case.records if r.pk in case.late | case.revoked})
    evaluated = decide_persons(conn, Evaluator(RULES), [touched], run)
    finish_run(conn, run, evaluated=evaluated)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases())
@pytest.mark.parametrize("sweep_engine", [None, "duckdb"])
def test_continuing_from_the_last_sweep_writes_what_a_full_sweep_would(
    conn: Connection, sweep_engine: str | None, tmp_path: Path, case: Case
) -> None:
    """On generated histories under the shipped packs and the clean-slate pack (whose
    `years_before(as_of, 7)` moves with the date), with an ingest between the sweeps: the
    incremental sweep writes the same events as a full sweep at the second date, and
    leaves the same states (state, rule, facts); each record known then stands where the
    row evaluator puts it. Only PSAPL's entry into force between the dates needs a full
    sweep. On the store's own engine and on DuckDB over its export. Each replay runs in a
    savepoint that is rolled back."""
    outcomes = []
    for full in (False, True):
        example = conn.begin_nested()
        try:
            outcomes.append(replay(conn, case, full=full, engine=sweep_engine, workdir=tmp_path))
        finally:
            example.rollback()
    (continued, events, states), (swept, full_events, full_states) = outcomes
    assert continued.incremental == (not case.first < PSAPL_IN_FORCE <= case.second)
    assert not swept.incremental
    assert events == full_events
    assert states == full_states
    assert (continued.evaluated, continued.changes) == (swept.evaluated, swept.changes)
    expected = row_decisions(RULES, case.final_records(), case.second)
    assert {pk: states[pk][:2] for pk in expected} == {
        pk: (d.state, d.rule_id) for pk, d in expected.items()
    }


# --- examples ---------------------------------------------------------------------------


def admin(pk: int, person: int, decided: str) -> RecordFacts:
    return rec(
        pk,
        person,
        kind="admin_violation",
        offence_code="PSAPL-43-BEAT",
        offence_date=D(decided) - dt.timedelta(days=10),
        decision_date=D(decided),
        completion_date=None,
        disposition="warning",
        sentence_months=None,
    )


def test_a_record_decided_between_two_sweeps_is_sealed_by_the_next_psapl_136(
    conn: Connection,
) -> None:
    # PSAPL (2025) art. 136: sealed as soon as the decision takes effect. Only the person
    # decided in between is decided again.
    store_records(
        conn, [admin(1, 1, "2026-03-01"), admin(2, 2, "2026-05-01"), rec(3, 3), rec(4, 3)]
    )
    first = sweep(conn, SHIPPED, D("2026-04-01"))
    assert not first.incremental and first.full_because == "no earlier sweep"
    second = sweep(conn, SHIPPED, D("2026-06-01"))
    assert second.incremental and second.since == D("2026-04-01") and second.persons == 1
    assert second.changes == {"psapl-136-seal": 1} and second.evaluated == 4
    assert seal_states(conn)[2][:2] == ("sealed", "psapl-136-seal")


def test_an_old_record_crossing_seven_years_is_sealed_by_the_next_sweep_clean_slate_s2(
    conn: Connection,
) -> None:
    # Clean-slate test pack s. 2(1): sealed seven years after the sentence was completed.
    # Person 1's sentence was completed 2016-09-01, so the record is sealed as of
    # 2023-09-01 and not the day before; person 2's was sealed long before.
    store_records(
        conn,
        [
            rec(1, 1, completion_date=D("2016-09-01")),
            rec(2, 2, decision_date=D("2010-01-01"), completion_date=D("2011-01-01")),
        ],
    )
    sweep(conn, RULES, D("2023-08-31"))
    assert seal_states(conn)[1][:2] == ("open", None)
    assert seal_states(conn)[2][:2] == ("sealed", "test-clean-slate-seal")
    second = sweep(conn, RULES, D("2023-09-01"))
    assert second.incremental and second.persons == 1
    assert second.changes == {"test-clean-slate-seal": 1}
    assert seal_states(conn)[1][:2] == ("sealed", "test-clean-slate-seal")


def test_as_of_crossing_psapl_coming_into_force_sweeps_in_full_psapl_136(
    conn: Connection,
) -> None:
    # PSAPL (revised 2025) is in force from 2026-01-01: its rule compares as_of with that
    # day, which no window of records can narrow down.
    store_records(conn, [admin(1, 1, "2025-06-01"), rec(2, 2)])
    sweep(conn, SHIPPED, D("2025-12-31"))
    second = sweep(conn, SHIPPED, PSAPL_IN_FORCE)
    assert not second.incremental
    assert second.full_because is not None and "2026-01-01" in second.full_because
    assert second.changes == {"psapl-136-seal": 1}
    # After it, the date moves on without crossing anything: incremental again.
    assert sweep(conn, SHIPPED, D("2026-02-01")).incremental


def test_other_rules_than_the_last_sweeps_sweep_in_full(conn: Connection) -> None:
    # A pack added (here the clean-slate pack, s. 2) may decide any record differently.
    store_records(conn, [rec(1, 1, completion_date=D("2010-01-01"))])
    sweep(conn, SHIPPED, D("2026-06-01"))
    second = sweep(conn, RULES, D("2026-06-01"))
    assert not second.incremental and second.full_because is not None
    assert "other rules" in second.full_because
    assert second.changes == {"test-clean-slate-seal": 1}
    assert sweep(conn, RULES, D("2026-06-02")).incremental


def test_a_sweep_as_of_an_earlier_date_than_the_last_sweeps_full_psapl_136(
    conn: Connection,
) -> None:
    store_records(conn, [admin(1, 1, "2025-06-01"), admin(2, 2, "2026-03-01")])
    sweep(conn, SHIPPED, D("2026-06-01"))
    earlier = sweep(conn, SHIPPED, D("2025-12-31"))
    assert not earlier.incremental and earlier.full_because is not None
    assert "before the last sweep" in earlier.full_because
    # PSAPL art. 136 was not yet in force: open again; the later record is not known yet.
    assert earlier.changes == {"open": 1} and earlier.evaluated == 1


def test_a_full_sweep_can_be_asked_for(conn: Connection) -> None:
    store_records(conn, [admin(1, 1, "2026-03-01")])
    sweep(conn, SHIPPED, D("2026-06-01"))
    again = sweep(conn, SHIPPED, D("2026-06-02"), full=True)
    assert not again.incremental and again.full_because == "a full sweep was asked for"
    assert again.changes == {}


def test_records_an_ingest_decided_as_of_its_own_day_are_decided_again_psapl_136(
    conn: Connection, keys: KeyProvider
) -> None:
    # Ingest decides as of the ingest day, when PSAPL art. 136 is in force; a sweep as of
    # 2025-12-31, before it came into force, opens the person's two violations. An ingest
    # then revokes one: it purges it and, as of its own day, seals the other again. The
    # next sweep as of 2025-12-31 must open that one again, though nothing was decided
    # between the two sweeps' dates (the same date) and no record was stored since.
    rows = [good_row(), good_row(record_id="2024-0002", offence_code="PSAPL-49-THEFT")]
    ingest(conn, keys, rows)
    assert sweep(conn, SHIPPED, D("2025-12-31")).changes == {"open": 2}
    assert ingest(conn, keys, [{**rows[1], "status": "revoked"}]).accepted == 1
    kept = facts_of_record(conn, "110105-PSB", "2024-0001")
    assert kept is not None and seal_states(conn)[kept.pk][0] == "sealed"
    again = sweep(conn, SHIPPED, D("2025-12-31"))
    assert again.incremental and again.persons == 1
    assert again.changes == {"open": 1}
    assert seal_states(conn)[kept.pk][:2] == ("open", None)


def test_a_record_stored_since_the_last_sweep_without_a_seal_run_is_decided_psapl_136(
    conn: Connection,
) -> None:
    # A record stored after the last sweep, decided before that sweep's date, and not
    # decided by any run since (stored straight into the table, as a bulk load would): its
    # id above the last sweep's mark brings it in. PSAPL art. 136 seals it.
    store_records(conn, [admin(1, 1, "2026-03-01")])
    sweep(conn, SHIPPED, D("2026-06-01"))
    store_records(conn, [admin(2, 2, "2026-02-01")])
    again = sweep(conn, SHIPPED, D("2026-06-01"))
    assert again.incremental and again.persons == 1
    assert again.changes == {"psapl-136-seal": 1}


def test_a_record_revoked_since_the_last_sweep_is_purged_by_the_next(
    conn: Connection,
) -> None:
    # Revoked records are purged (SPEC section 3), and the person's other records are
    # decided again without it. Here the status changes behind ingest's back, so only the
    # sweep's own check (no longer effective, not yet purged) finds it.
    store_records(conn, [admin(1, 1, "2026-03-01"), admin(2, 1, "2026-03-02"), rec(3, 2)])
    sweep(conn, SHIPPED, D("2026-06-01"))
    conn.exec_driver_sql("UPDATE records SET status = 'revoked' WHERE id = 2")
    again = sweep(conn, SHIPPED, D("2026-06-01"))
    assert again.incremental and again.persons == 1
    assert again.changes == {"revoked": 1}


# --- the windows, read from the packs ------------------------------------------------------


def test_windows_come_from_the_packs_conditions() -> None:
    # Shipped packs: only the decision date (which records are known) moves anything.
    assert windows_between(SHIPPED, D("2026-06-20"), D("2026-06-30")) == (
        Window(DECISION_DATE, D("2026-06-20"), D("2026-06-30"), low_open=True, high_open=False),
    )
    # Clean-slate s. 2(1): `completion_date <= years_before(as_of, 7)` adds its window.
    completed = Column("record", "completion_date")
    assert windows_between(RULES, D("2026-06-20"), D("2026-06-30"))[1:] == (
        Window(completed, D("2019-06-20"), D("2019-06-30"), low_open=True, high_open=False),
    )
    assert windows_between(RULES, D("2026-06-30"), D("2026-06-30")) == ()


def pack_with(tmp_path: Path, catalogue: Catalogue, **texts: str) -> RuleSet:
    """The shipped packs and a test pack with one rule (`when`) and its person facts."""
    facts = "".join(f"  {name}: >-\n    {text}\n" for name, text in texts.items() if name != "when")
    path = tmp_path / "as-of-test.yaml"
    path.write_text(
        "pack: as-of-test\nversion: '1'\ntitle_zh: 测试\ntitle_en: Test\nstatute: act\n"
        "statutes:\n  act:\n    name_zh: 测试法\n    name_en: Test Act\n"
        + (f"person_facts:\n{facts}" if facts else "")
        + "rules:\n  - id: as-of-test-seal\n    article: '1'\n    effect: seal\n"
        "    precedence: 10\n    explanation_zh: 测试\n    explanation_en: Test\n"
        f"    when: >-\n      {texts['when']}\n",
        encoding="utf-8",
    )
    return load_ruleset(catalogue, [path])


def test_a_date_compared_with_as_of_inside_an_aggregate_has_its_window(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    rules = pack_with(
        tmp_path,
        catalogue,
        when="record.kind == 'criminal' and not record.recent_crime",
        recent_crime="any(other.kind == 'criminal'"
        " and other.offence_date > years_before(as_of, 3) for other in others)",
    )
    # `other.offence_date > years_before(as_of, 3)`: true at 2023-06-30 and false at
    # 2023-06-20 exactly for offences in (2023-06-20, 2023-06-30] three years earlier.
    offences = Column("other", "offence_date")
    assert windows_between(rules, D("2026-06-20"), D("2026-06-30"))[1:] == (
        Window(offences, D("2023-06-20"), D("2023-06-30"), low_open=True, high_open=False),
    )


def test_as_of_used_where_no_window_bounds_it_means_a_full_sweep(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    rules = pack_with(
        tmp_path,
        catalogue,
        when="record.kind == 'criminal'"
        " and coalesce(record.completion_date, as_of) <= years_before(as_of, 3)",
    )
    with pytest.raises(FullSweepNeeded, match="no date window bounds"):
        windows_between(rules, D("2026-06-20"), D("2026-06-30"))
    # The same date twice moves nothing.
    assert windows_between(rules, D("2026-06-30"), D("2026-06-30")) == ()


def test_the_rules_digest_tells_rule_sets_apart(catalogue: Catalogue) -> None:
    assert load_ruleset(catalogue).digest == SHIPPED.digest
    assert SHIPPED.digest != RULES.digest
