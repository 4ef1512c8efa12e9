"""The incremental sweep: the compiled sweep run over only the persons whose decisions can
differ from what the last sweep recorded, with exactly the events a full sweep would write.

A sweep continues from the last finished sweep when that one ran the same rules (the same
digest) as of the same date or earlier, and recorded which records it saw. That sweep left
every record it knew in the state its rules gave it as of its date. Since then a record's
decision, or the state to compare it with, can differ only

- where the move of the as-of date can change it (`veil.sealing.windows`: a record of the
  person decided in between, or a date a condition compares with as_of within its window);
- where the person's records changed: stored after that sweep (id above its mark: the
  store numbers new records upwards, SQLite's rowid and PostgreSQL's sequence alike, and
  never deletes one; no record's facts change but its status), or revoked and not yet
  purged;
- where something else wrote a state since: an ingest decides the persons it touched as
  of the ingest day, not as of a sweep's date, so every record with an event in a later
  run brings its person in.

A decision reads only its own person's records. So the persons with such a record are
gathered in a temporary table, all their records copied to another, and the compiled sweep
runs over that copy against the real current states: each of their records gets the event
a full sweep would give it, and a full sweep would find everyone else's records where they
are. Whenever continuing cannot be shown safe, the sweep is full (`Plan.full_because`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from veil.sealing.facts import EVENT_COLUMNS, QUERY_COLUMNS, RECORDS_SCHEMA
from veil.sealing.pack import RuleSet
from veil.sealing.windows import FullSweepNeeded, Window, windows_between
from veil.store.seals import PastSweep, last_sweep

PERSONS = "veil_sweep_persons"
RECORDS = "veil_sweep_records"


@dataclass(frozen=True)
class Continued:
    """What an incremental sweep did: the persons it decided again, and how many records
    are known as of its date (what `count_known` counts, without reading every record)."""

    persons: int
    evaluated: int


@dataclass(frozen=True)
class Plan:
    """How a sweep runs: continuing from `since`, or full (`since` None) and why."""

    since: PastSweep | None
    windows: tuple[Window, ...] = ()
    full_because: str | None = None


def plan_sweep(
    conn: Connection, ruleset: RuleSet, as_of: dt.date, run_id: int, *, full: bool = False
) -> Plan:
    """Continue from the last sweep before run `run_id` if that is safe; else a full sweep."""
    if full:
        return Plan(None, full_because="a full sweep was asked for")
    since = last_sweep(conn, run_id)
    if since is None:
        return Plan(None, full_because="no earlier sweep")
    if since.rules_digest is None or since.records_mark is None:
        return Plan(None, full_because=f"sweep run {since.id} did not record what it saw")
    if since.rules_digest != ruleset.digest:
        return Plan(None, full_because=f"sweep run {since.id} ran other rules")
    try:
        windows = windows_between(ruleset, since.as_of, as_of)
    except FullSweepNeeded as why:
        return Plan(None, full_because=str(why))
    return Plan(since, windows)


def sweep_candidates(
    conn: Connection,
    ruleset: RuleSet,
    run_id: int,
    as_of: dt.date,
    dialect: str,
    plan: Plan,
    report: Callable[[int, int], None],
) -> Continued:
    """Append the events of the candidates' records (QUERY_COLUMNS, run `run_id`)."""
    # Imported here: Ibis takes a second to import, which every other command would pay.
    from veil.sealing.candidates import candidates_sql

    since = plan.since
    if since is None or since.records_mark is None:
        raise ValueError("a full sweep's plan has nothing to continue from")
    run = conn.exec_driver_sql
    clear_gathered(conn)
    found = candidates_sql(ruleset, plan.windows, dialect, mark=since.records_mark)
    # (`WHERE 1 = 1`: SQLite would read an ON CONFLICT right after FROM as a join's ON.)
    run(
        f"INSERT INTO {PERSONS} (person_id) SELECT person_id FROM ({found}) q WHERE 1 = 1"
        " ON CONFLICT (person_id) DO NOTHING"
    )
    run(
        f"INSERT INTO {PERSONS} (person_id) SELECT person_id FROM ({touched_since(since)}) t"
        " WHERE 1 = 1 ON CONFLICT (person_id) DO NOTHING"
    )
    persons = int(run(f"SELECT count(*) FROM {PERSONS}").scalar_one())
    report(1, 3)
    copy_gathered(conn)
    report(2, 3)
    run(decide_copied_sql(ruleset, run_id, as_of, dialect))

    def copied(condition: str) -> int:
        return int(run(f"SELECT count(*) FROM {RECORDS} WHERE {condition}").scalar_one())

    evaluated = known(since, as_of, copied)
    clear_gathered(conn)  # empty again
    report(3, 3)
    return Continued(persons, evaluated)


