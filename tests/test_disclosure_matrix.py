"""The authorisation matrix, run against a live server (SPEC section 4).

Generated from the data the policies read: every organisation type (org_types.yaml) ×
every purpose (purposes.yaml, plus one the law does not know) × every regulation
(regulations.yaml) × each required field present or missing × a subject whose records are
sealed, open, in another category, or absent. The expected outcome is computed here from
SPEC section 4's table, independently of the Cedar policies under test.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from veil.disclosure.catalogue import load_disclosure_catalogue

from .disclosure_helpers import (
    ABSENT,
    OPEN,
    OTHER,
    SEALED,
    SUBJECTS,
    Installation,
    installation,
    live_server,
)

CATALOGUE = load_disclosure_catalogue()
VALUES = {
    "case_number": "京公刑立字〔2026〕1234号",
    "legal_basis": "Criminal Procedure Law art. 286",
    "consent_ref": "CONSENT-0001",
    "post": "teacher",
}
UNKNOWN_PURPOSE = "curiosity"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    setup = installation(tmp_path_factory.mktemp("matrix"))
    with live_server(setup.home) as url:
        setup.url = url
        yield setup
    setup.home.ledger.close()


def cases() -> Iterator[tuple[str, str, str, tuple[str, ...]]]:
    """(organisation type, purpose, regulation, required fields present)."""
    for org_type in CATALOGUE.org_types:
        for purpose in [*CATALOGUE.purposes, UNKNOWN_PURPOSE]:
            required = CATALOGUE.purposes[purpose].requires if purpose in CATALOGUE.purposes else ()
            checked = [f for f in required if f != "regulation"]
            regulations = list(CATALOGUE.regulations) if "regulation" in required else [""]
            for regulation in regulations:
                for n in range(len(checked) + 1):
                    for present in itertools.combinations(checked, n):
                        yield org_type, purpose, regulation, present


def entitled(org_type: str, purpose: str, regulation: str, present: tuple[str, ...]) -> bool:
    """SPEC section 4's table, read plainly."""
    group = CATALOGUE.org_types[org_type].group
    if purpose == "case_handling":
        return group == "case_handling_organ" and set(present) == {"case_number", "legal_basis"}
    if purpose == "statutory_screening":
        reg = CATALOGUE.regulations[regulation]
        return org_type in reg.unit_types and set(present) == {"consent_ref", "post"}
    return False  # self_inquiry is for the subject, never for an organisation; others refused


# What each lawful answer must say about each subject (see disclosure_helpers).
CASE_STATES = {
    SEALED: ["sealed", "sealed"],
    OPEN: ["open"],
    OTHER: ["open"],
    ABSENT: [],
}
SCREENING = {
    # Law on the Protection of Minors art. 62: sexual, abuse, trafficking, violence; sealed
    # records out of scope; offence names shown.
    "cn-minors-protection-62": {
        SEALED: ("no_match", []),
        OPEN: ("match", ["CL-236-RAPE"]),
        OTHER: ("no_match", []),
        ABSENT: ("no_match", []),
    },
    # 2020 teacher entry-query Opinions art. 3: rape, indecent assault, child molestation,
    # sealed records in scope; hit or no hit only (art. 4).
    "cn-teacher-entry-query-2020": {
        SEALED: ("match", None),
        OPEN: ("match", None),
        OTHER: ("no_match", None),
        ABSENT: ("no_match", None),
    },
}


def body(id_number: str, purpose: str, regulation: str, present: tuple[str, ...]) -> dict[str, Any]:
    request: dict[str, Any] = {"subject": {"id_number": id_number}, "purpose": purpose}
    if regulation:
        request["regulation"] = regulation
    request.update({field: VALUES[field] for field in present})
    return request


