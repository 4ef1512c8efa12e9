"""Hostile input gets a clear error and changes nothing it should not (SPEC section 2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .cli_helpers import veil, veil_json
from .factories import good_row
from .test_cli import write_csv


def stored(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "veil.db") as conn:
        return conn.execute("SELECT source, record_id FROM records ORDER BY id").fetchall()


def test_injection_strings_are_stored_verbatim_as_data(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    nasty = ["'; DROP TABLE records; --", 'x" OR "1"="1', "R1); DELETE FROM persons; --"]
    rows = [good_row(record_id=value, name=value) for value in nasty]
    assert veil_json("ingest", str(write_csv(tmp_path / "nasty.csv", rows)))["accepted"] == 3
    assert sorted(record_id for _, record_id in stored(veil_home)) == sorted(nasty)


def test_an_oversized_field_is_rejected_and_the_rest_stored(
    veil_home: Path, tmp_path: Path
) -> None:
    veil("init", check=True)
    rows = [
        good_row(record_id="A"),
        good_row(record_id="B", name="张" * 2_000_000),
        good_row(record_id="C"),
    ]
    report = veil_json("ingest", str(write_csv(tmp_path / "big.csv", rows)), expect=1)
    assert report["accepted"] == 2
    assert report["rejections"] == [
        {
            "line": 3,
            "column": "name",
            "reason": "is not a valid name (1 to 100 printable characters)",
        }
    ]
    assert sorted(record_id for _, record_id in stored(veil_home)) == ["A", "C"]


def test_binary_garbage_is_refused_whole_and_changes_nothing(
    veil_home: Path, tmp_path: Path
) -> None:
    veil("init", check=True)
    veil_json("ingest", str(write_csv(tmp_path / "ok.csv", [good_row()])))
    header = ",".join(good_row()).encode()
    for name, content in [
        ("garbage.csv", header + b"\n" + bytes(range(256)) * 100),
        ("garbage.jsonl", b"\xff\xfe\x00" * 1000),
        ("garbage.parquet", b"PAR1" + bytes(range(256)) * 10 + b"PAR1"),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        result = veil("ingest", str(path), "--json")
        assert result.returncode in (1, 2), name
        assert stored(veil_home) == [("110105-PSB", "2024-0001")], name
