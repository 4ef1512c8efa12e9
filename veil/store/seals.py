"""Seal history in the store: runs, the append-only event log, and current states.

Events are only ever inserted. `seal_states` follows the latest event of each record and
is written from the events themselves (`apply_run`), never on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from veil.sealing.evaluate import Evaluator
from veil.sealing.facts import EVENT_COLUMNS, FACT_FIELDS, RecordFacts
from veil.store.dialect import dialect_of
from veil.store.records import LOOKUP_CHUNK, padded
from veil.store.schema import records, seal_events, seal_runs

COUNT_SLICE = 250_000  # events counted per statement when a run finishes
_FACT_COLUMNS = [records.c.id, *[records.c[name] for name in FACT_FIELDS[1:]]]


@dataclass(frozen=True)
class Run:
    id: int
    as_of: dt.date


@dataclass(frozen=True)
class PastSweep:
    """A finished sweep, as a later sweep may continue from it."""

    id: int
    as_of: dt.date
    rules_digest: str | None
    records_mark: int | None
    evaluated: int  # records up to the mark decided by `as_of`


def start_run(
    conn: Connection,
    *,
    trigger: str,
    engine: str,
    as_of: dt.date,
    packs: str,
    rules_digest: str | None = None,
) -> Run:
    run_id = conn.execute(
        insert(seal_runs)
        .values(
            trigger=trigger,
            engine=engine,
            as_of=as_of,
            packs=packs,
            rules_digest=rules_digest,
            started_at=dt.datetime.now(dt.UTC),
            evaluated=0,
            changed=0,
        )
        .returning(seal_runs.c.id)
    ).scalar_one()
    return Run(run_id, as_of)


def last_sweep(conn: Connection, before_run: int) -> PastSweep | None:
    """The latest finished sweep among the runs before `before_run`."""
    columns = ("id", "as_of", "rules_digest", "records_mark", "evaluated")
    row = conn.execute(
        select(*[seal_runs.c[name] for name in columns])
        .where(
            seal_runs.c.trigger == "sweep",
            seal_runs.c.finished_at.is_not(None),
            seal_runs.c.id < before_run,
        )
        .order_by(seal_runs.c.id.desc())
        .limit(1)
    ).first()
    return PastSweep(*row) if row is not None else None


def last_record_id(conn: Connection) -> int:
    """The highest record id stored (0 for none): a sweep's mark of what it could see."""
    return int(conn.execute(select(func.coalesce(func.max(records.c.id), 0))).scalar_one())


def finish_run(
    conn: Connection, run: Run, *, evaluated: int, records_mark: int | None = None
) -> dict[str, int]:
    """Move the run's events into the current states; the number of changes per rule.

    A sweep gives `records_mark`, the highest record id it could see (see PastSweep)."""
    dialect_of(conn).upsert_states_from_run(conn, run.id)
    changes: dict[str, int] = {}
    of_run = seal_events.c.run_id == run.id
    low = conn.execute(select(func.min(seal_events.c.id)).where(of_run)).scalar_one()
    high = conn.execute(select(func.max(seal_events.c.id)).where(of_run)).scalar_one()
    # Counted a slice of event ids at a time: SQLite sorts to group, and a sort of a whole
    # first sweep's or large ingest's events held up to 64 MiB (the page cache's size).
    for start in range(low or 0, (high or -1) + 1, COUNT_SLICE):
        rows = conn.execute(
            select(seal_events.c.rule_id, seal_events.c.state, func.count())
            .where(of_run, seal_events.c.id.between(start, start + COUNT_SLICE - 1))
            .group_by(seal_events.c.rule_id, seal_events.c.state)
        )
        for rule_id, state, count in rows:
            # A change to `open` has no rule: it is counted under the state's name.
            key = rule_id or state
            changes[key] = changes.get(key, 0) + count
    conn.execute(
        update(seal_runs)
        .where(seal_runs.c.id == run.id)
        .values(
            finished_at=dt.datetime.now(dt.UTC),
            evaluated=evaluated,
            changed=sum(changes.values()),
            records_mark=records_mark,
        )
    )
    return dict(sorted(changes.items()))


def append_events(conn: Connection, events: Iterable[Sequence[Any]]) -> None:
    """Insert events given as rows of EVENT_COLUMNS."""
    sql = dialect_of(conn).insert_sql("seal_events", EVENT_COLUMNS)
    batch: list[Sequence[Any]] = []
    for event in events:
        batch.append(event)
        if len(batch) >= 10_000:
            conn.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)


