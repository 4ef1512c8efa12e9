"""SPEC section 7: a copy of the database without the key file reveals no name or ID number."""

from __future__ import annotations

import csv
from pathlib import Path

from .cli_helpers import veil, veil_json


def test_database_files_contain_no_name_and_no_id_number(veil_home: Path, tmp_path: Path) -> None:
    data = tmp_path / "people.csv"
    veil("init", check=True)
    veil("synth", "--persons", "20000", "--seed", "7", "--out", str(data), check=True)
    report = veil_json("ingest", str(data))
    assert report["accepted"] > 500
    with data.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    secrets = set()
    for row in rows:
        secrets.update(v for v in (row["name"], row["id_number"], row["alt_id"]) if v)
        if row["id_number"]:
            secrets.add(row["id_number"][:17])  # the number without its check digit
    raw = b"".join(p.read_bytes() for p in veil_home.glob("veil.db*"))
    assert len(raw) > 100_000
    leaked = [s for s in secrets if s.encode("utf-8") in raw]
    assert leaked == []
    # The scan itself would find them: the same bytes are in the input file.
    assert any(s.encode("utf-8") in data.read_bytes() for s in secrets)
