"""The set-at-a-time validator agrees with the row validator on generated rows.

`fast_valid` may only pass rows that `validate_row` accepts and that are in canonical form
(read back exactly as given); rows it holds back go to `validate_row`, so holding back a
valid row costs speed, never correctness. A canonical valid row must pass, or ingest would
silently slow down.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.recordfiles import chunk_from_rows
from veil.records.catalogue import load_catalogue
from veil.records.columnar import fast_valid
from veil.records.validation import RowError, validate_row
from veil.synth.corrupt import CORRUPTIONS, corrupt

from .factories import good_row
from .strategies import valid_rows

CATALOGUE = load_catalogue()
TODAY = dt.date(2026, 11, 24)


def verdicts(rows: list[dict[str, str]]) -> tuple[np.ndarray, list[bool]]:
    chunk = chunk_from_rows(list(enumerate(rows, start=2)))
    fast = fast_valid(chunk.batch, CATALOGUE, TODAY)
    slow = []
    for row in rows:
        try:
            record = validate_row(row, CATALOGUE, TODAY)
        except RowError:
            slow.append(False)
        else:
            slow.append(record.as_row() == row)  # valid and canonical
    return fast, slow


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(valid_rows(), min_size=1, max_size=8),
    corruptions=st.lists(st.tuples(st.sampled_from(CORRUPTIONS), st.integers(0, 10**6))),
)
def test_fast_validator_agrees_with_row_validator(
    rows: list[dict[str, str]], corruptions: list[tuple[str, int]]
) -> None:
    rng = random.Random(0)
    batch = list(rows)
    for name, where in corruptions:
        i = where % len(batch)
        if batch[i] is rows[i]:  # each row broken at most once
            batch[i] = corrupt(name, rows[i], rows[i - 1] if i else None, rng)
    fast, slow = verdicts(batch)
    assert fast.tolist() == slow


def test_impossible_dates_and_leap_days() -> None:
    rows = [
        good_row(offence_date="2024-02-29", record_id="leap"),
        good_row(offence_date="2023-02-29", record_id="not-leap"),
        good_row(offence_date="2024-04-31", record_id="april-31"),
        good_row(offence_date="2024-00-10", record_id="month-0"),
        good_row(offence_date="2024-5-01", record_id="short"),
        good_row(detention_days="010", record_id="leading-zero"),
    ]
    fast, slow = verdicts(rows)
    assert fast.tolist() == slow == [True, False, False, False, False, False]


@settings(max_examples=100, deadline=None)
@given(row=valid_rows())
def test_both_paths_prepare_the_same_stored_form(row: dict[str, str]) -> None:
    from veil.ingest.prepare import _fast, _from_record

    chunk = chunk_from_rows([(2, row)])
    (fast,) = _fast(chunk.batch, chunk.lines)
    slow = _from_record(2, validate_row(row, CATALOGUE, TODAY))
    assert fast == slow
