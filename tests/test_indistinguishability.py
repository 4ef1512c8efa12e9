"""SPEC section 4, indistinguishability: a requester not entitled to a sealed record cannot
tell a subject whose records are all sealed from a subject with no record — not by status,
body bytes, headers, nor response time. The same holds for a screening answer about
categories the regulation does not name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from scipy.stats import mannwhitneyu

from .disclosure_helpers import (
    ABSENT,
    MANY,
    OTHER,
    SEALED,
    Installation,
    installation,
    live_server,
)
from .factories import good_row

VARYING_HEADERS = {"date", "x-request-id"}
SAMPLES = 500


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    many = [
        good_row(
            record_id=f"M-{n}",
            id_number=MANY,
            birth_date="1970-05-05",
            kind="criminal",
            offence_code="CL-264-THEFT",
            offence_date=f"{1990 + n % 30}-01-01",
            decision_date=f"{1990 + n % 30}-06-01",
            completion_date=f"{1990 + n % 30}-12-01",
            disposition="imprisonment",
            detention_days="",
            sentence_months="6",
        )
        for n in range(60)
    ]
    setup = installation(tmp_path_factory.mktemp("indistinguishable"), many)
    with live_server(setup.home) as url:
        setup.url = url
        yield setup
    setup.home.ledger.close()


def ask(id_number: str, purpose: str, **fields: str) -> dict[str, Any]:
    return {"subject": {"id_number": id_number}, "purpose": purpose, **fields}


SCREEN_62 = {"regulation": "cn-minors-protection-62", "consent_ref": "C-1", "post": "teacher"}
# (organisation type, purpose, fields): requesters the law does not entitle to SEALED's
# records, refused and allowed alike.
NOT_ENTITLED = [
    ("employer", "statutory_screening", SCREEN_62),
    ("employer", "case_handling", {"case_number": "X-1", "legal_basis": "none"}),
    ("school", "case_handling", {"case_number": "X-1", "legal_basis": "none"}),
    ("court", "case_handling", {"case_number": "X-1"}),  # no legal basis named
    ("security_company", "statutory_screening", SCREEN_62),  # art. 62 does not list it
    ("records_bureau", "self_inquiry", {}),
    # Lawful screening under art. 62, whose scope excludes sealed records:
    ("school", "statutory_screening", SCREEN_62),
    ("kindergarten", "statutory_screening", SCREEN_62),
]


def observable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in VARYING_HEADERS)
    return response.status_code, response.content, headers


@pytest.mark.parametrize(("org_type", "purpose", "fields"), NOT_ENTITLED)
def test_all_sealed_looks_exactly_like_no_record(
    live: Installation, org_type: str, purpose: str, fields: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {live.tokens[org_type]}"}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        sealed = client.post(
            "/api/v1/disclosures", json=ask(SEALED, purpose, **fields), headers=headers
        )
        absent = client.post(
            "/api/v1/disclosures", json=ask(ABSENT, purpose, **fields), headers=headers
        )
    assert observable(sealed) == observable(absent)


def test_screening_says_nothing_about_categories_the_regulation_does_not_name(
    live: Installation,
) -> None:
    """OTHER's theft conviction is open, but art. 62 does not name theft."""
    headers = {"Authorization": f"Bearer {live.tokens['school']}"}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        other = client.post(
            "/api/v1/disclosures",
            json=ask(OTHER, "statutory_screening", **SCREEN_62),
            headers=headers,
        )
        absent = client.post(
            "/api/v1/disclosures",
            json=ask(ABSENT, "statutory_screening", **SCREEN_62),
            headers=headers,
        )
    assert other.json()["outcome"] == "no_match"
    assert observable(other) == observable(absent)


def timings(
    live: Installation, org_type: str, fields: dict[str, str], purpose: str, first: str, second: str
) -> tuple[list[float], list[float]]:
    """SAMPLES response times for each subject, interleaved so drift hits both alike."""
    headers = {"Authorization": f"Bearer {live.tokens[org_type]}"}
    times: dict[str, list[float]] = {first: [], second: []}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for _ in range(20):  # warm up connections, caches and the ledger writer
            client.post("/api/v1/disclosures", json=ask(first, purpose, **fields), headers=headers)
        for i in range(2 * SAMPLES):
            subject = (first, second)[i % 2]
            response = client.post(
                "/api/v1/disclosures", json=ask(subject, purpose, **fields), headers=headers
            )
            times[subject].append(response.elapsed.total_seconds())
    return times[first], times[second]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("org_type", "purpose", "fields", "subject"),
    [
        ("school", "statutory_screening", SCREEN_62, SEALED),  # allowed, sealed out of scope
        ("school", "statutory_screening", SCREEN_62, OTHER),  # allowed, category not named
        ("employer", "statutory_screening", SCREEN_62, SEALED),  # refused
    ],
)
def test_response_time_does_not_depend_on_the_records(
    live: Installation, org_type: str, purpose: str, fields: dict[str, str], subject: str
) -> None:
    """500 requests each; a two-sided Mann–Whitney U test cannot tell them apart (p > 0.01)."""
    with_records, without = timings(live, org_type, fields, purpose, subject, ABSENT)
    result = mannwhitneyu(with_records, without, alternative="two-sided")
    assert result.pvalue > 0.01, (
        result,
        sorted(with_records)[SAMPLES // 2],
        sorted(without)[SAMPLES // 2],
    )


@pytest.mark.slow
def test_the_timing_measurement_does_see_a_real_difference(live: Installation) -> None:
    """The same measurement has the power to see what a court may lawfully learn: 60
    records decrypted and sent against none. Without this, a p > 0.01 above could merely
    mean the measurement is too noisy to see anything."""
    case = {"case_number": "X-1", "legal_basis": "CPL art. 286"}
    with_records, without = timings(live, "court", case, "case_handling", MANY, ABSENT)
    result = mannwhitneyu(with_records, without, alternative="two-sided")
    assert result.pvalue < 0.01, result
