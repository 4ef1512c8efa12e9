"""The set-at-a-time evaluator: rule packs compiled to one SQL query per engine.

The rules become an Ibis expression, and Ibis (through SQLGlot) writes it in the dialect
of each engine: SQLite, PostgreSQL, DuckDB, and PySpark's Spark SQL. Adding an engine is
naming its dialect, not writing another query. Two things keep the SQL portable: date
arithmetic happens only on the constant as-of date, folded here into a literal (engines
disagree on date functions, and SQLite has none that SQLGlot reliably emits), and
comparisons that could be unknown are made false, as the row evaluator does.

The query reads the records table and the current-state table, and returns only the
records whose state or rule changes, with the event to append for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from veil.sealing.evaluate import years_before
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
    children,
    walk,
)
from veil.sealing.facts import (
    RECORDS_SCHEMA,
    STATES_SCHEMA,
    facts_json,
    facts_used,
)
from veil.sealing.pack import COLUMNS, REVOKED, Rule, RuleSet

# Rule indexes that are not a rule of the rule set: no rule applies, the record is
# revoked, or (for a current state) its rule is no longer in force.
OPEN, PURGED, GONE = -2, -1, -3
# Within `decide` only: a record decided with the person facts, not in the pass over all.
_CANDIDATE = -4
DIALECTS = ("sqlite", "postgres", "duckdb", "pyspark")
# Engines on which the records some rule reads a person fact for are decided apart from
# all the others (`_Compiler.decide`). Measured, alternating in one process: on DuckDB
# (10 M records, a first sweep) 1.59 s apart against 2.44 s joined; on SQLite (1 M
# records, a full re-sweep) 2.4 s apart against 1.3 s joined, so not there.
DECIDED_APART = frozenset({"duckdb"})

Accessor = Callable[[str], ir.Value]


@dataclass(frozen=True)
class Tables:
    """Where the engine finds the records and the current states."""

    records: str = "records"
    states: str = "seal_states"


@lru_cache(maxsize=64)
def changes_sql(
    ruleset: RuleSet,
    as_of: dt.date,
    dialect: str,
    *,
    tables: Tables = Tables(),
    records: tuple[int, int] | None = None,
    compact: bool = False,
) -> str:
    """SQL selecting one new event (QUERY_COLUMNS) per record whose decision changes.

    `records` limits the records decided to an inclusive range of record ids; the
    aggregates over each person's other records still read all of them. A `compact`
    event is only (record_pk, rule_index, facts): the state, rule id, statute and article
    follow from the rule index (`outcomes`), the as-of date from the sweep, and the facts
    are None where they too follow from the index (`constant_facts`).
    """
    apart = dialect in DECIDED_APART
    expr = changes(ruleset, as_of, tables=tables, records=records, compact=compact, apart=apart)
    return str(ibis.to_sql(expr, dialect=dialect))


def changes(
    ruleset: RuleSet,
    as_of: dt.date,
    *,
    tables: Tables = Tables(),
    records: tuple[int, int] | None = None,
    compact: bool = False,
    apart: bool = False,
) -> ir.Table:
    """`changes_sql`'s query; `apart`, the records some rule reads a person fact for
    decided apart from the others (`_Compiler.decide`)."""
    table = ibis.table(RECORDS_SCHEMA, name=tables.records)
    known = table.filter(table.decision_date <= as_of)
    subset = known if records is None else known.filter(known.id.between(*records))
    compiler = _Compiler(ruleset, as_of, apart=apart)
    # Compare rule indexes, not texts, and build an event only for the records that
    # change: on a re-sweep that is a fraction of a percent of them.
    current = ibis.table(STATES_SCHEMA, name=tables.states).select("record_pk", "rule_id")
    was = ibis.cases(
        (current.rule_id.isnull(), OPEN),
        (current.rule_id == REVOKED, PURGED),
        *((current.rule_id == rule.id, i) for i, rule in enumerate(ruleset.rules)),
        else_=GONE,
    )

    def changed(decided: ir.Table) -> ir.Table:
        joined = decided.left_join(current, decided.id == current.record_pk)
        kept = joined.filter(current.record_pk.isnull() | (decided.rule_index != was))
        return kept.select(*decided.columns)

    # Each part is compared with the current states, and its events built with only the
    # rule indexes it can hold, before the parts are put together (SQLite cannot join a
    # UNION ALL without writing it out first: 1 M records, a full re-sweep took 1.3 s
    # with the parts compared first, 2.5 s with the union compared).
    parts = [
        compiler.events(changed(part), compact=compact, holds=holds)
        for part, holds in compiler.decide(subset, known)
    ]
    together = parts[0]
    for part in parts[1:]:
        together = together.union(part, distinct=False)
    return together


def outcomes(ruleset: RuleSet) -> dict[int, tuple[str, str | None]]:
    """The state and rule id each rule index decides: what an event records, and how a
    compact event's index is read back."""
    decided: dict[int, tuple[str, str | None]] = {PURGED: ("purged", REVOKED), OPEN: ("open", None)}
    decided.update((i, (rule.state, rule.id)) for i, rule in enumerate(ruleset.rules))
    return decided