def test_every_organisation_type_purpose_and_requirement(live: Installation) -> None:
    checked = 0
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for org_type, purpose, regulation, present in cases():
            allowed = entitled(org_type, purpose, regulation, present)
            headers = {"Authorization": f"Bearer {live.tokens[org_type]}"}
            refusals = set()
            for id_number in SUBJECTS.values():
                response = client.post(
                    "/api/v1/disclosures",
                    json=body(id_number, purpose, regulation, present),
                    headers=headers,
                )
                label = (org_type, purpose, regulation, present, id_number)
                if not allowed:
                    assert response.status_code == 403, label
                    assert response.headers["content-type"] == "application/problem+json"
                    refusals.add(response.content)
                elif purpose == "case_handling":
                    assert response.status_code == 200, label
                    answer = response.json()
                    states = [r["seal_state"] for r in answer["records"]]
                    assert states == CASE_STATES[id_number], label
                    # CPL art. 286 para. 2: a lawful disclosure of a sealed record carries the
                    # confidentiality notice.
                    assert ("confidentiality_notice" in answer) == ("sealed" in states), label
                else:
                    assert response.status_code == 200, label
                    answer = response.json()
                    outcome, names = SCREENING[regulation][id_number]
                    assert answer["outcome"] == outcome, label
                    assert answer["regulation"] == regulation
                    if names is None:
                        assert "offences" not in answer, label
                    else:
                        assert [o["code"] for o in answer["offences"]] == names, label
                checked += 1
            # A refusal never depends on the data: one body for all four subjects.
            assert len(refusals) <= 1, (org_type, purpose, regulation, present)
    assert checked == 4 * sum(1 for _ in cases())


def test_self_inquiry_needs_the_subjects_own_verified_identity(live: Installation) -> None:
    """PIPL art. 45: a person sees their own records and who looked; nobody else's."""
    identity = live.home.identity
    own = identity.credential(SEALED)  # type: ignore[attr-defined]
    with httpx.Client(base_url=live.url, timeout=30) as client:
        ask = {"subject": {"id_number": SEALED}, "purpose": "self_inquiry"}
        mine = client.post(
            "/api/v1/disclosures", json=ask, headers={"Authorization": f"Bearer {own}"}
        )
        assert mine.status_code == 200
        answer = mine.json()
        assert [r["seal_state"] for r in answer["records"]] == ["sealed", "sealed"]
        assert all(r["explanation"]["en"] and r["explanation"]["zh"] for r in answer["records"])
        assert any(a["purpose"] == "self_inquiry" for a in answer["access_history"])
        # Someone else's records, with my identity: refused like any refusal.
        other = client.post(
            "/api/v1/disclosures",
            json={"subject": {"id_number": OPEN}, "purpose": "self_inquiry"},
            headers={"Authorization": f"Bearer {own}"},
        )
        assert other.status_code == 403
        # A forged credential proves nobody.
        forged = own[:-4] + ("0000" if not own.endswith("0000") else "1111")
        assert (
            client.post(
                "/api/v1/disclosures", json=ask, headers={"Authorization": f"Bearer {forged}"}
            ).status_code
            == 401
        )


def test_the_subject_sees_who_looked_and_why(live: Installation) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        court = {"Authorization": f"Bearer {live.tokens['court']}"}
        looked = client.post(
            "/api/v1/disclosures",
            json=body(OPEN, "case_handling", "", ("case_number", "legal_basis")),
            headers=court,
        )
        assert looked.status_code == 200
        own = live.home.identity.credential(OPEN)  # type: ignore[attr-defined]
        mine = client.post(
            "/api/v1/disclosures",
            json={"subject": {"id_number": OPEN}, "purpose": "self_inquiry"},
            headers={"Authorization": f"Bearer {own}"},
        ).json()
    seen = [a for a in mine["access_history"] if a["organisation_type"] == "court"]
    assert seen and seen[-1]["purpose"] == "case_handling"
    assert seen[-1]["case_number"] == VALUES["case_number"]
    assert seen[-1]["organisation"] == "A court"
    assert json.dumps(mine).count(OPEN) == 1  # only in the record itself, not the history


def test_revoked_organisation_is_refused_everything(tmp_path: Path) -> None:
    setup = installation(tmp_path)
    court = next(o for o in setup.home.organisations.list() if o["type"] == "court")
    with live_server(setup.home) as url, httpx.Client(base_url=url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {setup.tokens['court']}"}
        ask = body(OPEN, "case_handling", "", ("case_number", "legal_basis"))
        assert client.post("/api/v1/disclosures", json=ask, headers=headers).status_code == 200
        assert setup.home.organisations.revoke(court["id"])
        assert client.post("/api/v1/disclosures", json=ask, headers=headers).status_code == 401
    setup.home.ledger.close()
