"""Turn a chunk of text rows into prepared rows: validated, canonical, ready to store.

Rows that `columnar.fast_valid` passes are prepared with array operations; every other row
is read by `validate_row`, which either rejects it with the reason a clerk reads or
returns the record in canonical form. Both give the same prepared tuple for the same
record, so what is stored never depends on which path a row took.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from veil.recordfiles import RowChunk
from veil.records import columnar
from veil.records.catalogue import Catalogue
from veil.records.codec import CONTENT_COLUMNS, content_bytes, identity_bytes
from veil.records.model import IDENTITY_COLUMNS, Record
from veil.records.validation import RowError, validate_row


@dataclass(slots=True)
class Prepared:
    """One valid row. `facts` follow RecordStore's insert order after `status`."""

    line: int
    source: str
    record_id: str
    person_key: str
    status: str
    content: bytes
    identity: bytes
    facts: tuple[object, ...]


def _from_record(line: int, r: Record) -> Prepared:
    completion = r.completion_date.isoformat() if r.completion_date else None
    return Prepared(
        line,
        r.source,
        r.record_id,
        r.person_key,
        r.status,
        content_bytes(r),
        identity_bytes(r),
        (
            r.kind,
            r.offence_code,
            r.offence_date.isoformat(),
            r.decision_date.isoformat(),
            completion,
            r.disposition,
            r.detention_days,
            r.sentence_months,
            r.fine_yuan,
            r.age_at_offence,
        ),
    )


def _amount(values: pa.Array) -> list[int | None]:
    empty = pc.equal(values, "")
    numbers: list[int | None] = pc.cast(
        pc.if_else(empty, pa.scalar(None, pa.string()), values), pa.int64()
    ).to_pylist()
    return numbers


def _fast(batch: pa.RecordBatch, lines: np.ndarray) -> list[Prepared]:
    if batch.num_rows == 0:
        return []
    col = {
        name: batch.column(name).to_pylist()
        for name in (
            "source",
            "record_id",
            "id_number",
            "alt_id",
            "status",
            "completion_date",
            "disposition",
            "kind",
            "offence_code",
            "offence_date",
            "decision_date",
        )
    }
    content = columnar.joined(batch, CONTENT_COLUMNS)
    identity = columnar.joined(batch, IDENTITY_COLUMNS)
    ages = columnar.ages_at_offence(batch)
    detention = _amount(batch.column("detention_days"))
    sentence = _amount(batch.column("sentence_months"))
    fine = _amount(batch.column("fine_yuan"))
    out = []
    for i, line in enumerate(lines.tolist()):
        out.append(
            Prepared(
                line,
                col["source"][i],
                col["record_id"][i],
                col["id_number"][i] or col["alt_id"][i],
                col["status"][i],
                content[i],
                identity[i],
                (
                    col["kind"][i],
                    col["offence_code"][i],
                    col["offence_date"][i],
                    col["decision_date"][i],
                    col["completion_date"][i] or None,
                    col["disposition"][i],
                    detention[i],
                    sentence[i],
                    fine[i],
                    ages[i],
                ),
            )
        )
    return out


def prepare(
    chunk: RowChunk, catalogue: Catalogue, today: dt.date
) -> tuple[list[Prepared], list[tuple[int, str, str]]]:
    """Prepared rows in line order, and rejections (line, column, reason)."""
    rejections = list(chunk.bad)
    batch, lines = chunk.batch, chunk.lines
    if batch.num_rows == 0:
        return [], rejections
    fast = columnar.fast_valid(batch, catalogue, today)
    prepared = _fast(batch.filter(pa.array(fast)), lines[fast])
    slow = np.flatnonzero(~fast)
    if slow.size:
        rows = batch.take(pa.array(slow)).to_pylist()
        for line, row in zip(lines[slow].tolist(), rows, strict=True):
            try:
                prepared.append(_from_record(line, validate_row(row, catalogue, today)))
            except RowError as exc:
                rejections.append((line, exc.column, exc.reason))
        prepared.sort(key=lambda p: p.line)
    return prepared, rejections
