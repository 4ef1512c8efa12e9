"""The offence catalogue and disposition rules, loaded from versioned data files."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

CATEGORIES = (
    "sexual",
    "child_abuse",
    "trafficking",
    "violence",
    "drug",
    "theft",
    "fraud",
    "gambling",
    "prostitution",
    "public_order",
    "traffic",
    "other",
)
OFFENCE_KINDS = ("admin_violation", "criminal")


@dataclass(frozen=True)
class Offence:
    code: str
    kind: str
    name_zh: str
    name_en: str
    statute: str
    article: str
    categories: tuple[str, ...]
    row_kinds: frozenset[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "statute": self.statute,
            "article": self.article,
            "categories": list(self.categories),
        }


@dataclass(frozen=True)
class Statute:
    key: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class AmountRange:
    minimum: int
    maximum: int | None


@dataclass(frozen=True)
class DispositionRule:
    """What a (kind, disposition) pair requires of the amount columns."""

    kind: str
    disposition: str
    basis: str
    required: dict[str, AmountRange] = field(default_factory=dict)
    optional: dict[str, AmountRange] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    version: str
    statutes: dict[str, Statute]
    offences: dict[str, Offence]
    dispositions: dict[tuple[str, str], DispositionRule]

    def statute_name(self, offence: Offence, lang: str = "en") -> str:
        statute = self.statutes[offence.statute]
        return statute.name_zh if lang == "zh" else statute.name_en


class CatalogueError(ValueError):
    """A data file does not describe a valid catalogue."""


def _read(name: str) -> dict[str, Any]:
    text = resources.files("veil.records").joinpath("data", name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise CatalogueError(f"{name}: expected a mapping at the top level")
    return data


def _ranges(name: str, spec: dict[str, Any] | None) -> dict[str, AmountRange]:
    out: dict[str, AmountRange] = {}
    for column, bounds in (spec or {}).items():
        if column not in ("detention_days", "sentence_months", "fine_yuan"):
            raise CatalogueError(f"{name}: unknown amount column {column!r}")
        out[column] = AmountRange(int(bounds.get("min", 0)), bounds.get("max"))
    return out


def _offences(data: dict[str, Any], statutes: dict[str, Statute]) -> dict[str, Offence]:
    offences: dict[str, Offence] = {}
    for item in data["offences"]:
        code = item["code"]
        if code in offences:
            raise CatalogueError(f"offences.yaml: duplicate code {code}")
        if item["kind"] not in OFFENCE_KINDS:
            raise CatalogueError(f"offences.yaml: {code} has unknown kind {item['kind']!r}")
        if item["statute"] not in statutes:
            raise CatalogueError(f"offences.yaml: {code} cites unknown statute {item['statute']!r}")
        unknown = set(item["categories"]) - set(CATEGORIES)
        if unknown or not item["categories"]:
            raise CatalogueError(f"offences.yaml: {code} has bad categories {sorted(unknown)}")
        offences[code] = Offence(
            code=code,
            kind=item["kind"],
            name_zh=item["name_zh"],
            name_en=item["name_en"],
            statute=item["statute"],
            article=str(item["article"]),
            categories=tuple(item["categories"]),
            row_kinds=frozenset([item["kind"], *item.get("row_kinds", [])]),
        )
    return offences


@cache
def load_catalogue() -> Catalogue:
    """The packaged catalogue; parsed once per process."""
    data = _read("offences.yaml")
    statutes = {
        key: Statute(key, value["name_zh"], value["name_en"])
        for key, value in data["statutes"].items()
    }
    disposition_data = _read("dispositions.yaml")
    dispositions: dict[tuple[str, str], DispositionRule] = {}
    for kind, by_disposition in disposition_data["dispositions"].items():
        for disposition, spec in by_disposition.items():
            name = f"dispositions.yaml {kind}/{disposition}"
            dispositions[(kind, disposition)] = DispositionRule(
                kind=kind,
                disposition=disposition,
                basis=spec["basis"],
                required=_ranges(name, spec.get("required")),
                optional=_ranges(name, spec.get("optional")),
            )
    return Catalogue(
        version=f"{data['version']}/{disposition_data['version']}",
        statutes=statutes,
        offences=_offences(data, statutes),
        dispositions=dispositions,
    )
