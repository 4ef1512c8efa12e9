"""Generate a synthetic record set: valid-looking people with histories in national proportions.

Deterministic for a given seed and options. Only people who carry a record produce rows, so
a population of tens of millions costs only as much as its records.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any

import yaml

from veil.records.catalogue import load_catalogue
from veil.records.idnumber import with_check_digit
from veil.synth.corrupt import CORRUPTIONS, corrupt
from veil.synth.regions import county_codes

_SOURCE_SUFFIX = {"admin_violation": "PSB", "criminal": "CRT", "drug_registration": "PSB"}


@dataclass(frozen=True)
class SynthOptions:
    persons: int
    seed: int = 0
    bad_rows: float = 0.0
    as_of: dt.date = dt.date(2026, 6, 30)


class _Weighted:
    """A fixed weighted choice (precomputed cumulative weights)."""

    def __init__(self, weights: dict[Any, float]) -> None:
        self.items = list(weights)
        self.cum = list(accumulate(float(w) for w in weights.values()))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.items, cum_weights=self.cum)[0]


@cache
def _data() -> dict[str, Any]:
    folder = resources.files("veil.synth").joinpath("data")
    population: dict[str, Any] = yaml.safe_load(
        folder.joinpath("population.yaml").read_text(encoding="utf-8")
    )
    population["names"] = yaml.safe_load(folder.joinpath("names.yaml").read_text(encoding="utf-8"))
    return population


class _Generator:
    def __init__(self, options: SynthOptions) -> None:
        data = _data()
        self.options = options
        self.rng = random.Random(options.seed)
        self.catalogue = load_catalogue()
        self.profiles = _Weighted({k: v["share"] for k, v in data["profiles"].items()})
        self.record_share = sum(v["share"] for v in data["profiles"].values())
        self.repeat = float(data["repeat_probability"])
        self.foreigner_share = float(data["foreigner_share"])
        self.male_share = float(data["male_share"])
        self.ages = _Weighted({(lo, hi): w for lo, hi, w in data["first_offence_age"]})
        self.first_year, self.last_year = data["first_offence_years"]
        self.revoked_share = float(data["revoked_share"])
        counties = county_codes()
        self.provinces = _Weighted({p: w for p, w in data["provinces"].items() if p in counties})
        self.counties = counties
        self.admin = _Weighted(data["admin_offences"])
        self.criminal = _Weighted(data["criminal_offences"])
        self.admin_dispositions = _Weighted(data["admin_dispositions"])
        self.criminal_dispositions = _Weighted(data["criminal_dispositions"])
        self.drug_codes = _Weighted(data["drug_codes"])
        self.drug_dispositions = _Weighted(data["drug_dispositions"])
        names = data["names"]
        self.surnames = _Weighted(names["surnames"])
        self.given = {"M": names["given_male"], "F": names["given_female"]}
        self.counter = 0

    # --- people ---------------------------------------------------------------------------
    def person(self) -> dict[str, str]:
        rng = self.rng
        sex = "M" if rng.random() < self.male_share else "F"
        lo, hi = self.ages.pick(rng)
        first = self._date_between(
            dt.date(self.first_year, 1, 1), min(dt.date(self.last_year, 12, 31), self.options.as_of)
        )
        age = rng.randint(lo, hi)
        birth = first - dt.timedelta(days=age * 365 + rng.randint(30, 330))
        county = rng.choice(self.counties[self.provinces.pick(rng)])
        given = self.given[sex]
        name = self.surnames.pick(rng) + "".join(
            rng.choice(given) for _ in range(rng.choice((1, 2, 2)))
        )
        person = {"name": name, "sex": sex, "birth_date": birth.isoformat(), "county": county}
        if rng.random() < self.foreigner_share:
            person["id_number"] = ""
            person["alt_id"] = f"PASSPORT:E{rng.randint(10_000_000, 99_999_999)}"
        else:
            seq = rng.randint(0, 499) * 2 + (1 if sex == "M" else 0)
            person["id_number"] = with_check_digit(f"{county}{birth:%Y%m%d}{seq:03d}")
            person["alt_id"] = ""
        person["first"] = first.isoformat()
        return person

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    # --- records --------------------------------------------------------------------------
    def records(self, person: dict[str, str]) -> Iterator[dict[str, str]]:
        profile = self.profiles.pick(self.rng)
        when = dt.date.fromisoformat(person["first"])
        kinds = {
            "ex_prisoner": ["criminal_prison"],
            "drug_current": ["drug_recent"],
            "drug_abstinent": ["drug_old"],
            "admin_only": ["admin"],
        }[profile]
        while self.rng.random() < self.repeat:
            kinds.append(self.rng.choice(("admin", "admin", "criminal")))
        for kind in kinds:
            if when > self.options.as_of:
                break
            row = self._record(person, kind, when)
            yield row
            when = dt.date.fromisoformat(row["decision_date"]) + dt.timedelta(
                days=self.rng.randint(30, 1500)
            )

    def _record(self, person: dict[str, str], plan: str, offence: dt.date) -> dict[str, str]:
        rng = self.rng
        as_of = self.options.as_of
        if plan == "drug_recent":
            offence = max(offence, as_of - dt.timedelta(days=rng.randint(30, 1000)))
        elif plan == "drug_old":
            offence = min(offence, as_of - dt.timedelta(days=rng.randint(1300, 4000)))
            offence = max(
                offence, dt.date.fromisoformat(person["birth_date"]) + dt.timedelta(days=14 * 366)
            )
        decision = min(offence + dt.timedelta(days=rng.randint(3, 200)), as_of)
        offence = min(offence, decision)
        amounts = {"detention_days": "", "sentence_months": "", "fine_yuan": ""}
        months = days = 0
        if plan.startswith("drug"):
            kind = "drug_registration"
            code = self.drug_codes.pick(rng)
            disposition = self.drug_dispositions.pick(rng)
            months = {
                "registration": 0,
                "community_drug_treatment": 36,
                "compulsory_isolation": 24,
            }[disposition]
        elif plan == "admin":
            kind, code = "admin_violation", self.admin.pick(rng)
            disposition = self.admin_dispositions.pick(rng)
            if disposition == "fine":
                amounts["fine_yuan"] = str(rng.choice((50, 100, 200, 500, 1000, 2000)))
            elif disposition == "detention":
                days = rng.randint(1, 15)
                amounts["detention_days"] = str(days)
                if rng.random() < 0.3:
                    amounts["fine_yuan"] = str(rng.choice((200, 500, 1000)))
        else:
            kind, code = "criminal", self.criminal.pick(rng)
            disposition = (
                "imprisonment"
                if plan == "criminal_prison"
                else (self.criminal_dispositions.pick(rng))
            )
            months = self._criminal_amounts(disposition, amounts)
        completion = ""
        if disposition not in ("life_imprisonment", "non_prosecution", "not_criminally_liable"):
            done = decision + dt.timedelta(days=round(months * 30.44) + days)
            completion = done.isoformat() if done <= as_of else ""
        self.counter += 1
        county = person["county"]
        return {
            "source": f"{county}-{_SOURCE_SUFFIX[kind]}",
            "record_id": f"{decision.year}-{self.options.seed}-{self.counter:09d}",
            "id_number": person["id_number"],
            "alt_id": person["alt_id"],
            "name": person["name"],
            "birth_date": person["birth_date"],
            "sex": person["sex"],
            "kind": kind,
            "offence_code": code,
            "offence_date": offence.isoformat(),
            "decision_date": decision.isoformat(),
            "completion_date": completion,
            "disposition": disposition,
            **amounts,
            "status": "revoked" if rng.random() < self.revoked_share else "effective",
        }

    def _criminal_amounts(self, disposition: str, amounts: dict[str, str]) -> int:
        rng = self.rng
        months = 0
        if disposition == "imprisonment":
            # Most prison sentences are short; a long tail reaches 15 years.
            months = min(180, max(6, int(rng.lognormvariate(3.2, 0.8))))
        elif disposition == "probation":
            months = rng.randint(6, 36)
        elif disposition == "detention":
            months = rng.randint(1, 6)
        elif disposition == "public_surveillance":
            months = rng.randint(3, 24)
        if months:
            amounts["sentence_months"] = str(months)
        if disposition == "fine" or (months and rng.random() < 0.4):
            amounts["fine_yuan"] = str(rng.choice((1000, 2000, 5000, 10000, 50000)))
        return months

    # --- the whole set --------------------------------------------------------------------
    def rows(self) -> Iterator[dict[str, str]]:
        people = int(self.options.persons * self.record_share + self.rng.random())
        last_good: dict[str, str] | None = None
        corruption = 0
        for _ in range(people):
            person = self.person()
            for row in self.records(person):
                if self.options.bad_rows and self.rng.random() < self.options.bad_rows:
                    name = CORRUPTIONS[corruption % len(CORRUPTIONS)]
                    corruption += 1
                    yield corrupt(name, row, last_good, self.rng)
                    continue
                last_good = row
                yield row


def generate_rows(options: SynthOptions) -> Iterator[dict[str, str]]:
    """Rows of canonical text columns, in a deterministic order."""
    return _Generator(options).rows()
