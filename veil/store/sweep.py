"""The batch sweep: the compiled rule packs run inside an engine, changes appended.

On the store's own engine (SQLite or PostgreSQL) the compiled query runs as
`INSERT INTO seal_events … SELECT`: over only the persons whose decisions can have changed
when the sweep can continue from the last one (`incremental.py`), else over every record,
one slice of record ids at a time so that progress can be shown. On DuckDB it runs over a
Parquet export of all the facts (`duckdb_sweep.py`), over the same persons when it can
continue, and the changes come back to the store. Either way only the records whose state
or rule changes get an event, and the events are the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, func, select

from veil.sealing.facts import EVENT_COLUMNS, QUERY_COLUMNS
from veil.sealing.pack import RuleSet
from veil.store.database import transaction
from veil.store.dialect import dialect_of
from veil.store.incremental import plan_sweep, sweep_candidates
from veil.store.schema import records
from veil.store.seals import count_known, finish_run, last_record_id, start_run

ENGINES = ("sqlite", "postgresql", "duckdb")
IBIS_DIALECT = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb"}
# Records per statement on the store's engine: small enough for a live progress bar,
# large enough that the per-statement cost disappears.
SLICE = 250_000
_STAND_IN = (-7_340_001_231, -7_340_001_232)

Progress = Callable[[int, int], None]  # (records done, records in all)


@dataclass(frozen=True)
class SweepResult:
    run_id: int
    as_of: dt.date
    engine: str
    evaluated: int
    changes: dict[str, int]
    # Continued from the last sweep (as of `since`), deciding again only `persons`
    # persons' records; or full, and why.
    incremental: bool = False
    since: dt.date | None = None
    persons: int | None = None
    full_because: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "evaluated": self.evaluated,
            "changes": self.changes,
            "incremental": self.incremental,
        }


class EngineError(ValueError):
    """An engine that cannot sweep this store."""


def sweep(
    conn: Connection,
    ruleset: RuleSet,
    as_of: dt.date,
    *,
    engine: str | None = None,
    workdir: Path | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> SweepResult:
    """Bring every record decided by `as_of` to its decision, appending an event for each
    change: on the store's engine incrementally when that is safe, unless `full`."""
    store_engine = conn.dialect.name
    engine = engine or store_engine
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine != "duckdb" and engine != store_engine:
        raise EngineError(
            f"the store is {store_engine}: --engine {engine} needs a {engine} store"
            " (set VEIL_DATABASE_URL), or use --engine duckdb"
        )
    report = progress or (lambda done, total: None)
    with transaction(conn):
        dialect_of(conn).keep_record_writers_out(conn)
        run = start_run(
            conn,
            trigger="sweep",
            engine=engine,
            as_of=as_of,
            packs=ruleset.label,
            rules_digest=ruleset.digest,
        )
        # Read after the run is started: by then no one else can store records (see
        # keep_record_writers_out), so every record up to the mark is the sweep's to see.
        mark = last_record_id(conn)
        plan = plan_sweep(conn, ruleset, as_of, run.id, full=full)
        if engine == "duckdb":
            from veil.store.duckdb_sweep import sweep_on_duckdb

            if workdir is None:
                raise EngineError("the duckdb engine needs a working directory")
            continued = sweep_on_duckdb(conn, ruleset, run, workdir, report, plan)
        else:
            continued = None
            dialect = IBIS_DIALECT[engine]
            if plan.since is None:
                _sweep_in_store(conn, ruleset, run.id, as_of, dialect, report)
            else:
                continued = sweep_candidates(conn, ruleset, run.id, as_of, dialect, plan, report)
        evaluated = continued.evaluated if continued else count_known(conn, as_of)
        changes = finish_run(conn, run, evaluated=evaluated, records_mark=mark)
    return SweepResult(
        run.id,
        as_of,
        engine,
        evaluated,
        changes,
        incremental=plan.since is not None,
        since=plan.since.as_of if plan.since else None,
        persons=continued.persons if continued else None,
        full_because=plan.full_because,
    )


def _sweep_in_store(
    conn: Connection, ruleset: RuleSet, run_id: int, as_of: dt.date, dialect: str, report: Progress
) -> None:
    # Imported here: Ibis takes a second to import, which every other command would pay.
    from veil.sealing.compile import changes_sql

    low, high = conn.execute(select(func.min(records.c.id), func.max(records.c.id))).one()
    if low is None:
        return
    total = high - low + 1
    columns = ", ".join(EVENT_COLUMNS)
    selected = ", ".join(f"q.{c}" for c in QUERY_COLUMNS)
    # Compiled once, with stand-in bounds that each slice replaces: Ibis takes a fifth of
    # a second to compile the query, as long as a slice of a re-sweep takes to run.
    template = changes_sql(ruleset, as_of, dialect, records=_STAND_IN)
    bounds = [str(b) for b in _STAND_IN]
    if template.count(bounds[0]) == 0 or template.count(bounds[0]) != template.count(bounds[1]):
        raise RuntimeError("the compiled sweep does not carry its slice bounds")
    for start in range(low, high + 1, SLICE):
        span = (start, min(start + SLICE - 1, high))
        query = template.replace(bounds[0], str(span[0])).replace(bounds[1], str(span[1]))
        conn.exec_driver_sql(
            f"INSERT INTO seal_events ({columns}) SELECT {int(run_id)}, {selected} FROM ({query}) q"
        )
        report(span[1] - low + 1, total)
