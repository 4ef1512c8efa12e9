"""Streaming writers for record files (used by `veil synth`); format from the extension."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from veil.recordfiles.formats import format_of
from veil.records.model import AMOUNT_COLUMNS, COLUMNS


class RecordFileWriter:
    """Write rows of canonical text columns; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, row: dict[str, str]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> RecordFileWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CsvWriter(RecordFileWriter):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._handle: TextIO = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(COLUMNS)

    def write(self, row: dict[str, str]) -> None:
        self._writer.writerow([row[c] for c in COLUMNS])

    def close(self) -> None:
        self._handle.close()


class JsonLinesWriter(RecordFileWriter):
    """Amounts that are whole numbers are written as JSON numbers, empty values as null."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._handle: TextIO = path.open("w", encoding="utf-8")

    def write(self, row: dict[str, str]) -> None:
        obj: dict[str, Any] = {}
        for column in COLUMNS:
            value: Any = row[column]
            if value == "":
                value = None
            elif column in AMOUNT_COLUMNS and value.lstrip("-").isdigit():
                value = int(value)
            obj[column] = value
        self._handle.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._handle.close()


class ParquetWriter(RecordFileWriter):
    """Every column as a string, so that deliberately broken rows survive the round trip."""

    BATCH = 50_000

    def __init__(self, path: Path) -> None:
        import pyarrow as pa  # deferred: pyarrow takes a moment to import
        import pyarrow.parquet as pq

        super().__init__(path)
        self._pa = pa
        self._schema = pa.schema([(c, pa.string()) for c in COLUMNS])
        self._writer = pq.ParquetWriter(path, self._schema)
        self._pending: dict[str, list[str]] = {c: [] for c in COLUMNS}
        self._count = 0

    def write(self, row: dict[str, str]) -> None:
        for column in COLUMNS:
            self._pending[column].append(row[column])
        self._count += 1
        if self._count >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._count:
            table = self._pa.table(self._pending, schema=self._schema)
            self._writer.write_table(table)
            self._pending = {c: [] for c in COLUMNS}
            self._count = 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


def open_writer(path: Path) -> RecordFileWriter:
    kind = format_of(path)
    if kind == "csv":
        return CsvWriter(path)
    if kind == "jsonl":
        return JsonLinesWriter(path)
    return ParquetWriter(path)