def clear_gathered(conn: Connection) -> None:
    """Empty the session's temporary tables PERSONS and RECORDS, making them if missing:
    the persons to decide and a copy of their records, for an incremental sweep and a large
    ingest alike (kept between uses, emptied before and after each)."""
    run = conn.exec_driver_sql
    run(f"CREATE TEMPORARY TABLE IF NOT EXISTS {PERSONS} (person_id INTEGER PRIMARY KEY)")
    run(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {RECORDS} AS"
        f" SELECT {', '.join(RECORDS_SCHEMA)} FROM records WHERE 1 = 0"
    )
    run(f"CREATE INDEX IF NOT EXISTS {RECORDS}_person ON {RECORDS} (person_id)")
    run(f"DELETE FROM {PERSONS}")
    run(f"DELETE FROM {RECORDS}")


def copy_gathered(conn: Connection, persons: tuple[int, int] | None = None) -> None:
    """Copy every record of the persons in PERSONS (those with ids in the closed range
    `persons`, if given) into RECORDS."""
    within = (
        ""
        if persons is None
        else f" WHERE person_id BETWEEN {int(persons[0])} AND {int(persons[1])}"
    )
    conn.exec_driver_sql(
        f"INSERT INTO {RECORDS} SELECT {', '.join(RECORDS_SCHEMA)} FROM records"
        f" WHERE person_id IN (SELECT person_id FROM {PERSONS}{within})"
    )


def decide_copied_sql(ruleset: RuleSet, run_id: int, as_of: dt.date, dialect: str) -> str:
    """SQL: append, as run `run_id`, the events of the records in RECORDS. The very query of
    the full sweep, reading the copy instead of `records`: its aggregates see all of each
    person's records, since the copy holds them all."""
    # Imported here: Ibis takes a second to import, which every other command would pay.
    from veil.sealing.compile import Tables, changes_sql

    query = changes_sql(ruleset, as_of, dialect, tables=Tables(records=RECORDS))
    selected = ", ".join(f"q.{c}" for c in QUERY_COLUMNS)
    return (
        f"INSERT INTO seal_events ({', '.join(EVENT_COLUMNS)})"
        f" SELECT {int(run_id)}, {selected} FROM ({query}) q"
    )


def touched_since(since: PastSweep) -> str:
    """SQL: the person of every record that a run after the sweep `since` wrote a state for
    (an ingest's decisions, made as of its own day), once per event."""
    return (
        "SELECT r.person_id FROM seal_events e JOIN records r ON r.id = e.record_pk"
        f" WHERE e.run_id > {int(since.id)}"
    )


def known(since: PastSweep, as_of: dt.date, count: Callable[[str], int]) -> int:
    """How many records are decided by `as_of`, from the last sweep's count and the copy;
    `count(condition)` counts the copy's records that meet an SQL condition.

    That sweep counted the records up to its mark decided by its date. Every record outside
    the copy is among them and is known now exactly when it was then (a record decided in
    between, or stored since, brings its person into the copy). So the count now is the
    count then, less the copy's records it counted, plus the copy's records known now.
    """
    # Dates as ISO text: compared so with SQLite's text dates, PostgreSQL's and DuckDB's
    # dates alike.
    then = count(
        f"id <= {int(since.records_mark or 0)} AND decision_date <= '{since.as_of.isoformat()}'"
    )
    now = count(f"decision_date <= '{as_of.isoformat()}'")
    return since.evaluated + now - then
