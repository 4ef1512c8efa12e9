"""SPEC section 6: every seal change is in the ledger. Each seal run's entry carries the
count and SHA-256 of its events; `veil audit verify --seals` finds a rewritten history."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from .cli_helpers import veil, veil_json
from .factories import good_row
from .test_cli import write_csv


def ledger_entries(home: Path) -> list[dict[str, object]]:
    with sqlite3.connect(home / "veil.db") as conn:
        return [
            json.loads(row[0])
            for row in conn.execute("SELECT entry FROM audit_entries ORDER BY idx")
        ]


@pytest.fixture
def swept(veil_home: Path, tmp_path: Path) -> Path:
    veil("init", check=True)
    # PSAPL (2025) art. 136: an administrative violation is sealed the day it is stored.
    rows = [good_row(record_id="A-1"), good_row(record_id="A-2", offence_code="PSAPL-49-THEFT")]
    veil_json("ingest", str(write_csv(tmp_path / "rows.csv", rows)))
    veil_json("seal", "sweep")
    return veil_home


def test_ingest_and_sweep_record_their_seal_runs(swept: Path) -> None:
    runs = [e for e in ledger_entries(swept) if "seal_run" in e]
    assert [e["action"] for e in runs] == ["ingest", "seal_sweep"]
    ingest_run = runs[0]["seal_run"]
    assert isinstance(ingest_run, dict) and ingest_run["events"] == 2
    assert runs[0]["seal_changes"] == {"psapl-136-seal": 2}
    report = veil_json("audit", "verify", "--seals")
    assert report["ok"] is True and report["problems"] == []


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE seal_events SET state = 'open', rule_id = NULL WHERE id = 1",
        "UPDATE seal_events SET facts = '{}' WHERE id = 2",
        "DELETE FROM seal_events WHERE id = 2",
        "INSERT INTO seal_events (run_id, record_pk, state, rule_id, statute, article, as_of,"
        " facts) SELECT run_id, record_pk, 'open', NULL, NULL, NULL, as_of, '{}'"
        " FROM seal_events WHERE id = 1",
    ],
)
def test_a_rewritten_seal_history_is_found(swept: Path, tamper: str) -> None:
    with sqlite3.connect(swept / "veil.db") as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(tamper)
    # The log itself is intact, so plain verify passes; --seals holds the runs to it.
    assert veil_json("audit", "verify")["ok"] is True
    report = veil_json("audit", "verify", "--seals", expect=1)
    assert report["ok"] is False
    assert any("seal run 1" in p for p in report["problems"]), report["problems"]
