"""The condition language of rule packs: a small, side-effect-free subset of Python syntax.

Conditions read like the law they encode, e.g.
`record.kind == 'criminal' and record.age_at_offence < adult_age`. They are parsed with
Python's own `ast` module (no `eval`: every node is checked against a whitelist and
turned into the tree below), then run by two back ends that must agree: the row evaluator
(`evaluate.py`) and the set-at-a-time compiler (`compile.py`).

Nulls have one meaning everywhere: a comparison or `in` with a missing operand is false,
arithmetic with a missing operand is missing, `sum` skips missing terms and is 0 over no
records, `any` over no records is false. (SQL's three-valued logic would make
`not (x < 5)` unknown where Python says true; the compiler turns unknown into false.)
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union

Scope = Literal["record", "other"]
Value = Union[int, str, bool, dt.date, tuple["Value", ...], None]  # noqa: UP007 - runtime alias
# What each comparison means; Python values and Ibis expressions both take these.
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Const:
    value: Value


@dataclass(frozen=True)
class Column:
    """A stored column of the record under evaluation or of one of the person's others."""

    scope: Scope
    name: str


@dataclass(frozen=True)
class Derived:
    """A pack's named derived fact (`facts:`), applied to the record or to another."""

    scope: Scope
    pack: str
    name: str


@dataclass(frozen=True)
class PersonFact:
    """A pack's named aggregate over the person's other records (`person_facts:`)."""

    pack: str
    name: str


@dataclass(frozen=True)
class AsOf:
    """The date the evaluation is as of, optionally a whole number of years before it.

    Date arithmetic is allowed on this constant only: engines disagree on date functions
    (SQLite has no interval type), while a constant folds to a plain date literal.
    """

    years_before: int = 0


@dataclass(frozen=True)
class Compare:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class IsNull:
    operand: Expr
    negated: bool


@dataclass(frozen=True)
class In:
    operand: Expr
    values: tuple[Value, ...]


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class Arith:
    op: Literal["+", "-"]
    left: Expr
    right: Expr


@dataclass(frozen=True)
class IfElse:
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True)
class Coalesce:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Aggregate:
    """`sum(EXPR for other in others if COND)` or `any(COND for other in others)`."""

    func: Literal["sum", "any"]
    expr: Expr
    condition: Expr | None


Expr = Union[  # noqa: UP007 - a runtime alias
    Const,
    Column,
    Derived,
    PersonFact,
    AsOf,
    Compare,
    IsNull,
    In,
    BoolOp,
    Not,
    Arith,
    IfElse,
    Coalesce,
    Aggregate,
]


class ExprError(ValueError):
    """A condition that is not valid in the rule language; the message says where."""


@dataclass(frozen=True)
class Names:
    """What bare and dotted names may refer to while parsing one expression."""

    pack: str
    columns: frozenset[str]
    derived: frozenset[str]
    person_facts: frozenset[str]
    parameters: dict[str, Value]
    relations: dict[str, Expr]
    categories: dict[str, tuple[str, ...]]  # category -> offence codes
    # In a derived fact, bare column names mean the fact's own record.
    bare_scope: Scope | None = None


def parse(text: str, names: Names, *, where: str, in_aggregate: bool = False) -> Expr:
    """Parse one condition or value expression; `where` names it in error messages.

    `in_aggregate` parses a relation: a condition on `record` and `other` that only ever
    runs inside `sum()` or `any()`.
    """
    try:
        tree = ast.parse(" ".join(text.split()), mode="eval")
    except SyntaxError as error:
        raise ExprError(f"{where}: not a valid expression ({error.msg})") from error
    return _Parser(names, where).node(tree.body, in_aggregate=in_aggregate)


