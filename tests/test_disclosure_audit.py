"""SPEC section 4, write-ahead audit, and section 6: every decision is in the ledger before
any record data leaves; if the ledger cannot be written, the disclosure fails closed.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from veil.api import create_app

from .disclosure_helpers import OPEN, SEALED, installation

CASE = {"case_number": "京公刑立字〔2026〕77号", "legal_basis": "CPL art. 286"}


def entries(home) -> list[bytes]:  # type: ignore[no-untyped-def]
    with home.engine.connect() as conn:
        return [
            bytes(r[0]) for r in conn.execute(text("SELECT entry FROM audit_entries ORDER BY idx"))
        ]


def test_every_decision_is_durable_before_the_answer_and_names_no_one(tmp_path: Path) -> None:
    setup = installation(tmp_path)
    home = setup.home
    client = TestClient(create_app(home))
    before = len(entries(home))
    for org_type, id_number in (("court", SEALED), ("employer", OPEN), ("school", OPEN)):
        response = client.post(
            "/api/v1/disclosures",
            json={"subject": {"id_number": id_number}, "purpose": "case_handling", **CASE},
            headers={"Authorization": f"Bearer {setup.tokens[org_type]}"},
        )
        assert response.status_code in (200, 403)
        # Durable by the time the answer (or refusal) arrives: another connection sees it.
        logged = entries(home)
        assert len(logged) == before + 1
        before += 1
        last = logged[-1].decode()
        assert ('"decision":"allow"' in last) == (response.status_code == 200)
        assert id_number not in last  # SPEC section 6: the subject only by keyed blind index
        index = hmac.new(home.keys.audit_subject_key(), id_number.encode(), hashlib.sha256)
        assert index.hexdigest() in last
    # A lawful disclosure of sealed records is recorded as an obligation of the receiver.
    sealed_look = entries(home)[-3].decode()
    assert '"confidentiality_obligation":true' in sealed_look
    home.ledger.close()


def test_disclosure_fails_closed_when_the_ledger_cannot_be_written(tmp_path: Path) -> None:
    setup = installation(tmp_path)
    home = setup.home
    client = TestClient(create_app(home))
    ask = {"subject": {"id_number": SEALED}, "purpose": "case_handling", **CASE}
    court = {"Authorization": f"Bearer {setup.tokens['court']}"}
    assert client.post("/api/v1/disclosures", json=ask, headers=court).status_code == 200
    with home.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER ledger_down BEFORE INSERT ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'ledger store failed'); END"
            )
        )
    count = len(entries(home))
    for headers in (court, {"Authorization": f"Bearer {setup.tokens['employer']}"}):
        response = client.post("/api/v1/disclosures", json=ask, headers=headers)
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "李明" not in response.text and "CL-237" not in response.text
    assert len(entries(home)) == count
    with home.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_down"))
    assert client.post("/api/v1/disclosures", json=ask, headers=court).status_code == 200
    home.ledger.close()
