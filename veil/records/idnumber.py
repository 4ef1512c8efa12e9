"""PRC resident identity numbers (GB 11643-1999) checked with python-stdnum.

`stdnum.cn.ric.validate` costs about 40 µs a call, almost all of it in the region-code
look-up, which depends only on the first six digits and the birth year. Ingest checks
millions of numbers, so the look-up is cached on exactly those parts; every rule applied
is still stdnum's own.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from stdnum.cn import ric
from stdnum.exceptions import ValidationError


class IdNumberError(ValueError):
    """The number is not a valid resident identity number; the message says why."""


@lru_cache(maxsize=200_000)
def _region_known(region: str, year: str) -> bool:
    # get_birth_place reads only the region code and the birth year of the number it is given.
    try:
        ric.get_birth_place(f"{region}{year}01010010")
    except ValidationError:
        return False
    return True


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
    if not _region_known(number[:6], number[6:10]):
        raise IdNumberError("the region code is not a known administrative division")
    return birth


def sex_of(number: str) -> str:
    """'M' or 'F' from the sequence code's parity (GB 11643-1999 section 4.3)."""
    return "M" if int(number[16]) % 2 else "F"


def with_check_digit(first17: str) -> str:
    """Complete a 17-digit prefix with its check digit."""
    return first17 + ric.calc_check_digit(first17 + "0")