class _Parser:
    def __init__(self, names: Names, where: str) -> None:
        self.names = names
        self.where = where

    def fail(self, message: str) -> ExprError:
        return ExprError(f"{self.where}: {message}")

    def node(self, node: ast.expr, *, in_aggregate: bool) -> Expr:
        def sub(n: ast.expr) -> Expr:
            return self.node(n, in_aggregate=in_aggregate)

        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, bool | int | str | dt.date):
                return Const(node.value)
            raise self.fail(f"unsupported constant {node.value!r}")
        if isinstance(node, ast.Name):
            return self.name(node.id, in_aggregate=in_aggregate)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, in_aggregate=in_aggregate)
        if isinstance(node, ast.BoolOp):
            op: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(op, tuple(sub(v) for v in node.values))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(sub(node.operand))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = sub(node.operand)
            if isinstance(inner, Const) and isinstance(inner.value, int):
                return Const(-inner.value)
            raise self.fail("unary minus applies to numbers only")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            arith: Literal["+", "-"] = "+" if isinstance(node.op, ast.Add) else "-"
            return Arith(arith, sub(node.left), sub(node.right))
        if isinstance(node, ast.IfExp):
            return IfElse(sub(node.test), sub(node.body), sub(node.orelse))
        if isinstance(node, ast.Compare):
            return self.compare(node, in_aggregate=in_aggregate)
        if isinstance(node, ast.Call):
            return self.call(node, in_aggregate=in_aggregate)
        raise self.fail(f"unsupported syntax: {ast.unparse(node)}")

    def name(self, name: str, *, in_aggregate: bool) -> Expr:
        names = self.names
        if name == "as_of":
            return AsOf()
        if names.bare_scope and name in names.columns:
            return Column(names.bare_scope, name)
        if names.bare_scope and name in names.derived:
            return Derived(names.bare_scope, names.pack, name)
        if name in names.parameters:
            return Const(names.parameters[name])
        if name in names.relations:
            if not in_aggregate:
                raise self.fail(f"relation {name!r} can only be used inside sum() or any()")
            return names.relations[name]
        raise self.fail(f"unknown name {name!r}")

    def attribute(self, node: ast.Attribute, *, in_aggregate: bool) -> Expr:
        if not isinstance(node.value, ast.Name) or node.value.id not in ("record", "other"):
            raise self.fail(f"unsupported attribute {ast.unparse(node)}")
        scope: Scope = "record" if node.value.id == "record" else "other"
        if scope == "other" and not in_aggregate:
            raise self.fail("`other` can only be used inside sum() or any()")
        if self.names.bare_scope is not None:
            raise self.fail("a derived fact names its own columns without `record.`")
        field = node.attr
        if field in self.names.columns:
            return Column(scope, field)
        if field in self.names.derived:
            return Derived(scope, self.names.pack, field)
        if field in self.names.person_facts and scope == "record":
            return PersonFact(self.names.pack, field)
        raise self.fail(f"unknown field {scope}.{field}")

    def compare(self, node: ast.Compare, *, in_aggregate: bool) -> Expr:
        def sub(n: ast.expr) -> Expr:
            return self.node(n, in_aggregate=in_aggregate)

        parts: list[Expr] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(self.comparison(op, left, right, sub))
            left = right
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def comparison(
        self, op: ast.cmpop, left: ast.expr, right: ast.expr, sub: Callable[[ast.expr], Expr]
    ) -> Expr:
        symbols = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">"}
        symbols[ast.GtE] = ">="
        if type(op) in symbols:
            return Compare(symbols[type(op)], sub(left), sub(right))
        if isinstance(op, ast.Is | ast.IsNot):
            if not (isinstance(right, ast.Constant) and right.value is None):
                raise self.fail("`is` compares with None only")
            return IsNull(sub(left), negated=isinstance(op, ast.IsNot))
        if isinstance(op, ast.In | ast.NotIn):
            test = self.membership(left, right, sub)
            return Not(test) if isinstance(op, ast.NotIn) else test
        raise self.fail(f"unsupported comparison {ast.unparse(op)}")

    def membership(self, left: ast.expr, right: ast.expr, sub: Callable[[ast.expr], Expr]) -> Expr:
        if isinstance(right, ast.Attribute) and right.attr == "categories":
            # `'sexual' in record.categories` becomes a test of the offence code against the
            # catalogue's codes in that category, which every engine can run.
            if not (isinstance(left, ast.Constant) and left.value in self.names.categories):
                raise self.fail(f"unknown category {ast.unparse(left)}")
            scope_node = ast.Attribute(value=right.value, attr="offence_code")
            return In(sub(scope_node), self.names.categories[left.value])
        values = sub(right)
        if isinstance(values, Const) and isinstance(values.value, tuple):
            return In(sub(left), values.value)
        if isinstance(right, ast.Tuple | ast.List):
            consts = [sub(e) for e in right.elts]
            if all(isinstance(c, Const) for c in consts):
                return In(sub(left), tuple(c.value for c in consts if isinstance(c, Const)))
        raise self.fail("`in` needs a list of constants or a list parameter")

    def call(self, node: ast.Call, *, in_aggregate: bool) -> Expr:
        def sub(n: ast.expr) -> Expr:
            return self.node(n, in_aggregate=in_aggregate)

        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail(f"unsupported call {ast.unparse(node)}")
        func, args = node.func.id, node.args
        if func == "date" and len(args) == 1 and isinstance(args[0], ast.Constant):
            try:
                return Const(dt.date.fromisoformat(str(args[0].value)))
            except ValueError as error:
                raise self.fail(f"bad date {args[0].value!r}") from error
        if func == "years_before" and len(args) == 2:
            when, years = sub(args[0]), sub(args[1])
            if not isinstance(when, AsOf) or not (
                isinstance(years, Const) and isinstance(years.value, int)
            ):
                raise self.fail("years_before takes as_of and a whole number of years")
            return AsOf(years_before=years.value)
        if func == "coalesce" and len(args) >= 2:
            return Coalesce(tuple(sub(a) for a in args))
        if func in ("sum", "any") and len(args) == 1 and isinstance(args[0], ast.GeneratorExp):
            if in_aggregate:
                raise self.fail(f"{func}() cannot be nested")
            return self.aggregate(func, args[0])
        raise self.fail(f"unsupported call {ast.unparse(node)}")

    def aggregate(self, func: str, gen: ast.GeneratorExp) -> Aggregate:
        (loop,) = gen.generators
        if not (
            isinstance(loop.target, ast.Name)
            and loop.target.id == "other"
            and isinstance(loop.iter, ast.Name)
            and loop.iter.id == "others"
            and not loop.is_async
        ):
            raise self.fail("aggregates iterate as `for other in others`")

        def inner(n: ast.expr) -> Expr:
            return self.node(n, in_aggregate=True)

        conditions = [inner(c) for c in loop.ifs]
        condition: Expr | None = None
        if len(conditions) == 1:
            condition = conditions[0]
        elif conditions:
            condition = BoolOp("and", tuple(conditions))
        kind: Literal["sum", "any"] = "sum" if func == "sum" else "any"
        return Aggregate(kind, inner(gen.elt), condition)


def walk(expr: Expr) -> list[Expr]:
    """`expr` and every expression inside it, depth first."""
    found: list[Expr] = [expr]
    for child in children(expr):
        found.extend(walk(child))
    return found


def children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Compare(_, left, right) | Arith(_, left, right):
            return (left, right)
        case IsNull(operand, _) | In(operand, _) | Not(operand):
            return (operand,)
        case BoolOp(_, operands) | Coalesce(operands):
            return operands
        case IfElse(condition, then, otherwise):
            return (condition, then, otherwise)
        case Aggregate(_, inner, condition):
            return (inner,) if condition is None else (inner, condition)
    return ()
