"""The persons an incremental sweep decides again, found in one pass over the records.

A person is a candidate when one of their records

- lies in one of the date windows of `windows.py` (decided since the last sweep's date,
  or holding a date that a condition compares with `as_of` within its window);
- was stored after the last sweep read the records (its id is above that sweep's mark);
- is no longer effective but its current state is not its purge (revoked since).

The persons whose seal state something else changed after the last sweep (the decisions
of an ingest, made as of its own day) are added by the store from those runs' events.
Every record of every candidate is then decided again by the compiled sweep itself.
"""

from __future__ import annotations

import operator
from functools import lru_cache, reduce

import ibis
import ibis.expr.types as ir

from veil.sealing.compile import Tables, record_value
from veil.sealing.facts import RECORDS_SCHEMA, STATES_SCHEMA
from veil.sealing.pack import REVOKED, RuleSet
from veil.sealing.windows import Window

STORE = Tables()


@lru_cache(maxsize=64)
def candidates_sql(
    ruleset: RuleSet,
    windows: tuple[Window, ...],
    dialect: str,
    *,
    mark: int,
    tables: Tables = STORE,
) -> str:
    """SQL selecting the `person_id` of every candidate (see the module's text), once per
    record that makes it one."""
    expr = candidates(ruleset, windows, mark=mark, tables=tables)
    return str(ibis.to_sql(expr, dialect=dialect))


def candidates(
    ruleset: RuleSet, windows: tuple[Window, ...], *, mark: int, tables: Tables = STORE
) -> ir.Table:
    records = ibis.table(RECORDS_SCHEMA, name=tables.records)
    states = ibis.table(STATES_SCHEMA, name=tables.states)
    purged = states.filter(states.rule_id == REVOKED).record_pk
    tests: list[ir.BooleanValue] = [
        records.id > mark,
        (records.status != "effective") & ~records.id.isin(purged),
    ]
    for window in windows:
        value = record_value(ruleset, window.value, records)
        above = value > window.low if window.low_open else value >= window.low
        below = value < window.high if window.high_open else value <= window.high
        # A missing value is in no window: the comparison it stands in is false at every date.
        tests.append(above & below)
    # Not DISTINCT: SQLite would then walk the person index and fetch each row from the
    # table at random, slower than a scan by half; the caller's insert drops repeats.
    return records.filter(reduce(operator.or_, tests)).select("person_id")
