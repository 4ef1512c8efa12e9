"""The disclosure catalogues: organisation types, purposes and regulations, read from data.

Legal parameters live in `data/*.yaml` with the article they come from (SPEC section 4);
this module validates them and cross-checks them against the offence catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from veil.records.catalogue import Catalogue, load_catalogue

PURPOSES = ("case_handling", "statutory_screening", "self_inquiry")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrgType(_Strict):
    group: str
    name_zh: str
    name_en: str


class Purpose(_Strict):
    basis: str
    requires: tuple[str, ...]


class Regulation(_Strict):
    id: str = ""
    title_zh: str
    title_en: str
    statute: str
    article: str
    unit_types: tuple[str, ...] = Field(min_length=1)
    categories: tuple[str, ...] = ()
    offences: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    offence_names: bool
    rescreen_years: int | None
    sealed_in_scope: bool

    @model_validator(mode="after")
    def _one_scope(self) -> Regulation:
        if bool(self.categories) == bool(self.offences):
            raise ValueError("give either categories or offences, not both or neither")
        return self

    def covers(self, offence_code: str, disposition: str, categories: Iterable[str]) -> bool:
        """Whether a record with this offence and disposition is in the regulation's scope."""
        if self.offences:
            return disposition in self.offences.get(offence_code, ())
        return not set(self.categories).isdisjoint(categories)

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Notice(_Strict):
    basis: str
    zh: str
    en: str


class DisclosureCatalogue(_Strict):
    version: str
    groups: dict[str, dict[str, str]]
    org_types: dict[str, OrgType]
    purposes: dict[str, Purpose]
    confidentiality_notice: Notice
    regulations: dict[str, Regulation]


class DisclosureCatalogueError(ValueError):
    """A disclosure data file is malformed or names something that does not exist."""


def _read(name: str) -> dict[str, Any]:
    text = resources.files("veil.disclosure").joinpath("data", name).read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise DisclosureCatalogueError(f"{name}: not a mapping")
    return data


def _check(catalogue: DisclosureCatalogue, offences: Catalogue) -> None:
    for name, org_type in catalogue.org_types.items():
        if org_type.group not in catalogue.groups:
            raise DisclosureCatalogueError(f"org type {name}: unknown group {org_type.group}")
    if set(catalogue.purposes) != set(PURPOSES):
        raise DisclosureCatalogueError(f"purposes.yaml must define exactly {PURPOSES}")
    known_categories = {c for o in offences.offences.values() for c in o.categories}
    for reg in catalogue.regulations.values():
        for unit in reg.unit_types:
            unit_type = catalogue.org_types.get(unit)
            if unit_type is None or unit_type.group != "screening_unit":
                raise DisclosureCatalogueError(f"{reg.id}: {unit} is not a screening unit type")
        for category in reg.categories:
            if category not in known_categories:
                raise DisclosureCatalogueError(f"{reg.id}: unknown category {category}")
        for code, dispositions in reg.offences.items():
            offence = offences.offences.get(code)
            if offence is None:
                raise DisclosureCatalogueError(f"{reg.id}: unknown offence {code}")
            allowed = {d for (kind, d) in offences.dispositions if kind == offence.kind}
            if not set(dispositions) <= allowed:
                raise DisclosureCatalogueError(
                    f"{reg.id}: {code} cannot carry {sorted(set(dispositions) - allowed)}"
                )


@cache
def load_disclosure_catalogue() -> DisclosureCatalogue:
    orgs, purposes, regs = (
        _read("org_types.yaml"),
        _read("purposes.yaml"),
        _read("regulations.yaml"),
    )
    try:
        catalogue = DisclosureCatalogue.model_validate(
            {
                "version": regs["version"],
                "groups": orgs["groups"],
                "org_types": orgs["types"],
                "purposes": purposes["purposes"],
                "confidentiality_notice": purposes["confidentiality_notice"],
                "regulations": {k: {**v, "id": k} for k, v in regs["regulations"].items()},
            }
        )
    except (KeyError, ValueError) as exc:
        raise DisclosureCatalogueError(f"disclosure data: {exc}") from exc
    _check(catalogue, load_catalogue())
    return catalogue