@lru_cache(maxsize=64)
def constant_facts(ruleset: RuleSet, as_of: dt.date) -> dict[int, str]:
    """The facts text of each rule index whose facts are the same for every record it
    decides (no rule applies: `{}`; a rule whose condition pins every fact it records). A
    compact event carries no text for these: like the state, it follows from the index."""
    compiler = _Compiler(ruleset, as_of)
    found = {OPEN: "{}"}
    for i, rule in enumerate(ruleset.rules):
        try:
            text = compiler.facts_text(rule, _reads_a_record).op()
        except _ReadsRecord:
            continue
        if isinstance(text, ops.Literal):  # else computed, if from constants alone
            found[i] = str(text.value)
    return found


class _ReadsRecord(Exception):
    pass


def _reads_a_record(name: str) -> ir.Value:
    raise _ReadsRecord(name)


def record_value(ruleset: RuleSet, expr: Expr, table: ir.Table) -> ir.Value:
    """`expr`, a value of one record that does not read `as_of`, on each row of `table`,
    compiled as the sweep compiles it (a column or derived fact of `other` reads the row too).
    """
    row: Accessor = table.__getitem__
    return _Compiler(ruleset, dt.date.min).value(expr, row, row)


class _Compiler:
    def __init__(self, ruleset: RuleSet, as_of: dt.date, *, apart: bool = False) -> None:
        self.ruleset = ruleset
        self.as_of = as_of
        self.apart = apart

    def decide(self, subset: ir.Table, known: ir.Table) -> list[tuple[ir.Table, set[int] | None]]:
        """`subset` of the `known` records with the index of the rule that decides each, in
        parts that together hold each record once, each with the indexes it can hold (None:
        any).

        The person facts (aggregates over a person's other records) are computed only for
        the records some rule reads them for (`_guard`), the candidates. Joined onto every
        record, they are the values with no others where a record is not a candidate.
        With `apart`, only the candidates are decided with them, and every other record
        in the one pass over `subset` by the rules that read no person fact (the only
        rules that can hold for it), in a part of its own. Joining the aggregates onto
        every record instead cost a third of a first sweep on DuckDB (10 M records: the
        join's probe and the filled columns, 0.6 of 4.1 CPU-s, most of it for records that
        no rule reading a person fact can decide).
        """
        rules = self.ruleset.rules
        numbered = [(i, _conjuncts(rule.when)) for i, rule in enumerate(rules)]
        reading = any(_reads_person_facts(rule.when) for rule in rules)
        facts = self.ruleset.person_facts() if reading else []
        guard = self._guard(subset.__getitem__) if facts else None
        if guard is None or not self.apart:
            # Also where there are no person facts, or some rule reads them for every record.
            mine = subset.filter(subset.status == "effective")
            candidates = mine if guard is None else mine.filter(guard)
            full = self._with_person_facts(subset, candidates, known, facts) if facts else subset
            revoked = full.status != "effective"
            decided = full.mutate(rule_index=self._first_rule(numbered, full.__getitem__, revoked))
            return [(decided, None)]
        candidates = subset.filter((subset.status == "effective") & guard)
        full = self._with_person_facts(candidates, candidates, known, facts)
        full = full.mutate(rule_index=self._first_rule(numbered, full.__getitem__))
        plain = [(i, parts) for i, parts in numbered if not _reads_person_facts(rules[i].when)]

        def one_pass(records: ir.Table, guarded: ir.BooleanValue | None) -> ir.Table:
            rest = self._first_rule(plain, records.__getitem__) if plain else ibis.literal(OPEN)
            revoked = (records.status != "effective", PURGED)
            if guarded is None:  # no candidate among them
                return records.mutate(rule_index=ibis.cases(revoked, else_=rest))
            index = ibis.cases(revoked, (guarded, _CANDIDATE), else_=rest)
            alone = records.mutate(rule_index=index)
            return alone.filter(alone.rule_index != _CANDIDATE)

        kinds = self._candidate_kinds()
        if kinds is None:
            alone = one_pass(subset, guard)
        else:
            # Records of a kind no candidate has are decided without asking the guard, and
            # (over an export whose row groups each hold one kind) read apart from the
            # others: 10 M records, a first sweep, 0.85 s against 0.92 s (min of six,
            # alternating; docs/performance.md, 2026-12-04).
            of_kind = subset.kind.isin(sorted(kinds, key=str))
            others = subset.filter(subset.kind.isnull() | ~of_kind)
            mine = subset.filter(of_kind)
            alone = one_pass(others, None).union(one_pass(mine, self._guard(mine.__getitem__)))
        return [(alone, {PURGED, OPEN, *(i for i, _ in plain)}), (full, {OPEN, *range(len(rules))})]

    def _candidate_kinds(self) -> set[Value] | None:
        """The kinds every candidate has, if each rule that reads a person fact asks for one
        (`record.kind == ...` among its tests); else None."""
        kinds: set[Value] = set()
        for rule in self.ruleset.rules:
            if _reads_person_facts(rule.when):
                kind = _pinned(rule.when, self.ruleset).get(("column", "kind"))
                if kind is None:
                    return None
                kinds.add(kind)
        return kinds

    def _first_rule(
        self,
        numbered: list[tuple[int, list[Expr]]],
        rec: Accessor,
        revoked: ir.BooleanValue | None = None,
        *,
        grouped: bool = True,
    ) -> ir.IntegerValue:
        """The index of the first rule of `numbered` (index, its condition's conjuncts) whose
        conjuncts all hold; PURGED where `revoked`; else OPEN.

        With `grouped`, rules in a row whose conditions begin with the same test ask it
        once: `WHEN test THEN (the first of their other tests, then of the rules after
        them, that holds)`. An engine asks each WHEN of every record not decided yet, so
        CPL art. 286's three rules asked `kind = 'criminal'` of almost every record three
        times (10 M records on DuckDB: 0.15 s of a 2.1-2.8 s first sweep).
        """
        branches: list[tuple[Any, Any]] = [] if revoked is None else [(revoked, PURGED)]
        start = 0
        while start < len(numbered):
            index, parts = numbered[start]
            end = start + 1
            while (
                grouped
                and len(parts) > 1
                and end < len(numbered)
                and len(numbered[end][1]) > 1
                and numbered[end][1][0] == parts[0]
            ):
                end += 1
            if end - start > 1:
                rest = [(i, ps[1:]) for i, ps in numbered[start:end]] + numbered[end:]
                inner = self._first_rule(rest, rec, grouped=False)
                branches.append((self.value(parts[0], rec), inner))
            else:
                branches.append((self.value(BoolOp("and", tuple(parts)), rec), index))
            start = end
        return ibis.cases(*branches, else_=OPEN)

    def events(
        self, decided: ir.Table, *, compact: bool = False, holds: set[int] | None = None
    ) -> ir.Table:
        """The event (QUERY_COLUMNS, or compact: record_pk, rule_index, facts) for each
        decided record, whose rule index is one of `holds` (default: any)."""
        rules = self.ruleset.rules
        index = decided.rule_index
        decides = outcomes(self.ruleset)
        possible = set(decides) if holds is None else holds

        def pick(values: list[Any], on_purged: Any, on_open: Any) -> ir.Value:
            # Only the branches the part can take, and none that gives what `else` gives
            # (None for most compact facts): an engine asks each WHEN of every record.
            typed = ibis.literal(on_open, type="string") if on_open is None else on_open
            branches = [
                (index == i, v)
                for i, v in [(PURGED, on_purged), *enumerate(values)]
                if i in possible and not (v is None and on_open is None)
            ]
            return ibis.cases(*branches, else_=typed) if branches else typed

        def decided_as(part: int) -> ir.Value:  # of `outcomes`: 0 the state, 1 the rule id
            values = [decides[i][part] for i in range(len(rules))]
            return pick(values, decides[PURGED][part], decides[OPEN][part])

        rec: Accessor = decided.__getitem__
        # Only the texts of rules the part can hold: a part without the person facts has
        # no columns for the rules that read them.
        texts = [
            self.facts_text(rule, rec, joined=compact) if i in possible else None
            for i, rule in enumerate(rules)
        ]
        purged = ibis.literal('{"status":"').concat(decided.status, ibis.literal('"}'))
        if compact:
            # On DuckDB the texts of the state, rule and citation, written for every
            # record, cost more than deciding it: a first sweep of 10 M records took
            # 4.1 s with them and 2.9 s without. Facts texts that follow from the rule
            # index are left out the same way (`constant_facts`; 10 M records: 0.15-0.2 s
            # of about 3 s).
            constant = constant_facts(self.ruleset, self.as_of)
            compact_texts = [None if i in constant else t for i, t in enumerate(texts)]
            facts = pick(compact_texts, purged, None)
            return decided.select(record_pk=decided.id, rule_index=index, facts=facts)
        facts = pick(texts, purged, "{}")
        return decided.select(
            record_pk=decided.id,
            state=decided_as(0),
            rule_id=decided_as(1),
            statute=pick([r.statute_en for r in rules], None, None),
            article=pick([r.article for r in rules], None, None),
            as_of=ibis.literal(self.as_of),
            facts=facts,
        )

    def _with_person_facts(
        self, base: ir.Table, candidates: ir.Table, known: ir.Table, facts: list[PersonFact]
    ) -> ir.Table:
        """`base` with one column per person fact, aggregated over the `known` effective
        others of its `candidates` (a part of `base`, or `base` itself); the value with no
        others elsewhere."""
        effective = known.filter(known.status == "effective")
        bodies = {f: self.ruleset.person_fact(f) for f in facts}
        # Only others some aggregate can count take part in the self-join: most records
        # are not.
        others = effective.select(**{f"o_{c}": effective[c] for c in RECORDS_SCHEMA})
        other_guard = self._other_guard(bodies, others)
        if other_guard is not None:
            others = others.filter(other_guard)
        # `others` first: where `base` is `candidates`, the two joins then read them as
        # one relation, which Ibis writes once as a CTE (with `candidates` first in both,
        # it wrote the subquery twice, and DuckDB scanned the records for it twice).
        pairs = others.join(
            candidates,
            [candidates.person_id == others.o_person_id, candidates.id != others.o_id],
        )
        rec: Accessor = pairs.__getitem__
        oth: Accessor = lambda name: pairs[f"o_{name}"]  # noqa: E731
        aggregated = pairs.group_by(pf_id=pairs.id).aggregate(
            **{_column(f): self._aggregate(bodies[f], rec, oth) for f in facts}
        )
        joined = base.left_join(aggregated, base.id == aggregated.pf_id)
        return joined.select(*[base[c] for c in RECORDS_SCHEMA], **self._filled(joined, facts))

    def _filled(self, table: ir.Table, facts: list[PersonFact]) -> dict[str, ir.Value]:
        """The person facts' columns of `table`, missing ones given their value where no
        other record counts: a sum's 0, an any's false."""
        filled = {}
        for fact in facts:
            none = 0 if _aggregate(self.ruleset.person_fact(fact)).func == "sum" else False
            filled[_column(fact)] = table[_column(fact)].fill_null(ibis.literal(none))
        return filled

    def _guard(self, rec: Accessor) -> ir.BooleanValue | None:
        """Records for which any rule reads a person fact: OR of those rules' other tests;
        None if some such rule has no other test (every record is one)."""
        guards: list[Expr] = []
        for rule in self.ruleset.rules:
            if not _reads_person_facts(rule.when):
                continue
            plain = [c for c in _conjuncts(rule.when) if not _reads_person_facts(c)]
            if not plain:
                return None
            guards.append(BoolOp("and", tuple(plain)))
        return self._any_of(guards, rec)

    def _other_guard(self, bodies: dict[PersonFact, Expr], others: ir.Table) -> Any:
        """Others any aggregate can count: OR of each one's tests on `other` alone."""
        oth: Accessor = lambda name: others[f"o_{name}"]  # noqa: E731
        guards: list[Expr] = []
        for body in map(_aggregate, bodies.values()):
            tests = _conjuncts(body.condition) if body.condition is not None else []
            if body.func == "any":  # an other counts only where its expression holds too
                tests += _conjuncts(body.expr)
            alone = [t for t in tests if not _reads_record(t)]
            if not alone:
                return None
            guards.append(BoolOp("and", tuple(alone)))
        return self._any_of(guards, _no_record, oth)

    def _any_of(self, tests: list[Expr], rec: Accessor, oth: Accessor | None = None) -> Any:
        """OR of `tests`, each asked once: CPL art. 286's three rules share the same tests
        of the record, which an engine would otherwise ask three times of every record."""
        unique = list(dict.fromkeys(tests))
        if not unique:
            return ibis.literal(False)
        return self.value(unique[0] if len(unique) == 1 else BoolOp("or", tuple(unique)), rec, oth)

    def _aggregate(self, expr: Expr, rec: Accessor, oth: Accessor) -> ir.Value:
        body = _aggregate(expr)
        test = self.value(body.condition, rec, oth) if body.condition else ibis.literal(True)
        inner = self.value(body.expr, rec, oth)
        if body.func == "sum":
            return ibis.ifelse(test, inner, ibis.null(inner.type())).sum()
        return ibis.ifelse(test & inner, 1, 0).max() == 1

    def facts_text(self, rule: Rule, rec: Accessor, *, joined: bool = False) -> ir.StringValue:
        """The rule's facts as the same canonical JSON text `facts.facts_json` writes;
        `joined`, as one CONCAT_WS (DuckDB's compact events; SQLite has it only from 3.44).

        A fact the rule's own condition pins (`record.kind == 'admin_violation'`, a
        boolean fact the condition requires, `_pinned`) is written as its value, so that
        for most rules the whole text is one literal, which engines write without building
        a string per record, and the others build less.
        """
        pinned = _pinned(rule.when, self.ruleset)
        parts: list[str | ir.StringValue] = ["{"]
        for n, ref in enumerate(facts_used(rule, self.ruleset)):
            parts.append(("," if n else "") + f'"{ref.name}":')
            if (ref.kind, ref.name) in pinned:
                parts.append(facts_json({"": pinned[(ref.kind, ref.name)]})[4:-1])
                continue
            if ref.kind == "column":
                value, nullable = rec(ref.name), COLUMNS[ref.name]
            elif ref.kind == "derived":
                derived = Derived("record", ref.pack, ref.name)
                value, nullable = self.value(derived, rec), self.may_be_null(derived)
            else:
                value, nullable = rec(_column(PersonFact(ref.pack, ref.name))), False
            parts.append(_json(value, nullable=nullable))
        parts.append("}")
        pieces: list[ir.StringValue] = []
        literal = ""
        for part in parts:
            if isinstance(part, str):
                literal += part
                continue
            if literal:
                pieces.append(ibis.literal(literal))
                literal = ""
            pieces.append(part)
        if literal:
            pieces.append(ibis.literal(literal))
        if len(pieces) == 1:
            return pieces[0]
        if joined:
            # One CONCAT_WS(''...) builds the text once; `a || b || ...` builds every
            # prefix (10 M records on DuckDB: 0.2-0.3 s of a 3.1-3.3 s first sweep). No
            # piece is ever NULL (`_json` writes `null`), so skipping NULLs changes nothing.
            return ibis.literal("").join(pieces)
        return pieces[0].concat(*pieces[1:])

    def value(self, expr: Expr, rec: Accessor, oth: Accessor | None = None) -> Any:
        def v(e: Expr) -> Any:
            return self.value(e, rec, oth)

        match expr:
            case Const(None):
                return ibis.null()
            case Const(value):
                return ibis.literal(value)
            case Column("record", name):
                return rec(name)
            case Column(_, name):
                return _other(oth)(name)
            case Derived(scope, pack, name):
                target = rec if scope == "record" else _other(oth)
                return self.value(self.ruleset.derived(pack, name), target)
            case PersonFact():
                return rec(_column(expr))
            case AsOf(years):
                return ibis.literal(years_before(self.as_of, years))
            case Compare(op, left, right):
                result = COMPARE[op](v(left), v(right))
                return self._definite(result, left, right)
            case IsNull(operand, negated):
                inner = v(operand)
                return inner.notnull() if negated else inner.isnull()
            case In(operand, values):
                return self._definite(v(operand).isin(list(values)), operand)
            case BoolOp(op, operands):
                parts = [v(o) for o in operands]
                combined = parts[0]
                for p in parts[1:]:
                    combined = combined & p if op == "and" else combined | p
                return combined
            case Not(operand):
                return ~v(operand)
            case Arith(op, left, right):
                return v(left) + v(right) if op == "+" else v(left) - v(right)
            case IfElse(condition, then, otherwise):
                return ibis.ifelse(v(condition), v(then), v(otherwise))
            case Coalesce(operands):
                return ibis.coalesce(*[v(o) for o in operands])
        raise TypeError(f"cannot compile {expr!r}")

    def _definite(self, test: Any, *operands: Expr) -> Any:
        """A test on operands that may be missing, with unknown read as false."""
        if any(self.may_be_null(o) for o in operands):
            return test.fill_null(False)
        return test

    def may_be_null(self, expr: Expr) -> bool:
        match expr:
            case Const(value):
                return value is None
            case Column(_, name):
                return COLUMNS[name]
            case Derived(_, pack, name):
                return self.may_be_null(self.ruleset.derived(pack, name))
            case Arith() | IfElse():
                parts = children(expr)[-2:]
                return any(self.may_be_null(p) for p in parts)
            case Coalesce(operands):
                return all(self.may_be_null(o) for o in operands)
        return False


