"""The canonical record (SPEC section 2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

COLUMNS = (
    "source",
    "record_id",
    "id_number",
    "alt_id",
    "name",
    "birth_date",
    "sex",
    "kind",
    "offence_code",
    "offence_date",
    "decision_date",
    "completion_date",
    "disposition",
    "detention_days",
    "sentence_months",
    "fine_yuan",
    "status",
)
# The facts sealing rules read, stored in clear: `kind` up to `fine_yuan`.
FACT_COLUMNS = COLUMNS[COLUMNS.index("kind") : COLUMNS.index("status")]
RECORD_KINDS = ("admin_violation", "criminal", "drug_registration")
STATUSES = ("effective", "revoked")
SEXES = ("M", "F")
AMOUNT_COLUMNS = ("detention_days", "sentence_months", "fine_yuan")
IDENTITY_COLUMNS = ("id_number", "alt_id", "name", "birth_date", "sex")


@dataclass(frozen=True, slots=True)
class Record:
    source: str
    record_id: str
    id_number: str
    alt_id: str
    name: str
    birth_date: dt.date
    sex: str
    kind: str
    offence_code: str
    offence_date: dt.date
    decision_date: dt.date
    completion_date: dt.date | None
    disposition: str
    detention_days: int | None
    sentence_months: int | None
    fine_yuan: int | None
    status: str

    @property
    def person_key(self) -> str:
        """What links the record to a person: the ID number, else the alternative ID."""
        return self.id_number or self.alt_id

    @property
    def age_at_offence(self) -> int:
        """Whole years of age on the offence date."""
        b, o = self.birth_date, self.offence_date
        return o.year - b.year - ((o.month, o.day) < (b.month, b.day))

    def as_row(self) -> dict[str, str]:
        """The record as canonical text columns, as a CSV file would carry it."""
        return {f.name: _text(getattr(self, f.name)) for f in fields(self)}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
