"""The sweep on DuckDB: the store's facts exported to Parquet, the same compiled query run
over it, and the changes appended to the store's history.

The export holds pseudonymous person ids and clear facts only (no identity columns), the
same columns the rules read in the store. It is written under the working directory and
removed when the sweep ends.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection

from veil.sealing.compile import Tables, changes_sql, outcomes
from veil.sealing.facts import RECORDS_SCHEMA, STATES_SCHEMA
from veil.sealing.pack import RuleSet
from veil.store.seals import Run, append_events

EXPORT_BATCH = 200_000
_ARROW = {"int64": pa.int64(), "string": pa.string(), "date": pa.date32()}


def arrow_schema(schema: dict[str, str]) -> pa.Schema:
    return pa.schema([(name, _ARROW[kind]) for name, kind in schema.items()])


def export_facts(conn: Connection, directory: Path) -> Tables:
    """Write the records' facts and the current states as Parquet; where they are."""
    directory.mkdir(parents=True, exist_ok=True)
    records = directory / "records.parquet"
    states = directory / "seal_states.parquet"
    _export(conn, f"SELECT {', '.join(RECORDS_SCHEMA)} FROM records", RECORDS_SCHEMA, records)
    _export(conn, f"SELECT {', '.join(STATES_SCHEMA)} FROM seal_states", STATES_SCHEMA, states)
    return Tables(records=str(records), states=str(states))


def _export(conn: Connection, sql: str, schema: dict[str, str], path: Path) -> None:
    target = arrow_schema(schema)
    result = conn.exec_driver_sql(sql).yield_per(EXPORT_BATCH)
    with pq.ParquetWriter(path, target) as writer:
        for rows in result.partitions(EXPORT_BATCH):
            columns = list(zip(*rows, strict=True))
            arrays = []
            for values, field in zip(columns, target, strict=True):
                if pa.types.is_date32(field.type):
                    # SQLite hands dates back as ISO text; PostgreSQL as dates.
                    arrays.append(pc.cast(pa.array(values), pa.date32()))
                else:
                    arrays.append(pa.array(values, field.type))
            writer.write_table(pa.Table.from_arrays(arrays, schema=target))


def run_changes(ruleset: RuleSet, run: Run, tables: Tables) -> Iterator[pa.RecordBatch]:
    """The compiled sweep on DuckDB over Parquet files: the compact events (record_pk,
    rule_index, facts) to append; `changed` reads them."""
    duck = duckdb.connect()
    try:
        for name, path in (("records", tables.records), ("seal_states", tables.states)):
            quoted = path.replace("'", "''")
            duck.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{quoted}')")
        # State, rule and citation follow from the rule index: added per event here.
        sql = changes_sql(ruleset, run.as_of, "duckdb", compact=True)
        yield from duck.sql(sql).to_arrow_reader(EXPORT_BATCH)
    finally:
        duck.close()


def sweep_on_duckdb(
    conn: Connection,
    ruleset: RuleSet,
    run: Run,
    workdir: Path,
    report: Callable[[int, int], None],
) -> None:
    directory = workdir / f"sweep-{run.id}"
    try:
        tables = export_facts(conn, directory)
        report(1, 3)
        as_of = run.as_of.isoformat()
        for batch in run_changes(ruleset, run, tables):
            append_events(conn, _event_rows(batch, ruleset, run.id, as_of))
        report(3, 3)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def changed(batch: pa.RecordBatch, ruleset: RuleSet) -> Iterator[tuple[int, str, str | None, str]]:
    """(record_pk, state, rule_id, facts) of each compact event in `batch`."""
    decided = outcomes(ruleset)
    names = ("record_pk", "rule_index", "facts")
    for pk, index, facts in zip(*(batch.column(name).to_pylist() for name in names), strict=True):
        yield (pk, *decided[index], facts)


def _event_rows(
    batch: pa.RecordBatch, ruleset: RuleSet, run_id: int, as_of: str
) -> Iterator[tuple[Any, ...]]:
    """Rows of EVENT_COLUMNS: run id and citation added, the date as the store's text."""
    for pk, state, rule_id, facts in changed(batch, ruleset):
        statute, article = ruleset.citation(rule_id)
        yield (run_id, pk, state, rule_id, statute, article, as_of, facts)
