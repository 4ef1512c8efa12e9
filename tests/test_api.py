"""The HTTP API of the foundation: health, OpenAPI, and the public offence catalogue."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from veil.api import create_app
from veil.home import Home
from veil.store.database import head_revision


def client(veil_home: Path) -> TestClient:
    home = Home()
    home.init()
    return TestClient(create_app(home))


def test_healthz_reports_the_schema(veil_home: Path) -> None:
    response = client(veil_home).get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["schema_revision"] == head_revision() == "0005"


def test_openapi_describes_every_route_with_examples(veil_home: Path) -> None:
    app_client = client(veil_home)
    spec = app_client.get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/healthz",
        "/api/v1/offences",
        "/api/v1/disclosures",
        "/api/v1/organisations",
        "/api/v1/organisations/{org_id}/revoke",
        "/api/v1/organisations/{org_id}/tokens",
        "/api/v1/ingest",
        "/api/v1/rules",
        "/api/v1/regulations",
        "/api/v1/purposes",
        "/api/v1/audit/checkpoint",
        "/api/v1/audit/proof",
        "/api/v1/audit/consistency",
        "/api/v1/audit/key",
        "/api/v1/certificates",
        "/api/v1/certificates/letters",
        "/api/v1/certificates/key",
        "/api/v1/certificates/{code}",
    }  # pages (such as /certificates/verify) are not in the API's description: docs/web.md
    disclose = spec["paths"]["/api/v1/disclosures"]["post"]
    assert set(disclose["responses"]) >= {"200", "401", "403", "413", "422", "503"}
    assert disclose["requestBody"]["content"]["application/json"]["schema"]
    assert len(spec["components"]["schemas"]["DisclosureBody"]["examples"]) == 3
    assert app_client.get("/docs").status_code == 200
    for name, schema in spec["components"]["schemas"].items():
        if name.startswith(("HTTPValidationError", "ValidationError")):
            continue
        for prop in schema["properties"].values():
            assert "examples" in prop, name


def test_offence_catalogue_is_public_and_read_only(veil_home: Path) -> None:
    app_client = client(veil_home)
    offences = app_client.get("/api/v1/offences").json()
    assert len(offences) >= 40
    assert app_client.post("/api/v1/offences", json={}).status_code == 405


def test_records_bureau_ingests_over_http(tmp_path: Path) -> None:
    from .disclosure_helpers import installation
    from .factories import good_row
    from .test_cli import write_csv

    setup = installation(tmp_path / "home")
    app_client = TestClient(create_app(setup.home))
    body = write_csv(tmp_path / "more.csv", [good_row(record_id="HTTP-1")]).read_bytes()
    response = app_client.post(
        "/api/v1/ingest",
        content=body,
        headers={
            "Authorization": f"Bearer {setup.tokens['records_bureau']}",
            "Content-Type": "text/csv",
        },
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    wrong = app_client.post(
        "/api/v1/ingest",
        content=body,
        headers={
            "Authorization": f"Bearer {setup.tokens['records_bureau']}",
            "Content-Type": "application/pdf",
        },
    )
    assert wrong.status_code == 415
    setup.home.ledger.close()


def test_catalogues_are_public(veil_home: Path) -> None:
    app_client = client(veil_home)
    regulations = {r["id"]: r for r in app_client.get("/api/v1/regulations").json()}
    assert set(regulations) == {"cn-minors-protection-62", "cn-teacher-entry-query-2020"}
    assert regulations["cn-minors-protection-62"]["article"] == "62"
    assert app_client.get("/api/v1/purposes").json()["case_handling"]["requires"] == [
        "case_number",
        "legal_basis",
    ]
    assert {p["id"] for p in app_client.get("/api/v1/rules").json()} >= {"cn-psapl-2025"}
