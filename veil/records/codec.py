"""Byte forms of a record: the sealed identity payload and the content digested for re-ingest.

Both are canonical text columns joined by SEP, so they can be built from a `Record` here
or from a batch of columns (`columnar.joined`) and come out byte for byte the same.
"""

from __future__ import annotations

from veil.records.model import COLUMNS, IDENTITY_COLUMNS, Record

# Unit separator: validation forbids control characters in every text column.
SEP = "\x1f"
# Every column but `status`: a revocation changes status, not content.
CONTENT_COLUMNS = tuple(c for c in COLUMNS if c != "status")


def _joined(record: Record, columns: tuple[str, ...]) -> bytes:
    row = record.as_row()
    return SEP.join(row[c] for c in columns).encode()


def identity_bytes(record: Record) -> bytes:
    return _joined(record, IDENTITY_COLUMNS)


def identity_from_bytes(data: bytes) -> dict[str, str]:
    return dict(zip(IDENTITY_COLUMNS, data.decode().split(SEP), strict=True))


def content_bytes(record: Record) -> bytes:
    return _joined(record, CONTENT_COLUMNS)


def row_aad(source: str, record_id: str) -> bytes:
    """Binds a sealed identity to its row, so it cannot be moved to another record."""
    return f"veil-record{SEP}{source}{SEP}{record_id}".encode()


def person_aad(blind_index: bytes) -> bytes:
    """Binds a wrapped data key to its person."""
    return b"veil-person" + SEP.encode() + blind_index