def _column(fact: PersonFact) -> str:
    return f"pf_{fact.pack}_{fact.name}".replace("-", "_")


def _json(value: Any, *, nullable: bool) -> ir.StringValue:
    """One value as JSON text, the way `json.dumps` writes it (closed vocabularies only)."""
    dtype = value.type()
    if dtype.is_boolean():
        text = ibis.ifelse(value, "true", "false")
    elif dtype.is_integer():
        text = value.cast("string")
    else:
        # Strings here are codes from closed vocabularies (kinds, dispositions, offence
        # codes checked against the catalogue) and ISO dates: nothing needs escaping.
        text = ibis.literal('"').concat(value.cast("string"), ibis.literal('"'))
    return text.fill_null("null") if nullable else text


def _pinned(expr: Expr, ruleset: RuleSet) -> dict[tuple[str, str], Value]:
    """Facts of the record whose value a condition's top-level tests fix wherever the rule
    applies, by (kind, name) as `facts_used` names them: a column `==` a constant, a
    boolean derived or person fact asked bare (true) or negated (false), and the same
    inside a derived fact asked bare (an `and` that holds holds in every part)."""
    pinned: dict[tuple[str, str], Value] = {}
    for test in _conjuncts(expr):
        match test:
            case Compare("==", left, right):
                for column, const in ((left, right), (right, left)):
                    if (
                        isinstance(column, Column)
                        and column.scope == "record"
                        and isinstance(const, Const)
                        and const.value is not None
                    ):
                        pinned[("column", column.name)] = const.value
            case Derived("record", pack, name):
                pinned[("derived", name)] = True
                pinned.update(_pinned(ruleset.derived(pack, name), ruleset))
            case PersonFact(_, name):
                pinned[("person", name)] = True
            case Not(Derived("record", _, name)):
                pinned[("derived", name)] = False
            case Not(PersonFact(_, name)):
                pinned[("person", name)] = False
    return pinned


def _conjuncts(expr: Expr) -> list[Expr]:
    if isinstance(expr, BoolOp) and expr.op == "and":
        return [c for o in expr.operands for c in _conjuncts(o)]
    return [expr]


def _reads_person_facts(expr: Expr) -> bool:
    return any(isinstance(e, PersonFact | Aggregate) for e in walk(expr))


def _reads_record(expr: Expr) -> bool:
    return any(isinstance(e, Column | Derived) and e.scope == "record" for e in walk(expr))


def _aggregate(expr: Expr) -> Aggregate:
    if not isinstance(expr, Aggregate):
        raise TypeError("a person fact is one sum() or any()")  # the pack loader ensures it
    return expr


def _other(oth: Accessor | None) -> Accessor:
    if oth is None:
        raise TypeError("`other` read outside sum() or any()")  # the parser ensures it
    return oth


def _no_record(name: str) -> ir.Value:
    raise AssertionError(f"record.{name} read while filtering others")
