"""Each validation rule of SPEC section 2, one test each, on the pure validator."""

from __future__ import annotations

import datetime as dt

import pytest

from veil.records.catalogue import Catalogue
from veil.records.idnumber import with_check_digit
from veil.records.validation import RowError, validate_row

from .factories import ID_NUMBER, good_row

TODAY = dt.date(2026, 11, 24)


def reject(catalogue: Catalogue, **changes: str) -> RowError:
    with pytest.raises(RowError) as caught:
        validate_row(good_row(**changes), catalogue, TODAY)
    return caught.value


def test_good_row_is_accepted_unchanged(catalogue: Catalogue) -> None:
    record = validate_row(good_row(), catalogue, TODAY)
    assert record.as_row() == good_row()
    assert record.age_at_offence == 34


def test_bad_check_digit_is_rejected_gb11643(catalogue: Catalogue) -> None:
    wrong = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
    error = reject(catalogue, id_number=wrong)
    assert (error.column, error.reason) == ("id_number", "check digit is wrong (ISO 7064 MOD 11-2)")


def test_lowercase_x_check_digit_is_accepted_and_kept_as_written(catalogue: Catalogue) -> None:
    number = next(
        n
        for n in (with_check_digit(f"11010519900307{s:03d}") for s in range(1, 999, 2))
        if n.endswith("X")
    )
    row = good_row(id_number=number[:17] + "x")
    assert validate_row(row, catalogue, TODAY).id_number == number[:17] + "x"


def test_id_number_of_wrong_length_is_rejected(catalogue: Catalogue) -> None:
    assert reject(catalogue, id_number=ID_NUMBER[:15]).reason == "must have 18 characters"


def test_unknown_region_code_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, id_number=with_check_digit("990000" + ID_NUMBER[6:17]))
    assert error.column == "id_number"
    assert "region code" in error.reason


def test_birth_date_disagreeing_with_id_number_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, birth_date="1990-03-08")
    assert error.column == "birth_date"
    assert "1990-03-07" in error.reason


def test_sex_disagreeing_with_id_number_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, sex="F")
    assert (error.column, error.reason) == ("sex", "disagrees with the ID number's sequence code")


def test_sex_must_be_m_or_f(catalogue: Catalogue) -> None:
    assert reject(catalogue, sex="male").column == "sex"


def test_foreigner_needs_alt_id_of_form_type_value(catalogue: Catalogue) -> None:
    ok = validate_row(good_row(id_number="", alt_id="PASSPORT:E1234567"), catalogue, TODAY)
    assert ok.person_key == "PASSPORT:E1234567"
    assert reject(catalogue, id_number="", alt_id="").column == "id_number"
    assert reject(catalogue, id_number="", alt_id="E1234567").column == "alt_id"


def test_unknown_offence_code_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, offence_code="PSAPL-999-NOPE")
    assert error.column == "offence_code"
    assert "not in the offence catalogue" in error.reason


def test_offence_kind_must_match_row_kind(catalogue: Catalogue) -> None:
    error = reject(catalogue, offence_code="CL-264-THEFT")
    assert error.column == "offence_code"
    assert "criminal" in error.reason


def test_drug_registration_may_carry_the_drug_use_violation_anti_drug_law_62(
    catalogue: Catalogue,
) -> None:
    row = good_row(
        kind="drug_registration",
        offence_code="ADL-62-DRUG-USE",
        disposition="registration",
        detention_days="",
    )
    assert validate_row(row, catalogue, TODAY).kind == "drug_registration"


def test_dates_must_be_iso(catalogue: Catalogue) -> None:
    error = reject(catalogue, offence_date="01/05/2024")
    assert error.column == "offence_date"
    assert "YYYY-MM-DD" in error.reason
    assert reject(catalogue, offence_date="2024-02-30").column == "offence_date"
    assert reject(catalogue, offence_date="20240501").column == "offence_date"


def test_decision_before_offence_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, decision_date="2024-04-30")
    assert (error.column, error.reason) == ("decision_date", "is before the offence date")


def test_completion_before_decision_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, completion_date="2024-05-09")
    assert (error.column, error.reason) == ("completion_date", "is before the decision date")


def test_offence_before_birth_is_rejected(catalogue: Catalogue) -> None:
    assert reject(catalogue, offence_date="1980-01-01").column == "offence_date"


def test_decision_in_the_future_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, decision_date="2027-01-01", completion_date="")
    assert (error.column, error.reason) == ("decision_date", "is in the future")


def test_negative_amount_is_rejected(catalogue: Catalogue) -> None:
    error = reject(catalogue, detention_days="-3")
    assert (error.column, error.reason) == ("detention_days", "must not be negative")


def test_fractional_amount_is_rejected(catalogue: Catalogue) -> None:
    assert reject(catalogue, detention_days="2.5").reason == "'2.5' is not a whole number"


def test_amount_the_disposition_does_not_take_is_rejected_psapl_10(catalogue: Catalogue) -> None:
    error = reject(catalogue, disposition="warning")
    assert error.column == "detention_days"
    assert "must be empty for warning" in error.reason


def test_amount_the_disposition_requires_is_missing_psapl_10(catalogue: Catalogue) -> None:
    error = reject(catalogue, disposition="fine", detention_days="")
    assert (error.column, error.reason) == (
        "fine_yuan",
        "is required for fine (PSAPL (2012) art. 10)",
    )


def test_administrative_detention_over_20_days_is_rejected_psapl_16(catalogue: Catalogue) -> None:
    assert validate_row(good_row(detention_days="20"), catalogue, TODAY).detention_days == 20
    error = reject(catalogue, detention_days="21")
    assert error.column == "detention_days"
    assert "art" in error.reason and "16" in error.reason


def test_fixed_term_imprisonment_bounds_criminal_law_45_69(catalogue: Catalogue) -> None:
    crime = {
        "kind": "criminal",
        "offence_code": "CL-264-THEFT",
        "disposition": "imprisonment",
        "detention_days": "",
    }
    assert reject(catalogue, **crime, sentence_months="5").column == "sentence_months"
    assert reject(catalogue, **crime, sentence_months="301").column == "sentence_months"
    row = good_row(**crime, sentence_months="60")
    assert validate_row(row, catalogue, TODAY).sentence_months == 60


def test_disposition_must_belong_to_the_kind(catalogue: Catalogue) -> None:
    error = reject(catalogue, disposition="imprisonment", detention_days="")
    assert error.column == "disposition"


def test_status_must_be_effective_or_revoked(catalogue: Catalogue) -> None:
    assert reject(catalogue, status="pending").column == "status"


def test_required_text_columns(catalogue: Catalogue) -> None:
    for column in ("source", "record_id", "name"):
        error = reject(catalogue, **{column: ""})
        assert (error.column, error.reason) == (column, "is required")


def test_control_characters_are_rejected(catalogue: Catalogue) -> None:
    assert reject(catalogue, name="张\x00伟").column == "name"
    assert reject(catalogue, record_id="a\nb").column == "record_id"
