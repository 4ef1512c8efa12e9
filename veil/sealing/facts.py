"""What the sealing rules read about a record, and the facts an event records.

Both evaluators produce the facts of a decision as the same canonical JSON text (sorted
keys, no spaces), so that their outputs can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from veil.sealing.expr import Column, Derived, Expr, PersonFact, Value, children
from veil.sealing.pack import Rule, RuleSet

STATES = ("open", "sealed", "unsealed", "purged")


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """One stored record as the rules see it: no identity, only clear facts."""

    pk: int
    person_id: int
    status: str
    kind: str
    offence_code: str
    offence_date: dt.date
    decision_date: dt.date
    completion_date: dt.date | None
    disposition: str
    detention_days: int | None
    sentence_months: int | None
    fine_yuan: int | None
    age_at_offence: int


FACT_FIELDS = tuple(RecordFacts.__slots__)

# The tables every engine's sweep reads, as Ibis types.
RECORDS_SCHEMA = {
    "id": "int64",
    "person_id": "int64",
    "status": "string",
    "kind": "string",
    "offence_code": "string",
    "offence_date": "date",
    "decision_date": "date",
    "completion_date": "date",
    "disposition": "string",
    "detention_days": "int64",
    "sentence_months": "int64",
    "fine_yuan": "int64",
    "age_at_offence": "int64",
}
STATES_SCHEMA = {"record_pk": "int64", "state": "string", "rule_id": "string"}
# The columns of an appended event; the query returns all but the run id, so that one
# compiled query serves every run with the same rules and date.
EVENT_COLUMNS = ("run_id", "record_pk", "state", "rule_id", "statute", "article", "as_of", "facts")
QUERY_COLUMNS = EVENT_COLUMNS[1:]


@dataclass(frozen=True)
class FactRef:
    """One entry of an event's facts: a column, a derived fact or a person fact."""

    kind: Literal["column", "derived", "person"]
    pack: str
    name: str


def facts_used(rule: Rule, ruleset: RuleSet) -> tuple[FactRef, ...]:
    """The facts of the record a rule reads, sorted by name: what its events record.

    Columns and derived facts of the record itself count, also those a derived fact reads;
    person facts count by their value. Facts of the person's other records do not.
    """
    found: dict[str, FactRef] = {}

    def visit(expr: Expr, *, inside_derived: bool) -> None:
        match expr:
            case Column("record", name):
                found.setdefault(name, FactRef("column", "", name))
            case Derived("record", pack, name):
                found.setdefault(name, FactRef("derived", pack, name))
                visit(ruleset.derived(pack, name), inside_derived=True)
            case PersonFact(pack, name) if not inside_derived:
                found.setdefault(name, FactRef("person", pack, name))
        if not isinstance(expr, PersonFact):
            for child in children(expr):
                visit(child, inside_derived=inside_derived)

    visit(rule.when, inside_derived=False)
    return tuple(found[name] for name in sorted(found))


def facts_json(values: dict[str, Value]) -> str:
    """The canonical text of an event's facts (keys sorted, no spaces, dates ISO)."""
    return _facts_text(tuple(values.items()))


@lru_cache(maxsize=4_096)
def _facts_text(items: tuple[tuple[str, Value], ...]) -> str:
    # Most events repeat a few texts ({"kind":"admin_violation"}): worth remembering.
    return json.dumps(dict(items), sort_keys=True, separators=(",", ":"), default=_iso)


def _iso(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not a fact value: {value!r}")
