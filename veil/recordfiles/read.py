"""Streaming readers: each yields `RowChunk`s of canonical text columns.

A chunk holds a batch of rows (every column as text, empty for missing), the line of each
row, and the rows that could not be read as records at all, with the reason. `line` is
the 1-based physical line in CSV (the header is line 1) and JSON Lines files, and the
1-based row number in Parquet files, which have no lines. Memory stays flat: nothing
holds more than one chunk.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from veil.recordfiles.formats import FileFormatError, format_of
from veil.records.model import COLUMNS

CHUNK_ROWS = 20_000
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])


@dataclass
class RowChunk:
    batch: pa.RecordBatch
    lines: np.ndarray
    bad: list[tuple[int, str, str]] = field(default_factory=list)


def chunk_from_rows(rows: list[tuple[int, dict[str, str]]]) -> RowChunk:
    """A chunk from rows already read as text columns (tests and small readers)."""
    batch = pa.RecordBatch.from_pydict(
        {c: [row.get(c, "") for _, row in rows] for c in COLUMNS}, schema=SCHEMA
    )
    return RowChunk(batch, np.array([line for line, _ in rows], dtype=np.int64))


# A row read as text columns, or (column, reason) when it cannot be read as a record.
Entry = tuple[int, dict[str, str] | tuple[str, str]]


def _grouped(entries: Iterable[Entry]) -> Iterator[RowChunk]:
    """Group (line, row or problem) entries into chunks of at most CHUNK_ROWS rows."""
    rows: list[tuple[int, dict[str, str]]] = []
    bad: list[tuple[int, str, str]] = []
    for line, entry in entries:
        if isinstance(entry, dict):
            rows.append((line, entry))
        else:
            bad.append((line, *entry))
        if len(rows) >= CHUNK_ROWS:
            chunk = chunk_from_rows(rows)
            chunk.bad, rows, bad = bad, [], []
            yield chunk
    chunk = chunk_from_rows(rows)
    chunk.bad = bad
    yield chunk


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
    """A JSON value as canonical text; None when its type cannot be a column."""
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


class RecordFileReader:
    """Iterate over `RowChunk`s; `position` and `total` measure progress (bytes, or rows
    for Parquet)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total = path.stat().st_size
        self.position = 0

    def __iter__(self) -> Iterator[RowChunk]:
        raise NotImplementedError


