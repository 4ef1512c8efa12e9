"""Reads of one subject's records with their seal states: record data leaves only from here.

Only the disclosure package may import this module (tests/test_architecture.py), so every
read of record data for a requester passes the policy decision point first.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection

from veil.store.dialect import dialect_of, fetch_rows
from veil.store.schema import persons, records, seal_states

_COLUMNS = (
    records.c.id,
    records.c.source,
    records.c.record_id,
    records.c.kind,
    records.c.offence_code,
    records.c.offence_date,
    records.c.decision_date,
    records.c.completion_date,
    records.c.disposition,
    records.c.detention_days,
    records.c.sentence_months,
    records.c.fine_yuan,
    records.c.status,
    records.c.identity,
    persons.c.blind_index,
    persons.c.key_id,
    persons.c.wrapped_key,
    seal_states.c.state,
    seal_states.c.rule_id,
)


def records_of_subject(conn: Connection, blind_index: bytes) -> list[dict[str, Any]]:
    """Every record of the person with this blind index, with its seal state, by id.

    One statement whatever the subject has, so that a subject with no records costs the
    same round trip as one with many (SPEC section 4, response time). It runs on every
    disclosure, so its text is built once per dialect rather than per call.
    """
    sql, names = _statement(dialect_of(conn).placeholder)
    return [dict(zip(names, row, strict=True)) for row in fetch_rows(conn, sql, (blind_index,))]


@cache
def _statement(placeholder: str) -> tuple[str, tuple[str, ...]]:
    columns = ", ".join(f"{c.table.name}.{c.name}" for c in _COLUMNS)
    sql = (
        f"SELECT {columns} FROM persons"
        " JOIN records ON records.person_id = persons.id"
        " LEFT OUTER JOIN seal_states ON seal_states.record_pk = records.id"
        f" WHERE persons.blind_index = {placeholder} ORDER BY records.id"
    )
    return sql, tuple(c.name for c in _COLUMNS)
