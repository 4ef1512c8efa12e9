"""Running ingest on in-memory rows, in chunks as the file readers would hand them over."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from veil.ingest import IngestReport, ingest_rows
from veil.keys import KeyProvider
from veil.recordfiles import RowChunk, chunk_from_rows
from veil.records.catalogue import load_catalogue


def chunks_of(rows: Sequence[dict[str, str]], chunk_rows: int = 5000) -> list[RowChunk]:
    numbered = list(enumerate(rows, start=2))
    return [
        chunk_from_rows(numbered[start : start + chunk_rows])
        for start in range(0, len(numbered), chunk_rows)
    ]


def ingest(
    conn: Connection, keys: KeyProvider, rows: Sequence[dict[str, str]], *, chunk_rows: int = 5000
) -> IngestReport:
    return ingest_rows(
        conn,
        chunks_of(rows, chunk_rows),
        keys=keys,
        catalogue=load_catalogue(),
        file_name="test.csv",
        file_format="csv",
    )
