"""Running ingest on in-memory rows, as the file readers would hand them over."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from veil.ingest import IngestReport, ingest_rows
from veil.keys import KeyProvider
from veil.records.catalogue import load_catalogue


def ingest(
    conn: Connection, keys: KeyProvider, rows: Sequence[dict[str, str]], *, chunk_rows: int = 5000
) -> IngestReport:
    return ingest_rows(
        conn,
        [(line, row) for line, row in enumerate(rows, start=2)],
        keys=keys,
        catalogue=load_catalogue(),
        file_name="test.csv",
        file_format="csv",
        chunk_rows=chunk_rows,
    )