class CsvReader(RecordFileReader):
    """Arrow's CSV parser, with physical line numbers kept exact.

    Arrow numbers rows, not lines: a quoted value may span lines, and a row with the wrong
    number of fields is skipped through the invalid-row handler. Both are rare, so lines
    are computed with array arithmetic unless a chunk has either.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            try:
                header = next(csv.reader(handle))
            except StopIteration:
                raise FileFormatError(f"{path.name}: the file is empty") from None
            except UnicodeDecodeError:
                raise FileFormatError(f"{path.name}: the file is not UTF-8 text") from None
        _check_header(path.name, header)
        self.width = len(header)

    def __iter__(self) -> Iterator[RowChunk]:
        import pyarrow.csv as pcsv

        skipped: list[tuple[int, int, str]] = []

        def on_invalid(row: Any) -> str:
            skipped.append((row.number, row.actual_columns, row.text or ""))
            return "skip"

        with self.path.open("rb") as handle:
            try:
                reader = pcsv.open_csv(
                    handle,
                    read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 20),
                    parse_options=pcsv.ParseOptions(
                        newlines_in_values=True,
                        ignore_empty_lines=False,
                        invalid_row_handler=on_invalid,
                    ),
                    convert_options=pcsv.ConvertOptions(
                        column_types=dict.fromkeys(COLUMNS, pa.string()),
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
                row_number, extra = 1, 0  # the header is row 1
                for batch in reader:
                    # Arrow reads ahead of what it has parsed, so the file offset says little;
                    # the parsed text's length (plus separators) measures progress instead.
                    parsed = sum(pc.sum(pc.binary_length(c)).as_py() or 0 for c in batch.columns)
                    self.position = min(
                        self.total, self.position + parsed + batch.num_rows * batch.num_columns
                    )
                    chunk, row_number, extra = self._chunk(batch, skipped, row_number, extra)
                    yield chunk
            except pa.ArrowInvalid as exc:
                if "straddl" not in str(exc):
                    raise FileFormatError(f"{self.path.name}: unreadable CSV ({exc})") from None
                # A row longer than Arrow's block: finish with Python's reader, which reads
                # any row whole (and validation then rejects the oversized field).
                yield from self._python_rows(after=row_number - 1)
                return
        bad = [(n + extra, "", self._width_reason(w)) for n, w, _ in skipped]
        if bad:
            yield RowChunk(
                pa.RecordBatch.from_pylist([], schema=SCHEMA), np.zeros(0, dtype=np.int64), bad
            )
        self.position = self.total

    def _python_rows(self, after: int) -> Iterator[RowChunk]:
        """Rows after the first `after` data rows, read with the csv module."""
        yield from _grouped(self._python_entries(after))

    def _python_entries(self, after: int) -> Iterator[Entry]:
        csv.field_size_limit(1 << 30)
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            for index, fields in enumerate(reader):
                if index < after:
                    continue
                self.position = min(self.total, self.position + sum(map(len, fields)) + len(fields))
                if not fields:
                    continue
                if len(fields) != self.width:
                    yield reader.line_num, ("", self._width_reason(len(fields)))
                else:
                    yield reader.line_num, dict(zip(header, fields, strict=True))

    def _width_reason(self, width: int) -> str:
        return f"has {width} fields where the header has {self.width}"

    def _chunk(
        self,
        batch: pa.RecordBatch,
        skipped: list[tuple[int, int, str]],
        row_number: int,
        extra: int,
    ) -> tuple[RowChunk, int, int]:
        batch = batch.select(list(COLUMNS))
        n = batch.num_rows
        newlines = np.zeros(n, dtype=np.int64)
        for column in batch.columns:
            if pc.any(pc.match_substring(column, "\n")).as_py():
                newlines += np.asarray(pc.count_substring(column, "\n").to_numpy())
        bad: list[tuple[int, str, str]] = []
        if not skipped and not newlines.any():
            lines = np.arange(row_number + 1, row_number + 1 + n, dtype=np.int64) + extra
            row_number += n
        else:
            lines = np.empty(n, dtype=np.int64)
            for i in range(n):
                row_number += 1
                while skipped and skipped[0][0] == row_number:
                    number, width, text = skipped.pop(0)
                    bad.append((number + extra, "", self._width_reason(width)))
                    extra += text.count("\n")
                    row_number += 1
                lines[i] = row_number + extra
                extra += int(newlines[i])
        # A blank line is no row: Arrow reads it as a row of empty fields.
        blank = pc.equal(pc.binary_join_element_wise(*batch.columns, ""), "")
        if pc.any(blank).as_py():
            keep = pc.invert(blank)
            batch = batch.filter(keep)
            lines = lines[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)]
        return RowChunk(batch, lines, bad), row_number, extra


class JsonLinesReader(RecordFileReader):
    def __iter__(self) -> Iterator[RowChunk]:
        yield from _grouped(self._entries())

    def _entries(self) -> Iterator[Entry]:
        with self.path.open("rb") as handle:
            for line, raw in enumerate(handle, start=1):
                self.position += len(raw)
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    yield line, ("", f"is not valid JSON: {exc}")
                    continue
                if not isinstance(obj, dict):
                    yield line, ("", "is not a JSON object")
                    continue
                yield line, self._row(obj)

    @staticmethod
    def _row(obj: dict[str, Any]) -> dict[str, str] | tuple[str, str]:
        unknown = [k for k in obj if k not in COLUMNS]
        if unknown:
            return (unknown[0], "is not a record column")
        row: dict[str, str] = {}
        for column in COLUMNS:
            text = _text(obj.get(column))
            if text is None:
                return (column, f"has a value of type {type(obj[column]).__name__}")
            row[column] = text
        return row


class ParquetReader(RecordFileReader):
    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise FileFormatError(f"{path.name}: not a readable Parquet file ({exc})") from None
        _check_header(path.name, self._file.schema_arrow.names)
        self.total = self._file.metadata.num_rows
        self.position = 0

    def __iter__(self) -> Iterator[RowChunk]:
        done = 0
        for batch in self._file.iter_batches(batch_size=CHUNK_ROWS, columns=list(COLUMNS)):
            columns = []
            for column in batch.columns:
                if pa.types.is_date(column.type):
                    column = pc.strftime(column, format="%Y-%m-%d")
                columns.append(pc.fill_null(pc.cast(column, pa.string()), ""))
            n = batch.num_rows
            yield RowChunk(
                pa.RecordBatch.from_arrays(columns, schema=SCHEMA),
                np.arange(done + 1, done + n + 1, dtype=np.int64),
            )
            done += n
            self.position = done


def open_reader(path: Path) -> RecordFileReader:
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    kind = format_of(path)
    if kind == "csv":
        return CsvReader(path)
    if kind == "jsonl":
        return JsonLinesReader(path)
    return ParquetReader(path)
