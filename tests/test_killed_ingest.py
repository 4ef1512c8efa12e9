"""SPEC section 2: a crash mid-ingest leaves the store exactly as before the batch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .cli_helpers import VEIL, veil, veil_json


def snapshot(db: Path) -> tuple[object, ...]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        counts = tuple(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("records", "persons", "seal_runs", "seal_events", "seal_states")
        )
        batches = conn.execute("SELECT id, accepted FROM ingest_batches ORDER BY id").fetchall()
    return (*counts, batches)


@pytest.mark.slow
def test_killing_a_real_ingest_process_leaves_the_store_as_before(
    veil_home: Path, tmp_path: Path
) -> None:
    first, big = tmp_path / "first.csv", tmp_path / "big.csv"
    veil("init", check=True)
    veil("synth", "--persons", "20000", "--seed", "1", "--out", str(first), check=True)
    veil("synth", "--persons", "3000000", "--seed", "2", "--out", str(big), check=True)
    veil_json("ingest", str(first))
    db = veil_home / "veil.db"
    before = snapshot(db)

    process = subprocess.Popen(
        [VEIL, "ingest", str(big), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    wal = veil_home / "veil.db-wal"
    deadline = time.monotonic() + 120
    # Wait until the batch has written a good part of its rows, then kill it without warning.
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 8_000_000):
        assert process.poll() is None, "ingest finished before it could be killed"
        time.sleep(0.05)
    assert wal.stat().st_size >= 8_000_000
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert snapshot(db) == before
    report = veil_json("ingest", str(big))
    assert report["rejected"] == 0 and report["accepted"] > 50_000
