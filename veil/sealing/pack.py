"""Rule packs: data files that say when a record is sealed, each rule citing its article.

A pack is YAML validated against the schema below (`veil rules schema` prints it as JSON
Schema). Its conditions are written in the rule language of `expr.py`. A jurisdiction adds
a pack by adding a file; the engine does not change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veil.records.catalogue import Catalogue
from veil.sealing.expr import (
    Aggregate,
    Expr,
    ExprError,
    Names,
    PersonFact,
    Value,
    parse,
    walk,
)

# The stored facts a condition may read, with whether each may be missing.
COLUMNS: dict[str, bool] = {
    "kind": False,
    "offence_code": False,
    "offence_date": False,
    "decision_date": False,
    "completion_date": True,
    "disposition": False,
    "detention_days": True,
    "sentence_months": True,
    "fine_yuan": True,
    "age_at_offence": False,
}
SHIPPED = ("cn-psapl-2025", "cn-cpl-286-minors")
# The pseudo-rule of a revoked record: it is purged, not decided by any pack.
REVOKED = "revoked"
RULE_ID = r"^[a-z0-9][a-z0-9-]{2,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatuteSpec(_Strict):
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class ParameterSpec(_Strict):
    """A legal parameter (an age, a limit, a list of dispositions) and where it comes from."""

    value: int | dt.date | str | list[str]
    article: str = Field(min_length=1, description="The article the value comes from.")
    note: str = ""


class RuleSpec(_Strict):
    id: str = Field(pattern=RULE_ID)
    statute: str | None = Field(None, description="A key of `statutes`; default: the pack's.")
    article: str = Field(min_length=1)
    effect: Literal["seal", "unseal"]
    precedence: int = Field(ge=0, description="Of the rules that apply, the highest wins.")
    explanation_zh: str = Field(min_length=1)
    explanation_en: str = Field(min_length=1)
    when: str = Field(min_length=1, description="A condition in the rule language.")


class PackSpec(_Strict):
    """One rule pack file."""

    pack: str = Field(pattern=RULE_ID)
    version: str = Field(min_length=1)
    title_zh: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    statute: str = Field(description="The key of the pack's main statute in `statutes`.")
    statutes: dict[str, StatuteSpec] = Field(min_length=1)
    in_force: dt.date | None = None
    parameters: dict[str, ParameterSpec] = {}
    facts: dict[str, str] = Field(
        {}, description="Derived facts of one record; bare names are that record's columns."
    )
    relations: dict[str, str] = Field(
        {}, description="Conditions between `record` and `other`, for use inside sum()/any()."
    )
    person_facts: dict[str, str] = Field(
        {}, description="Aggregates over the person's other records, read as record.NAME."
    )
    rules: list[RuleSpec] = Field(min_length=1)


class PackError(ValueError):
    """A rule pack that cannot be loaded; the message names the file and the place."""


@dataclass(frozen=True)
class Rule:
    id: str
    pack: str
    statute_zh: str
    statute_en: str
    article: str
    effect: Literal["seal", "unseal"]
    precedence: int
    explanation_zh: str
    explanation_en: str
    text: str
    when: Expr

    @property
    def state(self) -> str:
        return "sealed" if self.effect == "seal" else "unsealed"

    def statute(self, lang: str) -> str:
        return self.statute_zh if lang == "zh" else self.statute_en

    def explanation(self, lang: str) -> str:
        return self.explanation_zh if lang == "zh" else self.explanation_en


@dataclass(frozen=True)
class Pack:
    spec: PackSpec
    path: Path
    derived: dict[str, Expr]  # derived facts, bare names bound to the record itself
    person_facts: dict[str, Expr]
    rules: tuple[Rule, ...]

    @property
    def id(self) -> str:
        return self.spec.pack


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: compiled queries are cached
class RuleSet:
    """The packs in force together, with their rules in the order they are tried."""

    packs: tuple[Pack, ...]
    rules: tuple[Rule, ...]  # highest precedence first

    def derived(self, pack: str, name: str) -> Expr:
        return self._pack(pack).derived[name]

    def person_fact(self, fact: PersonFact) -> Expr:
        return self._pack(fact.pack).person_facts[fact.name]

    def person_facts(self) -> list[PersonFact]:
        return [PersonFact(p.id, name) for p in self.packs for name in p.person_facts]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def citation(self, rule_id: str | None) -> tuple[str | None, str | None]:
        """The statute (English name) and article an event of this rule records."""
        if rule_id is None or rule_id == REVOKED:
            return None, None
        rule = self.rule(rule_id)
        return rule.statute_en, rule.article

    def _pack(self, pack_id: str) -> Pack:
        return next(p for p in self.packs if p.id == pack_id)

    @property
    def label(self) -> str:
        """Which packs, at which versions: recorded with every run."""
        return ",".join(f"{p.id}@{p.spec.version}" for p in self.packs)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of what the engine runs, as parsed: rules with their citations, derived
        and person facts, parameters and catalogue categories folded in. Recorded with each
        sweep; a later sweep continues from it only under the same digest (a pack edited
        without a new version, or a changed catalogue, has another)."""
        parsed = [(p.id, p.spec.version, p.derived, p.person_facts) for p in self.packs]
        return hashlib.sha256(repr((parsed, self.rules)).encode()).hexdigest()


