"""The record-at-a-time evaluator: one person's records in, one decision per record out.

It runs on ingest (a new record is decided the moment it is stored) and for `veil seal
explain`. The batch sweep (`compile.py`) must reach the same decisions; a property test
holds the two together.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from veil.sealing.expr import (
    COMPARE,
    Aggregate,
    Arith,
    AsOf,
    BoolOp,
    Coalesce,
    Column,
    Compare,
    Const,
    Derived,
    Expr,
    IfElse,
    In,
    IsNull,
    Not,
    PersonFact,
    Value,
)
from veil.sealing.facts import FactRef, RecordFacts, facts_json, facts_used
from veil.sealing.pack import REVOKED, Rule, RuleSet


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one record stands as of a date, and why."""

    state: str
    rule_id: str | None
    facts: str  # canonical JSON, see facts.facts_json


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(slots=True)
class _Env:
    record: RecordFacts
    others: Sequence[RecordFacts]
    as_of: dt.date
    other: RecordFacts | None = None
    person: dict[PersonFact, Value] = field(default_factory=dict)
    derived: dict[tuple[str, str], Value] = field(default_factory=dict)  # of `record`


Compiled = Callable[[_Env], Value]


def _both(first: Compiled, second: Compiled) -> Compiled:
    return lambda env: bool(first(env)) and bool(second(env))


def _either(first: Compiled, second: Compiled) -> Compiled:
    return lambda env: bool(first(env)) or bool(second(env))


class Evaluator:
    """The rule set compiled once into Python closures."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._rules = [(rule, self._compile(rule.when)) for rule in ruleset.rules]
        self._facts = {rule.id: self._fact_getters(rule) for rule in ruleset.rules}

    def evaluate_person(
        self, records: Iterable[RecordFacts], as_of: dt.date
    ) -> dict[int, Decision]:
        """Decisions for one person's records decided on or before `as_of`.

        Records decided later do not exist yet as of that date; revoked records exist for
        no purpose and are purged.
        """
        known = [r for r in records if r.decision_date <= as_of]
        effective = [r for r in known if r.status == "effective"]
        decisions: dict[int, Decision] = {}
        for record in known:
            if record.status != "effective":
                decisions[record.pk] = Decision(
                    "purged", REVOKED, facts_json({"status": record.status})
                )
                continue
            others = [o for o in effective if o.pk != record.pk]
            decisions[record.pk] = self.decide(_Env(record, others, as_of))
        return decisions

    def decide(self, env: _Env) -> Decision:
        for rule, condition in self._rules:
            if condition(env):
                values = {name: getter(env) for name, getter in self._facts[rule.id]}
                return Decision(rule.state, rule.id, facts_json(values))
        return Decision("open", None, facts_json({}))

    def _fact_getters(self, rule: Rule) -> list[tuple[str, Compiled]]:
        def getter(ref: FactRef) -> Compiled:
            if ref.kind == "column":
                return self._compile(Column("record", ref.name))
            if ref.kind == "derived":
                return self._compile(Derived("record", ref.pack, ref.name))
            return self._compile(PersonFact(ref.pack, ref.name))

        return [(ref.name, getter(ref)) for ref in facts_used(rule, self.ruleset)]

    def _compile(self, expr: Expr) -> Compiled:
        c = self._compile
        match expr:
            case Const(value):
                return lambda env: value
            case Column("record", name):
                get = operator.attrgetter(name)
                return lambda env: get(env.record)
            case Column(_, name):
                get = operator.attrgetter(name)
                return lambda env: get(env.other)
            case Derived(scope, pack, name):
                body = self._derived(pack, name)
                key = (pack, name)
                if scope == "record":
                    # Rules read the same derived fact of the record again and again.
                    def of_record(env: _Env) -> Value:
                        if key not in env.derived:
                            env.derived[key] = body(env.record, env.as_of)
                        return env.derived[key]

                    return of_record
                return lambda env: body(env.other, env.as_of)  # type: ignore[arg-type]
            case PersonFact():
                return self._person_fact(expr)
            case AsOf(years):
                return lambda env: years_before(env.as_of, years)
            case Compare(op, left, right):
                compare, lhs, rhs = COMPARE[op], c(left), c(right)

                def compared(env: _Env) -> bool:
                    a, b = lhs(env), rhs(env)
                    return a is not None and b is not None and compare(a, b)

                return compared
            case IsNull(operand, negated):
                inner = c(operand)
                if negated:
                    return lambda env: inner(env) is not None
                return lambda env: inner(env) is None
            case In(operand, values):
                inner, allowed = c(operand), frozenset(values)
                return lambda env: (v := inner(env)) is not None and v in allowed
            case BoolOp(op, operands):
                # A chain of closures, not all()/any() over a generator: this runs for
                # every record of every ingest, and the generator costs more than the tests.
                parts = [c(o) for o in operands]
                chained = parts[-1]
                for part in reversed(parts[:-1]):
                    chained = _both(part, chained) if op == "and" else _either(part, chained)
                return chained
            case Not(operand):
                inner = c(operand)
                return lambda env: not inner(env)
            case Arith(op, left, right):
                lhs, rhs = c(left), c(right)
                sign = 1 if op == "+" else -1

                def arith(env: _Env) -> Value:
                    a, b = lhs(env), rhs(env)
                    if a is None or b is None:
                        return None
                    return a + sign * b  # type: ignore[operator]

                return arith
            case IfElse(condition, then, otherwise):
                test, yes, no = c(condition), c(then), c(otherwise)
                return lambda env: yes(env) if test(env) else no(env)
            case Coalesce(operands):
                parts = [c(o) for o in operands]
                return lambda env: next((v for p in parts if (v := p(env)) is not None), None)
            case Aggregate():
                return self._aggregate(expr)
        raise TypeError(f"cannot evaluate {expr!r}")

    @cache  # noqa: B019 - one evaluator per rule set, kept for its life
    def _derived(self, pack: str, name: str) -> Callable[[RecordFacts, dt.date], Value]:
        body = self._compile(self.ruleset.derived(pack, name))
        return lambda target, as_of: body(_Env(target, (), as_of))

    def _person_fact(self, fact: PersonFact) -> Compiled:
        value = self._compile(self.ruleset.person_fact(fact))

        def cached(env: _Env) -> Value:
            if fact not in env.person:
                env.person[fact] = value(env)
            return env.person[fact]

        return cached

    def _aggregate(self, aggregate: Aggregate) -> Compiled:
        inner = self._compile(aggregate.expr)
        test = self._compile(aggregate.condition) if aggregate.condition else None

        def chosen(env: _Env) -> list[RecordFacts]:
            picked = []
            for other in env.others:
                scoped = _Env(env.record, env.others, env.as_of, other, env.person, env.derived)
                if test is None or test(scoped):
                    picked.append(other)
            return picked

        def values(env: _Env) -> list[Value]:
            return [
                inner(_Env(env.record, env.others, env.as_of, o, env.person, env.derived))
                for o in chosen(env)
            ]

        if aggregate.func == "sum":
            return lambda env: sum(v for v in values(env) if v is not None)  # type: ignore[misc]
        return lambda env: any(v is True for v in values(env))
