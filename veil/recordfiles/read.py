"""Streaming readers: each yields (line, row) with row as canonical text columns.

`line` is the 1-based physical line of the row in CSV (the header is line 1) and JSON
Lines files, and the 1-based row number in Parquet files, which have no lines. A row that
cannot be read at all comes out as a `BadRow` so the ingest can report it and go on.
Memory stays flat: nothing holds more than one batch of rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from veil.recordfiles.formats import FileFormatError, format_of
from veil.records.model import COLUMNS


@dataclass(frozen=True, slots=True)
class BadRow:
    column: str
    reason: str


Row = dict[str, str] | BadRow


class _CountingFile(io.RawIOBase):
    """Counts the bytes read through it, for a progress bar that knows the file size."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def _check_header(name: str, header: list[str]) -> None:
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        problems = []
        if missing:
            problems.append("missing columns: " + ", ".join(missing))
        if extra:
            problems.append("unknown columns: " + ", ".join(extra))
        raise FileFormatError(f"{name}: " + "; ".join(problems))
    if len(set(header)) != len(header):
        raise FileFormatError(f"{name}: a column name appears twice in the header")


def _text(value: Any) -> str | None:
    """A JSON or Parquet value as canonical text; None when its type cannot be a column."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return None


def _from_mapping(obj: dict[str, Any]) -> Row:
    unknown = [k for k in obj if k not in COLUMNS]
    if unknown:
        return BadRow(unknown[0], "is not a record column")
    row: dict[str, str] = {}
    for column in COLUMNS:
        text = _text(obj.get(column))
        if text is None:
            return BadRow(column, f"has a value of type {type(obj[column]).__name__}")
        row[column] = text
    return row


class RecordFileReader:
    """Iterate over (line, row); `position` and `total` measure progress in `unit`s."""

    unit = "bytes"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total = path.stat().st_size
        self.position = 0

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        raise NotImplementedError


class CsvReader(RecordFileReader):
    def __iter__(self) -> Iterator[tuple[int, Row]]:
        with self.path.open("rb") as raw:
            counter = _CountingFile(raw)
            buffered = io.BufferedReader(counter, buffer_size=1 << 20)
            text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            try:
                header = next(reader)
            except StopIteration:
                raise FileFormatError(f"{self.path.name}: the file is empty") from None
            except UnicodeDecodeError:
                raise FileFormatError(f"{self.path.name}: the file is not UTF-8 text") from None
            _check_header(self.path.name, header)
            width = len(header)
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except UnicodeDecodeError:
                    raise FileFormatError(
                        f"{self.path.name}: not UTF-8 text after line {reader.line_num}"
                    ) from None
                except csv.Error as exc:
                    yield reader.line_num, BadRow("", f"unreadable CSV: {exc}")
                    continue
                self.position = counter.count
                if not fields:
                    continue
                if len(fields) != width:
                    yield (
                        reader.line_num,
                        BadRow("", f"has {len(fields)} fields where the header has {width}"),
                    )
                    continue
                yield reader.line_num, dict(zip(header, fields, strict=True))
        self.position = self.total


class JsonLinesReader(RecordFileReader):
    def __iter__(self) -> Iterator[tuple[int, Row]]:
        with self.path.open("rb") as handle:
            for line, raw in enumerate(handle, start=1):
                self.position += len(raw)
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    yield line, BadRow("", f"is not valid JSON: {exc}")
                    continue
                if not isinstance(obj, dict):
                    yield line, BadRow("", "is not a JSON object")
                    continue
                yield line, _from_mapping(obj)


class ParquetReader(RecordFileReader):
    unit = "rows"

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq  # deferred: pyarrow takes a moment to import

        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise FileFormatError(f"{path.name}: not a readable Parquet file ({exc})") from None
        _check_header(path.name, self._file.schema_arrow.names)
        self.total = self._file.metadata.num_rows
        self.position = 0

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        line = 0
        for batch in self._file.iter_batches(batch_size=10_000, columns=list(COLUMNS)):
            for obj in batch.to_pylist():
                line += 1
                yield line, _from_mapping(obj)
            self.position = line


def open_reader(path: Path) -> RecordFileReader:
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    kind = format_of(path)
    if kind == "csv":
        return CsvReader(path)
    if kind == "jsonl":
        return JsonLinesReader(path)
    return ParquetReader(path)
