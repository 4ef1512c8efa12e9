"""The sweep on DuckDB: the store's facts exported to Parquet, the same compiled query run
over it, and the changes appended to the store's history.

When the sweep can continue from the last one (`incremental.py`), DuckDB finds the
candidate persons in one pass over the export (with those the store says something else
decided since), copies all their records, and runs the compiled query over the copy only,
as the store's own engines do.

The export holds pseudonymous person ids and clear facts only (no identity columns), the
same columns the rules read in the store. It is written under the working directory and
removed when the sweep ends. Each row group of the records' file holds records of one kind
(`write_parquet`): the candidates of the shipped rule packs and the records their person
facts read are all crimes, and DuckDB skips a row group whose statistics name no crime.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection

from veil.sealing.compile import Tables, changes_sql, constant_facts, outcomes
from veil.sealing.facts import RECORDS_SCHEMA, STATES_SCHEMA
from veil.sealing.pack import RuleSet
from veil.store.incremental import PERSONS, RECORDS, Continued, Plan, known, touched_since
from veil.store.seals import Run, append_events

EXPORT_BATCH = 200_000
EXPORT = Tables()  # the views `open_export` makes
GROUPED_BY = "kind"  # each row group of the exported records holds one kind
_ARROW = {"int64": pa.int64(), "string": pa.string(), "date": pa.date32()}


def arrow_schema(schema: dict[str, str]) -> pa.Schema:
    return pa.schema([(name, _ARROW[kind]) for name, kind in schema.items()])


def export_facts(conn: Connection, directory: Path) -> Tables:
    """Write the records' facts and the current states as Parquet; where they are."""
    directory.mkdir(parents=True, exist_ok=True)
    records = directory / "records.parquet"
    states = directory / "seal_states.parquet"
    sql = f"SELECT {', '.join(RECORDS_SCHEMA)} FROM records"
    write_parquet(
        records, arrow_schema(RECORDS_SCHEMA), _tables(conn, sql, RECORDS_SCHEMA), GROUPED_BY
    )
    sql = f"SELECT {', '.join(STATES_SCHEMA)} FROM seal_states"
    write_parquet(states, arrow_schema(STATES_SCHEMA), _tables(conn, sql, STATES_SCHEMA))
    return Tables(records=str(records), states=str(states))


def _tables(conn: Connection, sql: str, schema: dict[str, str]) -> Iterator[pa.Table]:
    """The rows of `sql` as Arrow tables of EXPORT_BATCH rows (the last fewer)."""
    target = arrow_schema(schema)
    result = conn.exec_driver_sql(sql).yield_per(EXPORT_BATCH)
    for rows in result.partitions(EXPORT_BATCH):
        columns = list(zip(*rows, strict=True))
        arrays = []
        for values, field in zip(columns, target, strict=True):
            if pa.types.is_date32(field.type):
                # SQLite hands dates back as ISO text; PostgreSQL as dates.
                arrays.append(pc.cast(pa.array(values), pa.date32()))
            else:
                arrays.append(pa.array(values, field.type))
        yield pa.Table.from_arrays(arrays, schema=target)


def write_parquet(
    path: Path,
    schema: pa.Schema,
    tables: Iterable[pa.Table],
    group_by: str | None = None,
    rows: int = EXPORT_BATCH,
) -> None:
    """Write `tables` to one Parquet file in row groups of `rows` rows; with `group_by`,
    each row group holds one value of that column (see `_grouped`).

    Uncompressed: the file lives for one sweep, which reads it up to three times, and most
    of its columns are dictionary-encoded already; Snappy saved 28% of the disk and cost the
    first sweep on 10 M records 8-12% of its time, the export no time that could be measured
    (docs/performance.md, 2026-12-04).
    """
    groups = tables if group_by is None else _grouped(tables, group_by, rows)
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        for table in groups:
            writer.write_table(table, row_group_size=rows)


def _grouped(tables: Iterable[pa.Table], column: str, rows: int) -> Iterator[pa.Table]:
    """The rows of `tables` again, as tables of `rows` rows that each hold one value of
    `column` (the last of each value fewer), every row exactly once.

    Memory stays bounded: at most one unfinished group per distinct value is held (the
    records' kinds are a handful). On 10 M records the first sweep took 1.65 s over row
    groups of mixed kinds and 1.21 s over these, its floor unchanged (benchmarks/sweep.py,
    docs/performance.md, 2026-12-04).
    """
    held: dict[object, list[pa.Table]] = {}
    for table in tables:
        values = table[column]
        for value in pc.unique(values).to_pylist():
            mask = pc.is_null(values) if value is None else pc.equal(values, value)
            parts = held.setdefault(value, [])
            parts.append(table.filter(mask))
            if sum(part.num_rows for part in parts) < rows:
                continue
            whole = pa.concat_tables(parts)
            full = whole.num_rows - whole.num_rows % rows
            for start in range(0, full, rows):
                yield whole.slice(start, rows)
            held[value] = [whole.slice(full)]
    for parts in held.values():
        rest = pa.concat_tables(parts)
        if rest.num_rows:
            yield rest


