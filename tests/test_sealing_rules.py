"""The shipped rule packs on the edge cases of SPEC section 3, each naming its article.

Every case runs on both evaluators (the row evaluator and the compiled sweep on DuckDB)
and demands the same decision from each.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from veil.records.catalogue import Catalogue
from veil.sealing.evaluate import Decision
from veil.sealing.facts import RecordFacts
from veil.sealing.pack import RuleSet, load_ruleset

from .sealing_helpers import D, decide, rec

AS_OF = D("2026-11-24")


@pytest.fixture(scope="module")
def rules(catalogue: Catalogue) -> RuleSet:
    return load_ruleset(catalogue)


@pytest.fixture
def run(rules: RuleSet, tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*records: RecordFacts, as_of: dt.date = AS_OF) -> dict[int, Decision]:
        return decide(rules, records, as_of, tmp_path)

    return run


def state(decision: Decision) -> tuple[str, str | None]:
    return decision.state, decision.rule_id


def minor(pk: int, person: int = 1, **facts: object) -> RecordFacts:
    return rec(pk, person, **{"age_at_offence": 16, **facts})


# --- PSAPL (revised 2025) art. 136 ---------------------------------------------------------


def test_admin_violation_is_sealed_with_no_conditions_psapl_136(run) -> None:  # type: ignore[no-untyped-def]
    adult = rec(
        1,
        kind="admin_violation",
        offence_code="PSAPL-43-BEAT",
        disposition="fine",
        sentence_months=None,
        fine_yuan=500,
        completion_date=None,
        age_at_offence=45,
        decision_date=D("2026-03-01"),
        offence_date=D("2026-02-01"),
    )
    decision = run(adult)[1]
    assert state(decision) == ("sealed", "psapl-136-seal")
    assert json.loads(decision.facts) == {"kind": "admin_violation"}


def test_psapl_record_decided_before_2026_is_sealed_by_the_first_sweep_psapl_136(run) -> None:  # type: ignore[no-untyped-def]
    old = rec(
        1,
        kind="admin_violation",
        offence_code="PSAPL-49-THEFT",
        disposition="detention",
        sentence_months=None,
        detention_days=10,
        decision_date=D("2019-05-01"),
        offence_date=D("2019-04-01"),
        completion_date=D("2019-05-11"),
    )
    assert state(run(old, as_of=D("2025-12-31"))[1]) == ("open", None)
    assert state(run(old, as_of=D("2026-01-01"))[1]) == ("sealed", "psapl-136-seal")


# --- CPL art. 286: who and what is sealed ---------------------------------------------------


def test_age_at_the_offence_date_decides_minority_not_the_decision_date_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    # Committed at 17, judged at 19: a minor's crime.
    late_judgment = minor(
        1,
        age_at_offence=17,
        offence_date=D("2016-01-01"),
        decision_date=D("2018-06-01"),
        completion_date=D("2019-06-01"),
    )
    assert state(run(late_judgment)[1]) == ("sealed", "cpl-286-seal")
    # Committed on the 18th birthday: an adult's crime, whenever it was judged.
    adult = minor(2, person=2, age_at_offence=18)
    assert state(run(adult)[2]) == ("open", None)


def test_minor_sentence_of_exactly_five_years_is_sealed_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    assert state(run(minor(1, sentence_months=60))[1]) == ("sealed", "cpl-286-seal")


def test_minor_sentence_of_61_months_is_not_sealed_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    assert state(run(minor(1, sentence_months=61))[1]) == ("open", None)


@pytest.mark.parametrize("disposition", ["exempted", "non_prosecution", "not_criminally_liable"])
def test_exemption_non_prosecution_and_no_liability_are_sealed_cpl_286_measures_3(  # type: ignore[no-untyped-def]
    run, disposition: str
) -> None:
    outcome = minor(1, disposition=disposition, sentence_months=None, completion_date=None)
    assert state(run(outcome)[1]) == ("sealed", "cpl-286-seal")


def test_life_imprisonment_of_a_minor_is_not_sealed_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    life = minor(1, disposition="life_imprisonment", sentence_months=None, completion_date=None)
    assert state(run(life)[1]) == ("open", None)


def test_two_crimes_whose_combined_sentence_crosses_five_years_are_not_sealed_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    # Judged together: 36 + 36 months > 60.
    first = minor(1, sentence_months=36)
    second = minor(2, sentence_months=36, offence_code="CL-263-ROBBERY")
    decisions = run(first, second)
    assert state(decisions[1]) == ("open", None)
    assert state(decisions[2]) == ("open", None)
    # 30 + 30 = 60 is still five years.
    decisions = run(
        minor(1, sentence_months=30), minor(2, sentence_months=30, offence_code="CL-263-ROBBERY")
    )
    assert {state(d) for d in decisions.values()} == {("sealed", "cpl-286-seal")}
    assert json.loads(decisions[1].facts)["months_combined"] == 30


# --- Measures art. 18: unsealing -----------------------------------------------------------


def test_crime_discovered_later_unseals_when_combined_above_five_years_measures_18_2(run) -> None:  # type: ignore[no-untyped-def]
    sealed = minor(
        1,
        sentence_months=40,
        offence_date=D("2015-03-01"),
        decision_date=D("2015-09-01"),
        completion_date=D("2019-01-01"),
    )
    # Committed before the first judgment, found and judged years later.
    discovered = minor(
        2,
        sentence_months=30,
        offence_code="CL-263-ROBBERY",
        offence_date=D("2015-01-10"),
        decision_date=D("2021-04-01"),
        completion_date=D("2023-10-01"),
    )
    before = run(sealed, discovered, as_of=D("2020-01-01"))
    assert state(before[1]) == ("sealed", "cpl-286-seal")
    after = run(sealed, discovered, as_of=AS_OF)
    assert state(after[1]) == ("unsealed", "cpl-286-unseal-combined")
    facts = json.loads(after[1].facts)
    assert facts["months_combined_at_decision"] == 0 and facts["months_combined"] == 30


def test_new_crime_before_the_sealed_sentence_is_completed_unseals_measures_18_1(run) -> None:  # type: ignore[no-untyped-def]
    sealed = minor(
        1, sentence_months=48, decision_date=D("2015-09-01"), completion_date=D("2019-09-01")
    )
    during = minor(
        2,
        sentence_months=24,
        offence_code="CL-292-AFFRAY",
        age_at_offence=17,
        offence_date=D("2017-05-01"),
        decision_date=D("2017-12-01"),
        completion_date=D("2021-12-01"),
    )
    decisions = run(sealed, during)
    assert state(decisions[1]) == ("unsealed", "cpl-286-unseal-combined")
    # The new crime, judged with the old sentence still running, is not sealed either.
    assert state(decisions[2]) == ("open", None)


def test_new_crime_within_five_years_combined_keeps_both_sealed_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    sealed = minor(1, sentence_months=24, completion_date=D("2017-09-01"))
    during = minor(
        2,
        sentence_months=12,
        offence_code="CL-292-AFFRAY",
        age_at_offence=17,
        offence_date=D("2016-05-01"),
        decision_date=D("2016-12-01"),
        completion_date=D("2017-12-01"),
    )
    assert {state(d) for d in run(sealed, during).values()} == {("sealed", "cpl-286-seal")}


def test_retrial_raising_the_sentence_above_five_years_unseals_measures_18_3(run) -> None:  # type: ignore[no-untyped-def]
    original = minor(1, sentence_months=48)
    retrial = minor(
        2, sentence_months=72, decision_date=D("2017-02-01"), completion_date=D("2022-02-01")
    )
    decisions = run(original, retrial)
    assert state(decisions[1]) == ("unsealed", "cpl-286-unseal-retrial")
    assert state(decisions[2]) == ("open", None)
    assert state(run(original, as_of=D("2016-01-01"))[1]) == ("sealed", "cpl-286-seal")


def test_adult_re_offence_after_the_sentence_does_not_unseal_measures_18(run) -> None:  # type: ignore[no-untyped-def]
    sealed = minor(1, sentence_months=36, completion_date=D("2018-09-01"))
    adult = rec(
        2,
        sentence_months=84,
        offence_code="CL-263-ROBBERY",
        age_at_offence=22,
        offence_date=D("2021-01-01"),
        decision_date=D("2021-07-01"),
        completion_date=D("2028-07-01"),
    )
    decisions = run(sealed, adult)
    assert state(decisions[1]) == ("sealed", "cpl-286-seal")
    assert state(decisions[2]) == ("open", None)


def test_crime_straddling_the_18th_birthday_is_not_sealed_stricter_reading_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    # One offence, acts before and after the birthday, one judgment: the pack's stricter
    # reading (see the comment in cn-cpl-286-minors.yaml) seals no part of it.
    before = minor(1, age_at_offence=17, offence_date=D("2015-01-01"), sentence_months=24)
    after = minor(2, age_at_offence=18, offence_date=D("2015-02-01"), sentence_months=24)
    decisions = run(before, after)
    assert state(decisions[1]) == ("open", None)
    assert state(decisions[2]) == ("open", None)


def test_revoked_decision_is_purged_for_every_purpose(run) -> None:  # type: ignore[no-untyped-def]
    decisions = run(
        minor(1, status="revoked"),
        rec(
            2,
            kind="admin_violation",
            status="revoked",
            offence_code="PSAPL-43-BEAT",
            disposition="warning",
            sentence_months=None,
        ),
    )
    assert {state(d) for d in decisions.values()} == {("purged", "revoked")}
    assert json.loads(decisions[1].facts) == {"status": "revoked"}


def test_revoked_record_no_longer_counts_towards_a_combined_sentence_cpl_286(run) -> None:  # type: ignore[no-untyped-def]
    kept = minor(1, sentence_months=36)
    overturned = minor(2, sentence_months=36, offence_code="CL-263-ROBBERY", status="revoked")
    assert state(run(kept, overturned)[1]) == ("sealed", "cpl-286-seal")


def test_records_decided_after_the_as_of_date_do_not_exist_yet(run) -> None:  # type: ignore[no-untyped-def]
    assert run(minor(1, decision_date=D("2027-01-01")), as_of=AS_OF) == {}


def test_drug_registration_is_not_sealed_by_either_pack(run) -> None:  # type: ignore[no-untyped-def]
    registration = rec(
        1,
        kind="drug_registration",
        offence_code="ADL-62-DRUG-USE",
        disposition="registration",
        sentence_months=None,
        age_at_offence=16,
    )
    assert state(run(registration)[1]) == ("open", None)