def json_schema() -> dict[str, Any]:
    return PackSpec.model_json_schema()


def shipped_pack_paths() -> list[Path]:
    base = resources.files("veil.sealing") / "packs"
    return [Path(str(base / f"{name}.yaml")) for name in SHIPPED]


def load_ruleset(catalogue: Catalogue, extra: Iterable[Path] = ()) -> RuleSet:
    """The shipped packs plus `extra` pack files, checked and parsed."""
    packs = [load_pack(path, catalogue) for path in [*shipped_pack_paths(), *extra]]
    ids = [p.id for p in packs]
    if len(set(ids)) != len(ids):
        raise PackError(f"a pack is loaded twice: {sorted(ids)}")
    rules = [rule for pack in packs for rule in pack.rules]
    rule_ids = [r.id for r in rules]
    if len(set(rule_ids)) != len(rule_ids):
        raise PackError("two rules share an id")
    rules.sort(key=lambda r: -r.precedence)
    precedences = [r.precedence for r in rules]
    if len(set(precedences)) != len(precedences):
        # Ties would make the outcome depend on file order; forbid them outright.
        raise PackError("two rules share a precedence; give each its own")
    return RuleSet(tuple(packs), tuple(rules))


def load_pack(path: Path, catalogue: Catalogue) -> Pack:
    where = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = PackSpec.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PackError(f"{where}: cannot be read ({error})") from error
    except ValidationError as error:
        raise PackError(f"{where}: does not follow the rule pack schema\n{error}") from error
    try:
        return _build(spec, path, catalogue)
    except ExprError as error:
        raise PackError(f"{where}: {error}") from error


def _build(spec: PackSpec, path: Path, catalogue: Catalogue) -> Pack:
    parameters: dict[str, Value] = {
        name: tuple(p.value) if isinstance(p.value, list) else p.value
        for name, p in spec.parameters.items()
    }
    categories: dict[str, tuple[str, ...]] = {}
    for offence in catalogue.offences.values():
        for category in offence.categories:
            categories.setdefault(category, ())
            categories[category] += (offence.code,)
    base = Names(
        pack=spec.pack,
        columns=frozenset(COLUMNS),
        derived=frozenset(spec.facts),
        person_facts=frozenset(),
        parameters=parameters,
        relations={},
        categories=categories,
    )
    # Each derived fact and relation may use the ones defined before it.
    derived: dict[str, Expr] = {}
    for name, text in spec.facts.items():
        own = replace(base, bare_scope="record", derived=frozenset(derived))
        derived[name] = parse(text, own, where=f"facts.{name}")
    relations: dict[str, Expr] = {}
    for name, text in spec.relations.items():
        scope = replace(base, relations=dict(relations))
        relations[name] = parse(text, scope, where=f"relations.{name}", in_aggregate=True)
    with_relations = replace(base, relations=relations)
    person_facts = {
        name: parse(text, with_relations, where=f"person_facts.{name}")
        for name, text in spec.person_facts.items()
    }
    for name, expr in person_facts.items():
        if not isinstance(expr, Aggregate):
            raise ExprError(f"person_facts.{name}: must be one sum() or any() over others")
    names = replace(with_relations, person_facts=frozenset(person_facts))
    rules = []
    for rule in spec.rules:
        when = parse(rule.when, names, where=f"rule {rule.id}")
        if any(isinstance(e, Aggregate) for e in walk(when)):
            # The sweep joins each aggregate in as a column: it needs a name.
            raise ExprError(f"rule {rule.id}: name sum() and any() under person_facts")
        statute_key = rule.statute or spec.statute
        if statute_key not in spec.statutes:
            raise ExprError(f"rule {rule.id}: unknown statute {statute_key!r}")
        statute = spec.statutes[statute_key]
        rules.append(
            Rule(
                id=rule.id,
                pack=spec.pack,
                statute_zh=statute.name_zh,
                statute_en=statute.name_en,
                article=rule.article,
                effect=rule.effect,
                precedence=rule.precedence,
                explanation_zh=rule.explanation_zh.strip(),
                explanation_en=rule.explanation_en.strip(),
                text=" ".join(rule.when.split()),
                when=when,
            )
        )
    return Pack(spec, path, derived, person_facts, tuple(rules))


# --- the public form of packs and rules (`veil rules list --json`, GET /api/v1/rules) ---


def rule_dict(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "pack": rule.pack,
        "effect": rule.effect,
        "precedence": rule.precedence,
        "statute_zh": rule.statute_zh,
        "statute_en": rule.statute_en,
        "article": rule.article,
        "explanation_zh": rule.explanation_zh,
        "explanation_en": rule.explanation_en,
        "when": rule.text,
    }


def pack_dict(pack: Pack) -> dict[str, Any]:
    spec = pack.spec
    return {
        "id": pack.id,
        "version": spec.version,
        "title_zh": spec.title_zh,
        "title_en": spec.title_en,
        "in_force": spec.in_force.isoformat() if spec.in_force else None,
        "parameters": {
            name: p.model_dump(mode="json", include={"value", "article"})
            for name, p in spec.parameters.items()
        },
        "rules": [rule_dict(r) for r in pack.rules],
    }