def current_states(
    conn: Connection, record_pks: Sequence[int]
) -> dict[int, tuple[str, str | None]]:
    """The current (state, rule id) of each of these records that has one."""
    dialect = dialect_of(conn)
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(record_pks), LOOKUP_CHUNK):
        part = padded(record_pks[start : start + LOOKUP_CHUNK], -1)
        rows = conn.exec_driver_sql(dialect.current_states_sql(len(part)), tuple(part))
        found.update({pk: (state, rule) for pk, state, rule in rows})
    return found


def facts_of_persons(
    conn: Connection, person_ids: Sequence[int]
) -> Iterator[list[list[RecordFacts]]]:
    """The records of these persons: groups of persons, each a list of their records."""
    ordered = sorted(set(person_ids))
    dialect = dialect_of(conn)
    dates = [FACT_FIELDS.index(c) for c in ("offence_date", "decision_date", "completion_date")]
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        # Driver-level SQL, padded to a few statement sizes (see RecordStore): this runs
        # for every person an ingest touches.
        part = padded(ordered[start : start + LOOKUP_CHUNK], -1)
        rows = conn.exec_driver_sql(dialect.facts_of_persons_sql(len(part)), tuple(part))
        group: list[list[RecordFacts]] = []
        for row in rows:
            values = list(row)
            for i in dates:
                if isinstance(values[i], str):  # SQLite keeps dates as ISO text
                    values[i] = dt.date.fromisoformat(values[i])
            facts = RecordFacts(*values)
            if not group or group[-1][0].person_id != facts.person_id:
                group.append([])
            group[-1].append(facts)
        yield group


def facts_of_record(conn: Connection, source: str, record_id: str) -> RecordFacts | None:
    row = conn.execute(
        select(*_FACT_COLUMNS).where(records.c.source == source, records.c.record_id == record_id)
    ).first()
    return RecordFacts(*row) if row else None


def history(conn: Connection, record_pk: int) -> list[dict[str, Any]]:
    """Every event of one record, oldest first."""
    rows = conn.execute(
        select(
            seal_events.c.id,
            seal_events.c.state,
            seal_events.c.rule_id,
            seal_events.c.statute,
            seal_events.c.article,
            seal_events.c.as_of,
            seal_events.c.facts,
            seal_runs.c.trigger,
            seal_runs.c.started_at,
        )
        .join(seal_runs, seal_runs.c.id == seal_events.c.run_id)
        .where(seal_events.c.record_pk == record_pk)
        .order_by(seal_events.c.id)
    )
    return [dict(row._mapping) for row in rows]


def count_known(conn: Connection, as_of: dt.date) -> int:
    """How many records a sweep as of `as_of` evaluates: those decided by then."""
    query = select(func.count()).where(records.c.decision_date <= as_of)
    return int(conn.execute(query).scalar_one())


def decide_persons(
    conn: Connection, evaluator: Evaluator, pages: Iterable[Sequence[int]], run: Run
) -> int:
    """Decide every record of these persons (pages of person ids) with the row evaluator;
    append the changes. Returns how many records were evaluated.
    """
    evaluated = 0
    groups = (group for page in pages for group in facts_of_persons(conn, page))
    for group in groups:
        decisions = {}
        for person in group:
            decisions.update(evaluator.evaluate_person(person, run.as_of))
        evaluated += len(decisions)
        current = current_states(conn, list(decisions))
        events = []
        for pk, decision in decisions.items():
            if current.get(pk) == (decision.state, decision.rule_id):
                continue
            statute, article = evaluator.ruleset.citation(decision.rule_id)
            events.append(
                (
                    run.id,
                    pk,
                    decision.state,
                    decision.rule_id,
                    statute,
                    article,
                    run.as_of.isoformat(),
                    decision.facts,
                )
            )
        append_events(conn, events)
    return evaluated


def events_digest(conn: Connection, run_id: int) -> tuple[int, str]:
    """(number of events, SHA-256 hex) of one run's events, for the audit ledger.

    Each event as one line: id, record, state, rule, as-of date and facts, joined by the
    unit separator, in id order. The ledger entry of the run carries the digest, so that
    rewriting a run's history afterwards is found by `veil audit verify --seals`.
    """
    digest = hashlib.sha256()
    count = 0
    mark = dialect_of(conn).placeholder
    sql = (
        "SELECT id, record_pk, state, rule_id, as_of, facts FROM seal_events"  # noqa: S608
        f" WHERE run_id = {mark} ORDER BY id"  # the placeholder; the value is bound
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, (run_id,))
        while rows := cursor.fetchmany(10_000):
            for event_id, record_pk, state, rule_id, as_of, facts in rows:
                line = "\x1f".join(
                    (str(event_id), str(record_pk), state, rule_id or "", str(as_of), facts)
                )
                digest.update(line.encode() + b"\n")
            count += len(rows)
    finally:
        cursor.close()
    return count, digest.hexdigest()
