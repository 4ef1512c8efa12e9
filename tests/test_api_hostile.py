"""Hostile HTTP input: clear RFC 9457 problems, and nothing changed (SPEC section 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from veil.api import create_app

from .disclosure_helpers import OPEN, installation


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    installed = installation(tmp_path)
    yield installed, TestClient(create_app(installed.home))
    installed.home.ledger.close()


def counts(home) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with home.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("records", "organisations", "api_tokens")
        )


def test_oversized_bodies_are_refused_before_they_are_read(setup) -> None:  # type: ignore[no-untyped-def]
    installed, client = setup
    big = {"subject": {"id_number": OPEN}, "purpose": "case_handling", "post": "x" * 100_000}
    response = client.post(
        "/api/v1/disclosures",
        json=big,
        headers={"Authorization": f"Bearer {installed.tokens['court']}"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    # A page's form (here an upload to the certificate check, 10 MiB at most) gets a page a
    # person can read, before any of the body is read or anything is looked up.
    page = client.post(
        "/certificates/verify",
        content=b"x" * (10 * 2**20 + 1),
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "提交的内容过大" in page.text and "at most 10 MiB" in page.text


def test_forged_and_malformed_tokens_are_not_authenticated(setup) -> None:  # type: ignore[no-untyped-def]
    installed, client = setup
    ask = {
        "subject": {"id_number": OPEN},
        "purpose": "case_handling",
        "case_number": "1",
        "legal_basis": "x",
    }
    real = installed.tokens["court"]
    for header in (
        None,
        "Bearer",
        "Basic " + real,
        "Bearer " + real[:-1] + ("A" if real[-1] != "A" else "B"),
        "Bearer veil_' OR 1=1 --",
        "Bearer " + "x" * 5000,
    ):
        headers = {"Authorization": header} if header is not None else {}
        response = client.post("/api/v1/disclosures", json=ask, headers=headers)
        assert response.status_code == 401, header
        assert response.json()["type"] == "/problems/not-authenticated"
        assert response.headers["www-authenticate"] == "Bearer"


def test_injection_strings_are_data_and_change_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    installed, client = setup
    before = counts(installed.home)
    headers = {"Authorization": f"Bearer {installed.tokens['court']}"}
    for nasty in ("'; DROP TABLE records; --", 'x" OR "1"="1', "../../etc/passwd", "\u0000"):
        response = client.post(
            "/api/v1/disclosures",
            json={
                "subject": {"id_number": OPEN},
                "purpose": "case_handling",
                "case_number": nasty,
                "legal_basis": nasty,
            },
            headers=headers,
        )
        assert response.status_code == 200
        bad_id = client.post(
            "/api/v1/disclosures",
            json={
                "subject": {"id_number": nasty},
                "purpose": "case_handling",
                "case_number": "1",
                "legal_basis": "x",
            },
            headers=headers,
        )
        assert bad_id.status_code == 422
        assert nasty not in bad_id.text  # problems name the field, never echo the value
    assert counts(installed.home) == before


def test_malformed_json_gets_a_problem(setup) -> None:  # type: ignore[no-untyped-def]
    installed, client = setup
    before = counts(installed.home)
    for body in (b"{not json", b'{"purpose": "\xff"}', b"\xef\xbb\xbf{}", b"[" * 10_000):
        response = client.post(
            "/api/v1/disclosures",
            content=body,
            headers={
                "Authorization": f"Bearer {installed.tokens['court']}",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 422, body[:20]
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "Invalid or missing: body."
    assert counts(installed.home) == before


def test_only_the_records_bureau_administers(setup) -> None:  # type: ignore[no-untyped-def]
    installed, client = setup
    before = counts(installed.home)
    new = {"name": "Rogue", "type": "court"}
    for org_type in ("court", "school", "employer"):
        headers = {"Authorization": f"Bearer {installed.tokens[org_type]}"}
        assert client.post("/api/v1/organisations", json=new, headers=headers).status_code == 403
        assert client.get("/api/v1/organisations", headers=headers).status_code == 403
        assert (
            client.post(
                "/api/v1/ingest",
                content=b"source\n",
                headers={**headers, "Content-Type": "text/csv"},
            ).status_code
            == 403
        )
    assert counts(installed.home) == before
    bureau = {"Authorization": f"Bearer {installed.tokens['records_bureau']}"}
    created = client.post("/api/v1/organisations", json=new, headers=bureau)
    assert created.status_code == 201 and set(created.json()) >= {"id", "token"}
    assert client.post(
        f"/api/v1/organisations/{created.json()['id']}/revoke", headers=bureau
    ).json() == {"id": created.json()["id"], "revoked": True}
