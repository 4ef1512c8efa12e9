"""Issued certificates: the SQL. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select

from veil.store.schema import certificates


def add_certificate(
    conn: Connection,
    *,
    code: str,
    serial: str,
    kind: str,
    issued_at: dt.datetime,
    valid_until: dt.date,
    content_sha256: bytes,
) -> None:
    conn.execute(
        insert(certificates).values(
            code=code,
            serial=serial,
            kind=kind,
            issued_at=issued_at,
            valid_until=valid_until,
            content_sha256=content_sha256,
        )
    )


def certificate_by_code(conn: Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(select(certificates).where(certificates.c.code == code)).first()
    return dict(row._mapping) if row else None
