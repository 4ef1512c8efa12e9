"""Deliberately broken rows, one kind for every check the validator makes."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from veil.records.idnumber import with_check_digit

Row = dict[str, str]


def _flip_check_digit(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    if not row["id_number"]:
        return _missing_identity(row, _prev, _rng)
    digit = row["id_number"][17]
    wrong = "0" if digit != "0" else "1"
    return {**row, "id_number": row["id_number"][:17] + wrong}


def _birth_mismatch(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    birth = dt.date.fromisoformat(row["birth_date"]) - dt.timedelta(days=1)
    if not row["id_number"]:
        return _dates_out_of_order(row, _prev, _rng)
    return {**row, "birth_date": birth.isoformat()}


def _sex_mismatch(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    if not row["id_number"]:
        return _bad_sex(row, _prev, _rng)
    return {**row, "sex": "F" if row["sex"] == "M" else "M"}


def _bad_sex(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {**row, "sex": "X"}


def _unknown_offence(row: Row, _prev: Row | None, rng: random.Random) -> Row:
    return {**row, "offence_code": f"NO-SUCH-{rng.randint(100, 999)}"}


def _kind_mismatch(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    code = "CL-264-THEFT" if row["kind"] != "criminal" else "PSAPL-49-THEFT"
    return {**row, "offence_code": code}


def _dates_out_of_order(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    decision = dt.date.fromisoformat(row["offence_date"]) - dt.timedelta(days=1)
    return {**row, "decision_date": decision.isoformat(), "completion_date": ""}


def _completion_before_decision(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    done = dt.date.fromisoformat(row["decision_date"]) - dt.timedelta(days=1)
    return {**row, "completion_date": done.isoformat()}


def _negative_amount(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    for column in ("fine_yuan", "detention_days", "sentence_months"):
        if row[column]:
            return {**row, column: "-" + row[column]}
    return {
        **row,
        "kind": "admin_violation",
        "offence_code": "PSAPL-49-THEFT",
        "disposition": "fine",
        "fine_yuan": "-200",
        "detention_days": "",
        "sentence_months": "",
    }


def _inconsistent_amount(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {
        **row,
        "kind": "admin_violation",
        "offence_code": "PSAPL-43-BEAT",
        "disposition": "warning",
        "detention_days": "5",
        "sentence_months": "",
        "fine_yuan": "",
    }


def _amount_out_of_range(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {
        **row,
        "kind": "admin_violation",
        "offence_code": "PSAPL-43-BEAT",
        "disposition": "detention",
        "detention_days": "45",
        "sentence_months": "",
        "fine_yuan": "",
    }


def _fractional_amount(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {
        **row,
        "kind": "admin_violation",
        "offence_code": "PSAPL-49-THEFT",
        "disposition": "fine",
        "fine_yuan": "200.5",
        "detention_days": "",
        "sentence_months": "",
    }


def _unknown_disposition(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {**row, "disposition": "banishment"}


def _duplicate_key(row: Row, prev: Row | None, rng: random.Random) -> Row:
    if prev is None:
        return _unknown_offence(row, prev, rng)
    # Same natural key as an earlier good row, different content.
    return {**prev, "name": prev["name"] + "某"}


def _bad_date(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    day = dt.date.fromisoformat(row["offence_date"])
    return {**row, "offence_date": f"{day.day:02d}/{day.month:02d}/{day.year}"}


def _future_decision(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {**row, "decision_date": "2999-01-01", "completion_date": ""}


def _missing_name(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {**row, "name": ""}


def _missing_identity(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {**row, "id_number": "", "alt_id": ""}


def _bad_alt_id(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {**row, "id_number": "", "alt_id": "passport number 123"}


def _bad_status(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    return {**row, "status": "pending"}


def _offence_before_birth(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    birth = dt.date.fromisoformat(row["birth_date"]) - dt.timedelta(days=30)
    return {**row, "offence_date": birth.isoformat()}


def _bad_region(row: Row, _prev: Row | None, _rng: random.Random) -> Row:
    if not row["id_number"]:
        return _bad_alt_id(row, _prev, _rng)
    return {**row, "id_number": with_check_digit("990000" + row["id_number"][6:17])}


_KINDS: dict[str, Callable[[Row, Row | None, random.Random], Row]] = {
    "bad_check_digit": _flip_check_digit,
    "birth_date_mismatch": _birth_mismatch,
    "sex_mismatch": _sex_mismatch,
    "bad_sex": _bad_sex,
    "unknown_offence": _unknown_offence,
    "kind_mismatch": _kind_mismatch,
    "decision_before_offence": _dates_out_of_order,
    "completion_before_decision": _completion_before_decision,
    "offence_before_birth": _offence_before_birth,
    "negative_amount": _negative_amount,
    "inconsistent_amount": _inconsistent_amount,
    "amount_out_of_range": _amount_out_of_range,
    "fractional_amount": _fractional_amount,
    "unknown_disposition": _unknown_disposition,
    "duplicate_key_different_content": _duplicate_key,
    "bad_date_format": _bad_date,
    "future_decision": _future_decision,
    "missing_name": _missing_name,
    "missing_identity": _missing_identity,
    "bad_alt_id": _bad_alt_id,
    "bad_status": _bad_status,
    "unknown_region": _bad_region,
}
CORRUPTIONS = tuple(_KINDS)


def corrupt(name: str, row: Row, previous_good: Row | None, rng: random.Random) -> Row:
    """A broken copy of `row` (or, for duplicate keys, of the previous good row)."""
    return _KINDS[name](row, previous_good, rng)
