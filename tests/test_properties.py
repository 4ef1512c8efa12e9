"""Properties of ingest on generated rows, on SQLite and PostgreSQL.

Each example runs in its own savepoint, rolled back afterwards, so examples do not see one
another (which is why the function-scoped connection fixture is safe here).
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from veil.ingest.readback import read_record
from veil.keys import KeyProvider
from veil.synth.corrupt import CORRUPTIONS, corrupt

from .ingest_helpers import ingest
from .strategies import valid_rows

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(row=valid_rows())
def test_any_valid_row_round_trips_exactly(
    conn: Connection, keys: KeyProvider, row: dict[str, str]
) -> None:
    savepoint = conn.begin_nested()
    try:
        report = ingest(conn, keys, [row])
        assert (report.accepted, report.rejected) == (1, 0), report.rejections
        stored = read_record(conn, keys, row["source"], row["record_id"])
        assert stored is not None
        assert stored.as_row() == row
    finally:
        savepoint.rollback()


@SETTINGS
@given(
    rows=st.lists(
        valid_rows(source="110105-PSB"), min_size=2, max_size=6, unique_by=lambda r: r["record_id"]
    ),
    corruption=st.sampled_from(CORRUPTIONS),
    position=st.integers(min_value=0),
    seed=st.integers(0, 1000),
)
def test_a_corrupted_row_is_rejected_and_nothing_else_changes(
    conn: Connection,
    keys: KeyProvider,
    rows: list[dict[str, str]],
    corruption: str,
    position: int,
    seed: int,
) -> None:
    victim = position % len(rows)
    previous = rows[victim - 1] if victim else None
    broken = corrupt(corruption, rows[victim], previous, random.Random(seed))
    batch = [*rows[:victim], broken, *rows[victim + 1 :]]
    savepoint = conn.begin_nested()
    try:
        report = ingest(conn, keys, batch)
        assert report.rejected == 1
        (rejection,) = report.rejections
        assert rejection.line == victim + 2
        assert rejection.reason
        assert report.accepted == len(rows) - 1
        for i, row in enumerate(rows):
            stored = read_record(conn, keys, row["source"], row["record_id"])
            if i == victim:
                # A duplicate-key corruption leaves the earlier row's record in place.
                assert stored is None or stored.as_row() == rows[victim - 1]
            else:
                assert stored is not None and stored.as_row() == row
    finally:
        savepoint.rollback()
