"""Which records can change when the as-of date moves: date windows read from the packs.

A decision depends on the as-of date X in two ways only (`compile.py`, `evaluate.py`):

- which records exist: those decided on or before X, the record itself as well as the
  person's other records its person facts count;
- each `as_of` (or `years_before(as_of, N)`) in a condition, once derived facts and person
  facts are expanded.

Between two dates A <= B the first changes only for records decided in (A, B]. For the
second: where `as_of` is one side of a comparison whose other side is a value of one
record (a column or derived fact of the record, or of one of the others an aggregate
reads), the comparison can be true at one date and false at the other only if that value
lies between `years_before(A, N)` and `years_before(B, N)`: a window on the record. Every
decision reads only its own person's records, so deciding again every record of every
person who has a record in some window (with the same rules and the same records)
decides again every record whose decision can differ at B from what it was at A.

Where the other side is a constant (`as_of >= in_force_date`), the comparison flips for
everyone when the constant lies in the window: no window can narrow that down. So can any
other use of `as_of` (inside `coalesce()`, as a value of an if-else, compared with another
`as_of`, with an aggregate, or with values of two records at once). For those,
`windows_between` raises FullSweepNeeded and the sweep decides every record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from veil.sealing.evaluate import years_before
from veil.sealing.expr import (
    Aggregate,
    AsOf,
    Column,
    Compare,
    Const,
    Derived,
    Expr,
    PersonFact,
    children,
    walk,
)
from veil.sealing.pack import RuleSet

# `as_of OP value` read the other way round: `value MIRROR[OP] as_of`.
MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class FullSweepNeeded(Exception):
    """The move of the as-of date may change records no window finds; the message says why."""


@dataclass(frozen=True)
class DateTest:
    """`value OP years_before(as_of, years)`, where `value` does not read `as_of`."""

    value: Expr  # of one record (its scope does not matter), or a constant
    op: str
    years: int
    where: str  # the rule or person fact it comes from, for messages


@dataclass(frozen=True)
class AsOfUses:
    """Every use of `as_of` in a rule set, after expanding derived and person facts."""

    tests: tuple[DateTest, ...]  # comparisons with a value of one record
    constants: tuple[DateTest, ...]  # comparisons with a constant
    unbounded: tuple[str, ...]  # where `as_of` is used in a way no window bounds


@dataclass(frozen=True)
class Window:
    """The records whose `value` lies between `low` and `high`, each end open or closed."""

    value: Expr
    low: dt.date
    high: dt.date
    low_open: bool
    high_open: bool

    def holds(self, value: object) -> bool:
        if not isinstance(value, dt.date):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


DECISION_DATE = Column("record", "decision_date")


def windows_between(ruleset: RuleSet, before: dt.date, after: dt.date) -> tuple[Window, ...]:
    """The windows of records whose persons a move from `before` to `after` can change.

    FullSweepNeeded if the move can change records that no window finds.
    """
    if after < before:
        raise FullSweepNeeded(f"{after} is before the last sweep's date {before}")
    if after == before:
        return ()
    uses = as_of_uses(ruleset)
    if uses.unbounded:
        raise FullSweepNeeded(f"as_of is used in a way no date window bounds: {uses.unbounded[0]}")
    # A record decided in (before, after] is unknown at `before` and known at `after`.
    found = [Window(DECISION_DATE, before, after, low_open=True, high_open=False)]
    for test in uses.tests:
        window = _window(test, before, after)
        if window is not None and window not in found:
            found.append(window)
    for test in uses.constants:
        window = _window(test, before, after)
        assert isinstance(test.value, Const)  # noqa: S101 - as_of_uses sorts them so
        if window is not None and window.holds(test.value.value):
            raise FullSweepNeeded(
                f"{test.where}: as_of moves across {test.value.value} between {before} and {after}"
            )
    return tuple(found)


def _window(test: DateTest, before: dt.date, after: dt.date) -> Window | None:
    """Where `value OP years_before(X, N)` can differ between X = before and X = after."""
    low, high = years_before(before, test.years), years_before(after, test.years)
    if low == high:  # e.g. 29 Feb and 28 Feb, N years on
        return None
    # `value <= t` is false at t = low and true at t = high exactly when low < value <= high;
    # `value < t` exactly when low <= value < high; the others likewise.
    if test.op in ("<=", ">"):
        return Window(test.value, low, high, low_open=True, high_open=False)
    if test.op in ("<", ">="):
        return Window(test.value, low, high, low_open=False, high_open=True)
    return Window(test.value, low, high, low_open=False, high_open=False)  # == and !=


@lru_cache(maxsize=16)
def as_of_uses(ruleset: RuleSet) -> AsOfUses:
    tests: list[DateTest] = []
    constants: list[DateTest] = []
    unbounded: list[str] = []

    def visit(expr: Expr, where: str) -> None:
        match expr:
            case Compare(op, left, right) if isinstance(left, AsOf) or isinstance(right, AsOf):
                if isinstance(right, AsOf):
                    value, years, normal = left, right.years_before, op
                else:
                    assert isinstance(left, AsOf)  # noqa: S101 - the case guard says so
                    value, years, normal = right, left.years_before, MIRROR[op]
                kind = _kind(value, ruleset)
                test = DateTest(value, normal, years, where)
                if kind == "record":
                    tests.append(test)
                elif kind == "constant":
                    constants.append(test)
                elif kind != "null":  # compared with None: false at every date
                    unbounded.append(f"{where}: {kind}")
                return
            case AsOf():
                unbounded.append(f"{where}: as_of outside a comparison")
                return
            case Derived(_, pack, name):
                visit(ruleset.derived(pack, name), where)
            case PersonFact(pack, name):
                visit(ruleset.person_fact(expr), f"person fact {pack}.{name}")
        for child in children(expr):
            visit(child, where)

    for rule in ruleset.rules:
        visit(rule.when, f"rule {rule.id}")
    return AsOfUses(tuple(tests), tuple(constants), tuple(unbounded))


def _kind(value: Expr, ruleset: RuleSet) -> str:
    """'record', 'constant' or 'null' for what a comparison with as_of can be bounded by;
    otherwise why it cannot."""
    if isinstance(value, Const):
        if value.value is None:
            return "null"
        return "constant" if isinstance(value.value, dt.date) else "as_of compared with a non-date"
    # A derived fact's body reads the record it is applied to: only that scope counts.
    scopes = {n.scope for n in walk(value) if isinstance(n, Column | Derived)}
    for node in _expanded(value, ruleset):
        if isinstance(node, AsOf):
            return "as_of compared with a value that reads as_of"
        if isinstance(node, PersonFact | Aggregate):
            return "as_of compared with an aggregate over the person's records"
    if not scopes:
        return "as_of compared with a computed constant"
    if len(scopes) > 1:
        return "as_of compared with a value of two records"
    return "record"


def _expanded(expr: Expr, ruleset: RuleSet) -> list[Expr]:
    """`expr` and everything inside it, derived facts' bodies included."""
    found = [expr]
    inner = children(expr)
    if isinstance(expr, Derived):
        inner = (ruleset.derived(expr.pack, expr.name),)
    for child in inner:
        found.extend(_expanded(child, ruleset))
    return found
