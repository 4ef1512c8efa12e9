"""Set-at-a-time validation: which rows of a batch certainly pass every check.

Ingest checks millions of rows; doing each check once per batch in Arrow's compute
kernels costs a small fraction of checking row by row in Python. This module only
*selects* rows: a row it passes is valid and in canonical form (exactly as
`validation.validate_row` would read it back), and every other row goes to
`validate_row`, which alone words the reasons a clerk reads. A property test holds the
two to agree on generated rows, valid and broken.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from veil.records import idnumber
from veil.records.catalogue import Catalogue
from veil.records.codec import SEP as _SEP
from veil.records.model import AMOUNT_COLUMNS, COLUMNS, RECORD_KINDS, SEXES, STATUSES

# pyarrow ships no type information: a Mask is a pyarrow BooleanArray.
Mask: TypeAlias = Any
_NO_CONTROL = r"[^\x00-\x1f\x7f]"
_ISO = r"^\d{4}-\d{2}-\d{2}$"
# Canonical whole numbers only ("7", not "007" or "+7"): anything else takes the slow path.
_CANONICAL_WHOLE = r"^(0|[1-9]\d{0,11})$"
# The ISO 7064 MOD 11-2 weights of GB 11643-1999 for the first 17 digits.
_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def _regex(values: pa.Array, pattern: str) -> Mask:
    return pc.match_substring_regex(values, pattern)


_MONTH_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _int_slice(values: pa.Array, start: int, stop: int) -> np.ndarray:
    text = pc.utf8_slice_codeunits(values, start, stop)
    digits = _regex(text, r"^\d+$")
    number = pc.cast(pc.if_else(digits, text, "0"), pa.int64())
    return np.asarray(number.to_numpy(zero_copy_only=False))


def _iso_date(values: pa.Array) -> Mask:
    """YYYY-MM-DD naming a real day (checked with array arithmetic: Arrow's own parser
    rolls 02-30 over into March)."""
    shaped = np.asarray(_regex(values, _ISO).to_numpy(zero_copy_only=False), dtype=bool)
    year, month, day = _int_slice(values, 0, 4), _int_slice(values, 5, 7), _int_slice(values, 8, 10)
    month_ok = (month >= 1) & (month <= 12)
    limit = _MONTH_DAYS[np.where(month_ok, month, 0)]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    limit = np.where((month == 2) & ~leap, 28, limit)
    ok = shaped & month_ok & (day >= 1) & (day <= limit) & (year >= 1)
    return pa.array(ok)


@lru_cache(maxsize=200_000)
def _region_year_ok(key: str) -> bool:
    return idnumber.region_valid(key[:6], int(key[6:]))


def _id_numbers(ids: pa.Array, birth: pa.Array, sex: pa.Array) -> Mask:
    """Every check of `idnumber.check` and its agreement with birth date and sex."""
    n = len(ids)
    shaped = _regex(ids, r"^\d{17}[\dXx]$")
    ok = np.zeros(n, dtype=bool)
    index = np.flatnonzero(shaped.to_numpy(zero_copy_only=False))
    if index.size:
        chosen = pc.take(ids, pa.array(index))
        offsets = np.frombuffer(chosen.buffers()[1], dtype=np.int32)[
            chosen.offset : chosen.offset + len(chosen) + 1
        ]
        data = np.frombuffer(chosen.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        digits = data.reshape(-1, 18)
        total = (digits[:, :17].astype(np.int64) - 48) @ _WEIGHTS
        expected = _CHECK[total % 11]
        given = digits[:, 17] & np.uint8(0xDF)  # 'x' -> 'X'; digits keep their value
        given = np.where(digits[:, 17] <= 57, digits[:, 17], given)
        good = expected == given
        odd = (digits[:, 16] - 48) % 2 == 1
        sexes = np.asarray(pc.take(sex, pa.array(index)).to_numpy(zero_copy_only=False))
        good &= np.where(odd, sexes == "M", sexes == "F")
        ok[index] = good
    mask = pa.array(ok)
    compact_birth = pc.replace_substring(birth, "-", "")
    mask = pc.and_(mask, pc.equal(pc.utf8_slice_codeunits(ids, 6, 14), compact_birth))
    region_year = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(ids, 0, 6), pc.utf8_slice_codeunits(birth, 0, 4), ""
    )
    keys = pc.unique(pc.filter(region_year, mask))
    known = pa.array([k for k in keys.to_pylist() if _region_year_ok(k)], type=pa.string())
    return pc.and_(mask, pc.is_in(region_year, value_set=known))


def _amounts(table: pa.RecordBatch, catalogue: Catalogue, kind_disposition: pa.Array) -> Mask:
    """Amount columns canonical, and present, absent and in range as the disposition says."""
    ok = pa.array(np.ones(table.num_rows, dtype=bool))
    numbers = {}
    for column in AMOUNT_COLUMNS:
        values = table.column(column)
        empty = pc.equal(values, "")
        ok = pc.and_(ok, pc.or_(empty, _regex(values, _CANONICAL_WHOLE)))
        numbers[column] = (
            empty,
            pc.cast(
                pc.if_else(empty, "0", pc.if_else(_regex(values, _CANONICAL_WHOLE), values, "0")),
                pa.int64(),
            ),
        )
    rule_ok = pa.array(np.zeros(table.num_rows, dtype=bool))
    for (kind, disposition), rule in catalogue.dispositions.items():
        match = pc.equal(kind_disposition, f"{kind}{_SEP}{disposition}")
        this = match
        for column in AMOUNT_COLUMNS:
            empty, value = numbers[column]
            bounds = rule.required.get(column) or rule.optional.get(column)
            if bounds is None:
                this = pc.and_(this, empty)
                continue
            in_range = pc.greater_equal(value, bounds.minimum)
            if bounds.maximum is not None:
                in_range = pc.and_(in_range, pc.less_equal(value, bounds.maximum))
            present_ok = pc.and_(pc.invert(empty), in_range)
            this = pc.and_(
                this, present_ok if column in rule.required else pc.or_(empty, present_ok)
            )
        rule_ok = pc.or_(rule_ok, this)
    return pc.and_(ok, rule_ok)


def fast_valid(table: pa.RecordBatch, catalogue: Catalogue, today: dt.date) -> np.ndarray:
    """A boolean per row: True when the row is valid and canonical."""
    c = {name: table.column(name) for name in COLUMNS}
    ok = _regex(c["source"], r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    ok = pc.and_(ok, _regex(c["record_id"], f"^{_NO_CONTROL}{{1,128}}$"))
    ok = pc.and_(ok, _regex(c["name"], f"^{_NO_CONTROL}{{1,100}}$"))
    alt_empty = pc.equal(c["alt_id"], "")
    id_empty = pc.equal(c["id_number"], "")
    ok = pc.and_(
        ok,
        pc.or_(alt_empty, _regex(c["alt_id"], "^[A-Z][A-Z0-9_]{0,31}:[^\\x00-\\x1f\\x7f:]{1,64}$")),
    )
    ok = pc.and_(ok, pc.invert(pc.and_(alt_empty, id_empty)))
    ok = pc.and_(ok, pc.is_in(c["sex"], value_set=pa.array(SEXES)))
    birth_ok = _iso_date(c["birth_date"])
    ok = pc.and_(ok, birth_ok)
    ok = pc.and_(ok, pc.or_(id_empty, _id_numbers(c["id_number"], c["birth_date"], c["sex"])))
    allowed = [
        f"{kind}{_SEP}{code}"
        for code, offence in catalogue.offences.items()
        for kind in offence.row_kinds
    ]
    ok = pc.and_(ok, pc.is_in(c["kind"], value_set=pa.array(RECORD_KINDS)))
    ok = pc.and_(
        ok,
        pc.is_in(
            pc.binary_join_element_wise(c["kind"], c["offence_code"], _SEP),
            value_set=pa.array(allowed),
        ),
    )
    completion_empty = pc.equal(c["completion_date"], "")
    ok = pc.and_(ok, _iso_date(c["offence_date"]))
    ok = pc.and_(ok, _iso_date(c["decision_date"]))
    ok = pc.and_(ok, pc.or_(completion_empty, _iso_date(c["completion_date"])))
    # ISO dates order as strings do.
    ok = pc.and_(ok, pc.greater_equal(c["offence_date"], c["birth_date"]))
    ok = pc.and_(ok, pc.greater_equal(c["decision_date"], c["offence_date"]))
    ok = pc.and_(
        ok, pc.or_(completion_empty, pc.greater_equal(c["completion_date"], c["decision_date"]))
    )
    ok = pc.and_(ok, pc.less_equal(c["decision_date"], today.isoformat()))
    kind_disposition = pc.binary_join_element_wise(c["kind"], c["disposition"], _SEP)
    ok = pc.and_(ok, _amounts(table, catalogue, kind_disposition))
    ok = pc.and_(ok, pc.is_in(c["status"], value_set=pa.array(STATUSES)))
    return np.asarray(pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool)


def joined(table: pa.RecordBatch, columns: tuple[str, ...]) -> list[bytes]:
    """The columns of every row joined by the unit separator, as UTF-8 bytes."""
    parts = [table.column(c) for c in columns]
    return pc.cast(pc.binary_join_element_wise(*parts, _SEP), pa.binary()).to_pylist()


def ages_at_offence(table: pa.RecordBatch) -> list[int]:
    """Whole years between birth_date and offence_date (both canonical ISO dates)."""

    def part(column: str, start: int, stop: int) -> np.ndarray:
        return np.asarray(
            pc.cast(
                pc.utf8_slice_codeunits(table.column(column), start, stop), pa.int32()
            ).to_numpy(zero_copy_only=False)
        )

    birth_y, offence_y = part("birth_date", 0, 4), part("offence_date", 0, 4)
    birth_md = part("birth_date", 5, 7) * 100 + part("birth_date", 8, 10)
    offence_md = part("offence_date", 5, 7) * 100 + part("offence_date", 8, 10)
    return (offence_y - birth_y - (offence_md < birth_md)).tolist()
