"""Which file formats Veil reads and writes, chosen by file extension."""

from __future__ import annotations

from pathlib import Path

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class FileFormatError(ValueError):
    """The file as a whole cannot be read as records (wrong extension, header, or encoding)."""


def format_of(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise FileFormatError(f"{path.name}: unknown file type; use one of {known}") from None
