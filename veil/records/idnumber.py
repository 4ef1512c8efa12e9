"""PRC resident identity numbers (GB 11643-1999) checked with python-stdnum.

`stdnum.cn.ric.validate` costs about 40 µs a call, and a first look-up of a region code
about 150 µs, almost all of it in stdnum's scan of its division table. Ingest checks
millions of numbers over a few thousand regions and a century of birth years, so the table
entry is fetched from stdnum once per region and the year test that `get_birth_place`
applies to it (a county name may carry a "[start-end]" validity) is repeated here.
The check digit and the division table are still stdnum's own.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric


class IdNumberError(ValueError):
    """The number is not a valid resident identity number; the message says why."""


@lru_cache(maxsize=20_000)
def _region_periods(region: str) -> tuple[tuple[int | None, int | None], ...]:
    """The periods in which `region` named a county; empty when it never did."""
    results = numdb.get("cn/loc").info(region)
    info = {k: v for _part, props in results for k, v in props.items()}
    periods: list[tuple[int | None, int | None]] = []
    for county in info.get("county", "").split(",") if info else ():
        if not county.startswith("["):
            periods.append((None, None))
            continue
        start, end = county[1:].split("]")[0].split("-")
        periods.append((int(start) if start else None, int(end) if end else None))
    return tuple(periods)


def region_valid(region: str, year: int) -> bool:
    """Whether `region` named a county in `year` (stdnum's division table)."""
    return any(
        (start is None or year >= start) and (end is None or year <= end)
        for start, end in _region_periods(region)
    )


@lru_cache(maxsize=50_000)
def _birth_date(digits: str) -> dt.date | None:
    try:
        return dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def check(number: str) -> dt.date:
    """Validate an 18-character number; return the birth date it encodes."""
    if len(number) != 18:
        raise IdNumberError("must have 18 characters")
    if not number[:17].isdigit() or not number[:17].isascii():
        raise IdNumberError("the first 17 characters must be digits")
    if number[17].upper() != ric.calc_check_digit(number):
        raise IdNumberError("check digit is wrong (ISO 7064 MOD 11-2)")
    birth = _birth_date(number[6:14])
    if birth is None:
        raise IdNumberError("the birth date it encodes does not exist")
    if not region_valid(number[:6], birth.year):
        raise IdNumberError("the region code is not a known administrative division")
    return birth


def sex_of(number: str) -> str:
    """'M' or 'F' from the sequence code's parity (GB 11643-1999 section 4.3)."""
    return "M" if int(number[16]) % 2 else "F"


def with_check_digit(first17: str) -> str:
    """Complete a 17-digit prefix with its check digit."""
    return first17 + ric.calc_check_digit(first17 + "0")
