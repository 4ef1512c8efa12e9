"""Which records make a criminal record for a certificate (data/provisions.yaml)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Provisions:
    kind: str
    dispositions: frozenset[str]
    sealed_excluded: bool
    validity_days: int
    basis: str

    def counts(self, record: Mapping[str, Any]) -> bool:
        """Whether a stored record (with its seal `state`) is a criminal record here."""
        if record["status"] != "effective" or record["state"] == "purged":
            return False
        if self.sealed_excluded and record["state"] == "sealed":
            return False
        return record["kind"] == self.kind and record["disposition"] in self.dispositions

    def has_record(self, records: Iterable[Mapping[str, Any]]) -> bool:
        return any(self.counts(r) for r in records)


@cache
def load_provisions() -> Provisions:
    text = resources.files("veil.certificates").joinpath("data", "provisions.yaml")
    data = yaml.safe_load(text.read_text("utf-8"))
    record = data["criminal_record"]
    return Provisions(
        kind=record["kind"],
        dispositions=frozenset(record["dispositions"]),
        sealed_excluded=bool(record["sealed_excluded"]),
        validity_days=int(data["validity"]["days"]),
        basis=record["basis"],
    )
