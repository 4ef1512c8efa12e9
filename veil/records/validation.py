"""Row validation: canonical text columns in, a `Record` or a clerk-readable reason out.

Every check here is one the rejection report names (SPEC section 2); the first problem
found in a row is the one reported, with the column it concerns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache

from veil.records import idnumber
from veil.records.catalogue import Catalogue
from veil.records.model import AMOUNT_COLUMNS, RECORD_KINDS, SEXES, STATUSES, Record

_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_RECORD_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")
_ALT_ID = re.compile(r"[A-Z][A-Z0-9_]{0,31}:[^\x00-\x1f\x7f:]{1,64}")
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,100}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"-?\d{1,12}")


class RowError(ValueError):
    """One row is invalid: `column` names the field, the message says why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@lru_cache(maxsize=100_000)
def _parse_date(text: str) -> dt.date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _optional_date(row: Mapping[str, str], column: str) -> dt.date | None:
    text = row.get(column, "")
    if not text:
        return None
    value = _parse_date(text)
    if value is None:
        raise RowError(column, f"{text!r} is not a date in the form YYYY-MM-DD")
    return value


def _date(row: Mapping[str, str], column: str) -> dt.date:
    value = _optional_date(row, column)
    if value is None:
        raise RowError(column, "is required")
    return value


def _amount(row: Mapping[str, str], column: str) -> int | None:
    text = row.get(column, "")
    if not text:
        return None
    if not _WHOLE.fullmatch(text):
        raise RowError(column, f"{text!r} is not a whole number")
    value = int(text)
    if value < 0:
        raise RowError(column, "must not be negative")
    return value


def _text(row: Mapping[str, str], column: str, pattern: re.Pattern[str], what: str) -> str:
    text = row.get(column, "")
    if not text:
        raise RowError(column, "is required")
    if not pattern.fullmatch(text):
        raise RowError(column, f"is not a valid {what}")
    return text


def _person(row: Mapping[str, str]) -> tuple[str, str, dt.date, str]:
    """Identity columns: (id_number, alt_id, birth_date, sex), checked against each other."""
    id_number = row.get("id_number", "")
    alt_id = row.get("alt_id", "")
    if alt_id and not _ALT_ID.fullmatch(alt_id):
        raise RowError("alt_id", "must have the form TYPE:VALUE, e.g. PASSPORT:E12345678")
    if not id_number and not alt_id:
        raise RowError("id_number", "is required unless alt_id identifies the person")
    sex = row.get("sex", "")
    if sex not in SEXES:
        raise RowError("sex", "must be M or F")
    birth_date = _date(row, "birth_date")
    if id_number:
        try:
            encoded = idnumber.check(id_number)
        except idnumber.IdNumberError as exc:
            raise RowError("id_number", str(exc)) from None
        if encoded != birth_date:
            raise RowError(
                "birth_date", f"disagrees with the ID number, which encodes {encoded.isoformat()}"
            )
        if idnumber.sex_of(id_number) != sex:
            raise RowError("sex", "disagrees with the ID number's sequence code")
    return id_number, alt_id, birth_date, sex


def _amounts(
    row: Mapping[str, str], catalogue: Catalogue, kind: str, disposition: str
) -> dict[str, int | None]:
    rule = catalogue.dispositions.get((kind, disposition))
    if rule is None:
        raise RowError("disposition", f"{disposition!r} is not a disposition for kind {kind}")
    amounts = {column: _amount(row, column) for column in AMOUNT_COLUMNS}
    for column, value in amounts.items():
        bounds = rule.required.get(column) or rule.optional.get(column)
        if bounds is None:
            if value is not None:
                raise RowError(column, f"must be empty for {disposition} ({rule.basis})")
            continue
        if value is None:
            if column in rule.required:
                raise RowError(column, f"is required for {disposition} ({rule.basis})")
            continue
        if value < bounds.minimum or (bounds.maximum is not None and value > bounds.maximum):
            upper = f" to {bounds.maximum}" if bounds.maximum is not None else " or more"
            raise RowError(
                column,
                f"{value} is outside {bounds.minimum}{upper} for {disposition} ({rule.basis})",
            )
    return amounts


def validate_row(row: Mapping[str, str], catalogue: Catalogue, today: dt.date) -> Record:
    """Turn one row of canonical text columns into a `Record`, or raise `RowError`."""
    source = _text(row, "source", _SOURCE, "agency code (letters, digits, '-', '_', '.')")
    record_id = _text(row, "record_id", _RECORD_ID, "record id (1 to 128 printable characters)")
    name = _text(row, "name", _NAME, "name (1 to 100 printable characters)")
    id_number, alt_id, birth_date, sex = _person(row)

    kind = row.get("kind", "")
    if kind not in RECORD_KINDS:
        raise RowError("kind", f"must be one of {', '.join(RECORD_KINDS)}")
    code = row.get("offence_code", "")
    offence = catalogue.offences.get(code)
    if offence is None:
        raise RowError("offence_code", f"{code!r} is not in the offence catalogue")
    if kind not in offence.row_kinds:
        raise RowError("offence_code", f"{code} is an offence of kind {offence.kind}, not {kind}")

    offence_date = _date(row, "offence_date")
    decision_date = _date(row, "decision_date")
    completion_date = _optional_date(row, "completion_date")
    if offence_date < birth_date:
        raise RowError("offence_date", "is before the person's birth date")
    if decision_date < offence_date:
        raise RowError("decision_date", "is before the offence date")
    if completion_date is not None and completion_date < decision_date:
        raise RowError("completion_date", "is before the decision date")
    if decision_date > today:
        raise RowError("decision_date", "is in the future")

    disposition = row.get("disposition", "")
    amounts = _amounts(row, catalogue, kind, disposition)
    status = row.get("status", "")
    if status not in STATUSES:
        raise RowError("status", f"must be one of {', '.join(STATUSES)}")
    return Record(
        source=source,
        record_id=record_id,
        id_number=id_number,
        alt_id=alt_id,
        name=name,
        birth_date=birth_date,
        sex=sex,
        kind=kind,
        offence_code=code,
        offence_date=offence_date,
        decision_date=decision_date,
        completion_date=completion_date,
        disposition=disposition,
        detention_days=amounts["detention_days"],
        sentence_months=amounts["sentence_months"],
        fine_yuan=amounts["fine_yuan"],
        status=status,
    )