def open_export(tables: Tables) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose `records` and `seal_states` are the exported files."""
    duck = duckdb.connect()
    for name, path in (("records", tables.records), ("seal_states", tables.states)):
        quoted = path.replace("'", "''")
        duck.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{quoted}')")
    return duck


def changes(
    duck: duckdb.DuckDBPyConnection, ruleset: RuleSet, as_of: dt.date, source: Tables = EXPORT
) -> Iterator[pa.RecordBatch]:
    """The compiled sweep over `source`: the compact events (record_pk, rule_index, facts)
    to append; `changed` reads them. State, rule and citation follow from the rule index."""
    sql = changes_sql(ruleset, as_of, "duckdb", tables=source, compact=True)
    yield from duck.sql(sql).to_arrow_reader(EXPORT_BATCH)


def run_changes(ruleset: RuleSet, run: Run, tables: Tables) -> Iterator[pa.RecordBatch]:
    """A full sweep on DuckDB over the Parquet files `tables`: its compact events."""
    duck = open_export(tables)
    try:
        yield from changes(duck, ruleset, run.as_of)
    finally:
        duck.close()


def copy_candidates(
    duck: duckdb.DuckDBPyConnection,
    ruleset: RuleSet,
    plan: Plan,
    as_of: dt.date,
    touched: Sequence[int],
) -> Continued:
    """Copy every record of every candidate person (`candidates.py`, and the `touched`
    persons) into the table RECORDS, for `changes` to read instead of `records`; the
    persons, and the records known as of `as_of` (`incremental.known`)."""
    since = plan.since
    if since is None or since.records_mark is None:
        raise ValueError("a full sweep's plan has nothing to continue from")
    # Imported here: Ibis takes a second to import, which every other command would pay.
    from veil.sealing.candidates import candidates_sql

    found = candidates_sql(ruleset, plan.windows, "duckdb", mark=since.records_mark)
    duck.register("veil_touched", pa.table({"person_id": pa.array(touched, pa.int64())}))
    duck.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {PERSONS} AS SELECT person_id FROM ({found}) q"
        " UNION SELECT person_id FROM veil_touched"
    )
    duck.unregister("veil_touched")
    duck.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {RECORDS} AS SELECT * FROM records"
        f" WHERE person_id IN (SELECT person_id FROM {PERSONS})"
    )

    def count(sql: str) -> int:
        # fetchall, not fetchone: DuckDB refuses more work while a result is unfinished.
        return int(duck.execute(sql).fetchall()[0][0])

    def copied(condition: str) -> int:
        return count(f"SELECT count(*) FROM {RECORDS} WHERE {condition}")

    return Continued(count(f"SELECT count(*) FROM {PERSONS}"), known(since, as_of, copied))


def sweep_on_duckdb(
    conn: Connection,
    ruleset: RuleSet,
    run: Run,
    workdir: Path,
    report: Callable[[int, int], None],
    plan: Plan,
) -> Continued | None:
    """Export, sweep on DuckDB (continuing from `plan.since` if set) and append the events;
    what an incremental sweep did, or None for a full one."""
    directory = workdir / f"sweep-{run.id}"
    try:
        duck = open_export(export_facts(conn, directory))
        try:
            report(1, 3)
            continued, source = None, EXPORT
            if plan.since is not None:
                distinct = f"SELECT DISTINCT person_id FROM ({touched_since(plan.since)}) t"
                touched = [row[0] for row in conn.exec_driver_sql(distinct)]
                continued = copy_candidates(duck, ruleset, plan, run.as_of, touched)
                source = Tables(records=RECORDS)
            report(2, 3)
            for batch in changes(duck, ruleset, run.as_of, source):
                append_events(conn, _event_rows(batch, ruleset, run))
        finally:
            duck.close()
        report(3, 3)
        return continued
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def changed(
    batch: pa.RecordBatch, ruleset: RuleSet, as_of: dt.date
) -> Iterator[tuple[int, str, str | None, str]]:
    """(record_pk, state, rule_id, facts) of each compact event in `batch`, a sweep's as of
    `as_of`."""
    decided = outcomes(ruleset)
    constant = constant_facts(ruleset, as_of)
    names = ("record_pk", "rule_index", "facts")
    for pk, index, facts in zip(*(batch.column(name).to_pylist() for name in names), strict=True):
        yield (pk, *decided[index], constant[index] if facts is None else facts)


def _event_rows(batch: pa.RecordBatch, ruleset: RuleSet, run: Run) -> Iterator[tuple[Any, ...]]:
    """Rows of EVENT_COLUMNS: run id and citation added, the date as the store's text."""
    as_of = run.as_of.isoformat()
    for pk, state, rule_id, facts in changed(batch, ruleset, run.as_of):
        statute, article = ruleset.citation(rule_id)
        yield (run.id, pk, state, rule_id, statute, article, as_of, facts)
