"""Readers report the physical line of every row, and progress that ends at the file size."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from veil.recordfiles import open_reader
from veil.records.model import COLUMNS

from .factories import good_row


def csv_line(row: dict[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([row[c] for c in COLUMNS])
    return out.getvalue()


def read_all(path: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    rows, bad = [], []
    for chunk in open_reader(path):
        ids = chunk.batch.column("record_id").to_pylist()
        rows += list(zip(chunk.lines.tolist(), ids, strict=True))
        bad += chunk.bad
    return rows, bad


def test_csv_lines_survive_quoted_newlines_blank_lines_and_short_rows(tmp_path: Path) -> None:
    path = tmp_path / "tricky.csv"
    text = ",".join(COLUMNS) + "\n"  # line 1
    text += csv_line(good_row(record_id="A"))  # line 2
    text += "\n"  # line 3: blank
    text += csv_line(good_row(record_id="B", name="张\n伟"))  # lines 4-5
    text += "too,few,fields\n"  # line 6
    text += csv_line(good_row(record_id="C"))  # line 7
    path.write_text(text, encoding="utf-8")
    rows, bad = read_all(path)
    assert rows == [(2, "A"), (4, "B"), (7, "C")]
    assert bad == [(6, "", "has 3 fields where the header has 17")]


def test_csv_progress_advances_to_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        for i in range(30_000):
            handle.write(csv_line(good_row(record_id=f"R{i}")))
    reader = open_reader(path)
    seen = []
    for _chunk in reader:
        seen.append(reader.position)
    assert len(seen) > 2
    assert seen == sorted(seen)
    assert 0 < seen[0] < reader.total
    assert reader.position == reader.total


def test_jsonl_and_parquet_number_their_rows(tmp_path: Path) -> None:
    from veil.recordfiles import open_writer

    for suffix in ("jsonl", "parquet"):
        path = tmp_path / f"rows.{suffix}"
        with open_writer(path) as writer:
            for i in range(3):
                writer.write(good_row(record_id=f"R{i}"))
        rows, bad = read_all(path)
        assert rows == [(1, "R0"), (2, "R1"), (3, "R2")]
        assert bad == []
