"""Organisations and their API tokens: the SQL. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import Connection, insert, select, update

from veil.store.dialect import dialect_of, fetch_rows
from veil.store.schema import api_tokens, organisations


def add_organisation(
    conn: Connection, org_id: str, name: str, org_type: str, now: dt.datetime
) -> None:
    conn.execute(insert(organisations).values(id=org_id, name=name, type=org_type, created_at=now))


def add_token(
    conn: Connection,
    token_id: str,
    org_id: str,
    token_hash: bytes,
    officer: str | None,
    now: dt.datetime,
) -> None:
    conn.execute(
        insert(api_tokens).values(
            id=token_id, org_id=org_id, token_hash=token_hash, officer=officer, created_at=now
        )
    )


def list_organisations(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(organisations).order_by(organisations.c.created_at))
    return [dict(row._mapping) for row in rows]


def organisation(conn: Connection, org_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(organisations).where(organisations.c.id == org_id)).first()
    return dict(row._mapping) if row else None


def revoke_organisation(conn: Connection, org_id: str, now: dt.datetime) -> bool:
    """Revoke the organisation and every token it holds; False if there is none such."""
    done = conn.execute(
        update(organisations)
        .where(organisations.c.id == org_id, organisations.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.org_id == org_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(done.rowcount)


def holder_of(conn: Connection, token_hash: bytes) -> dict[str, Any] | None:
    """The organisation (id, name, type, revoked_at) and officer a live token belongs to.

    Asked on every request, so its text is built once per dialect rather than per call.
    """
    rows = fetch_rows(conn, _holder_sql(dialect_of(conn).placeholder), (token_hash,))
    return dict(zip(_HOLDER, rows[0], strict=True)) if rows else None


_HOLDER = ("id", "name", "type", "revoked_at", "token_id", "officer")


@cache
def _holder_sql(placeholder: str) -> str:
    return (
        "SELECT organisations.id, organisations.name, organisations.type,"
        " organisations.revoked_at, api_tokens.id, api_tokens.officer"
        " FROM api_tokens JOIN organisations ON organisations.id = api_tokens.org_id"
        f" WHERE api_tokens.token_hash = {placeholder} AND api_tokens.revoked_at IS NULL"
    )
