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
    assert response.json()["schema_revision"] == head_revision() == "0002"


def test_openapi_describes_every_route_with_examples(veil_home: Path) -> None:
    app_client = client(veil_home)
    spec = app_client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/healthz", "/api/v1/offences"}
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
