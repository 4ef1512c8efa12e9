"""Hypothesis strategies for whole, valid record rows (canonical text columns)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from veil.records.catalogue import load_catalogue
from veil.records.idnumber import with_check_digit
from veil.synth.regions import county_codes

CATALOGUE = load_catalogue()
COUNTIES = sorted(c for codes in county_codes().values() for c in codes)
TODAY = dt.date(2026, 11, 24)

names = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=100)


@st.composite
def identities(draw: st.DrawFn) -> dict[str, str]:
    sex = draw(st.sampled_from(("M", "F")))
    birth = draw(st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)))
    if draw(st.integers(0, 9)) == 0:
        number = draw(
            st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=20)
        )
        return {
            "id_number": "",
            "alt_id": f"PASSPORT:{number}",
            "birth_date": birth.isoformat(),
            "sex": sex,
        }
    county = draw(st.sampled_from(COUNTIES))
    seq = draw(st.integers(0, 499)) * 2 + (1 if sex == "M" else 0)
    number = with_check_digit(f"{county}{birth:%Y%m%d}{seq:03d}")
    if number.endswith("X") and draw(st.booleans()):
        number = number[:17] + "x"  # sources write the check digit in either case
    return {"id_number": number, "alt_id": "", "birth_date": birth.isoformat(), "sex": sex}


@st.composite
def valid_rows(draw: st.DrawFn, source: str | None = None) -> dict[str, str]:
    """A row that every validation rule accepts."""
    identity = draw(identities())
    birth = dt.date.fromisoformat(identity["birth_date"])
    offence = draw(st.sampled_from(sorted(CATALOGUE.offences.values(), key=lambda o: o.code)))
    kind = draw(st.sampled_from(sorted(offence.row_kinds)))
    rules = sorted(
        (r for (k, _), r in CATALOGUE.dispositions.items() if k == kind),
        key=lambda r: r.disposition,
    )
    rule = draw(st.sampled_from(rules))
    amounts = {"detention_days": "", "sentence_months": "", "fine_yuan": ""}
    for column, bounds in {**rule.optional, **rule.required}.items():
        if column in rule.required or draw(st.booleans()):
            high = bounds.maximum if bounds.maximum is not None else 10_000_000
            amounts[column] = str(draw(st.integers(bounds.minimum, high)))
    offence_date = draw(st.dates(birth, TODAY))
    decision = draw(st.dates(offence_date, TODAY))
    completion = draw(st.one_of(st.just(None), st.dates(decision, dt.date(2060, 12, 31))))
    return {
        "source": source or draw(st.from_regex(r"[0-9]{6}-(PSB|CRT|PRC)", fullmatch=True)),
        "record_id": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 /_-]{0,40}", fullmatch=True)),
        "name": draw(names),
        **identity,
        "kind": kind,
        "offence_code": offence.code,
        "offence_date": offence_date.isoformat(),
        "decision_date": decision.isoformat(),
        "completion_date": completion.isoformat() if completion else "",
        "disposition": rule.disposition,
        **amounts,
        "status": draw(st.sampled_from(("effective", "effective", "revoked"))),
    }
