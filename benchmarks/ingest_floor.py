"""Ingest's SQLite floor: the rows `veil ingest` writes, inserted by SQLite alone.

Run with `.venv/bin/python benchmarks/ingest_floor.py` (`--records N`, `--template M`). It
ingests a synthetic file of M records with `veil ingest` (benchmarks/ingest.py's home), then
writes N records' worth of exactly those rows (persons, records, seal events, seal states;
record ids made unique by a suffix, fresh random blind indexes) into a new database whose
tables and indexes are the veil home's own (their DDL read from it), with the engine's
pragmas and ingest's multi-row INSERT size, in one transaction as ingest does. Only the
SQLite calls are timed, no validation, cryptography, matching or decisions, against the
baseline of benchmarks/ingest.py (plain `executemany` of the CSV's rows into one unindexed
table) measured in the same run. What it answers: how much of ingest's time budget the
store's writes alone take.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from ingest import ROOT, run_baseline, run_veil, synthesise

from veil.store.records import INSERT_PARAMETERS

TABLES = ("persons", "records", "seal_events", "seal_states")
PARENTS = ("ingest_batches", "seal_runs")  # rows the written rows refer to
CHUNK = 50_000  # rows per chunk, as ingest's readers hand them over (records sorted by key)
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536")


class Floor:
    def __init__(self, path: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in PRAGMAS:  # veil.store.database's, for every connection
            self.conn.execute(f"PRAGMA {pragma}")
        self.spent: dict[str, float] = {}

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """As RecordStore._insert: many rows to a statement, the rest one to a statement."""
        per = max(1, INSERT_PARAMETERS // len(columns))
        whole = len(rows) - len(rows) % per
        marks = "(" + ", ".join("?" * len(columns)) + ")"
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        flattened = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)]
        started = time.perf_counter()  # the statements alone: their parameters are ready
        if whole:
            self.conn.executemany(head + ", ".join([marks] * per), flattened)
        if whole < len(rows):
            self.conn.executemany(head + marks, rows[whole:])
        self.spent[table] = self.spent.get(table, 0.0) + time.perf_counter() - started

    def timed(self, name: str, sql: str) -> None:
        started = time.perf_counter()
        self.conn.execute(sql)
        self.spent[name] = time.perf_counter() - started


def columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--template", type=int, default=200_000, help="records ingested first")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-data")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    base_s, _, base_n = run_baseline(synthesise(args.records, args.workdir), args.workdir)
    run_veil(synthesise(args.template, args.workdir), args.workdir)
    home = sqlite3.connect(args.workdir / "home" / "veil.db")
    schema = [
        sql
        for (sql,) in home.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name IN"
            f" ({', '.join('?' * len(TABLES + PARENTS))}) AND sql IS NOT NULL"
            " ORDER BY type = 'index', rowid",
            TABLES + PARENTS,
        )
    ]
    cols = {table: columns_of(home, table) for table in TABLES + PARENTS}
    rows = {table: home.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in cols}
    floor = Floor(args.workdir / "floor.db")
    for sql in schema:
        floor.conn.execute(sql)
    for table in PARENTS:
        floor.conn.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols[table]))})",
            rows[table],
        )

    persons, records = rows["persons"], rows["records"]
    rounds = -(-base_n // len(records))
    blind = cols["persons"].index("blind_index")
    pid, rid, source = (cols["records"].index(c) for c in ("person_id", "record_id", "source"))
    event_record = cols["seal_events"].index("record_pk")
    state_record, state_event = (cols["seal_states"].index(c) for c in ("record_pk", "event_id"))
    written = 0
    floor.conn.execute("BEGIN")
    for r in range(rounds):
        offset_p, offset_r = r * len(persons), r * len(records)
        offset_e = r * len(rows["seal_events"])
        people = [
            (row[0] + offset_p, *row[1:blind], os.urandom(32), *row[blind + 1 :]) for row in persons
        ]
        for start in range(0, len(people), CHUNK):  # ingest inserts a chunk's new persons
            chunk = sorted(people[start : start + CHUNK], key=lambda p: p[blind])
            floor.insert("persons", cols["persons"], chunk)
        shifted = []
        for row in records:
            values = list(row)
            values[0] += offset_r
            values[pid] += offset_p
            values[rid] = f"{values[rid]}~{r}"
            shifted.append(tuple(values))
        for start in range(0, len(shifted), CHUNK):
            chunk = sorted(shifted[start : start + CHUNK], key=lambda x: (x[source], x[rid]))
            floor.insert("records", cols["records"], chunk)
        events = []
        for row in rows["seal_events"]:
            values = list(row)
            values[0] += offset_e
            values[event_record] += offset_r
            events.append(tuple(values))
        floor.insert("seal_events", cols["seal_events"], events)
        states = []
        for row in rows["seal_states"]:
            values = list(row)
            values[state_record] += offset_r
            values[state_event] += offset_e
            states.append(tuple(values))
        floor.insert("seal_states", cols["seal_states"], states)
        written += len(records)
    floor.timed("commit", "COMMIT")
    floor.timed("checkpoint", "PRAGMA wal_checkpoint(TRUNCATE)")

    total = sum(floor.spent.values())
    print()
    print(f"records written                  {written:>12,}  ({rounds} x {len(records):,})")
    print(f"baseline executemany of the CSV  {base_s:>9.1f} s  ({base_n:,} rows)")
    for name, seconds in floor.spent.items():
        print(f"  SQLite: {name:<23} {seconds:>9.1f} s  {seconds / base_s:>5.2f} x baseline")
    print(f"SQLite alone, all of it          {total:>9.1f} s  {total / base_s:>5.2f} x baseline")
    print(f"ingest's budget at <= 4x         {4 * base_s:>9.1f} s")
    print(f"ingest's budget at 50,000/s      {written / 50_000:>9.1f} s")


if __name__ == "__main__":
    main()
