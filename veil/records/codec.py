"""Byte forms of a record: the sealed identity payload and the content digested for re-ingest."""

from __future__ import annotations

import datetime as dt

from veil.records.model import Record

# Unit separator: validation forbids control characters in every text column.
_SEP = "\x1f"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def identity_bytes(record: Record) -> bytes:
    return _SEP.join(
        (record.id_number, record.alt_id, record.name, record.birth_date.isoformat(), record.sex)
    ).encode()


def identity_from_bytes(data: bytes) -> dict[str, str]:
    id_number, alt_id, name, birth_date, sex = data.decode().split(_SEP)
    return {
        "id_number": id_number,
        "alt_id": alt_id,
        "name": name,
        "birth_date": birth_date,
        "sex": sex,
    }


def row_aad(source: str, record_id: str) -> bytes:
    """Binds a sealed identity to its row, so it cannot be moved to another record."""
    return f"veil-record{_SEP}{source}{_SEP}{record_id}".encode()


def person_aad(blind_index: bytes) -> bytes:
    """Binds a wrapped data key to its person."""
    return b"veil-person" + _SEP.encode() + blind_index


def content_bytes(record: Record) -> bytes:
    """Every column but `status` (a revocation changes status, not content)."""
    r = record
    return _SEP.join(
        (
            r.source,
            r.record_id,
            r.id_number,
            r.alt_id,
            r.name,
            r.birth_date.isoformat(),
            r.sex,
            r.kind,
            r.offence_code,
            r.offence_date.isoformat(),
            r.decision_date.isoformat(),
            _text(r.completion_date),
            r.disposition,
            _text(r.detention_days),
            _text(r.sentence_months),
            _text(r.fine_yuan),
        )
    ).encode()
