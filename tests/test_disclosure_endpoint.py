"""POST /api/v1/disclosures is served by a plain ASGI app ahead of FastAPI
(veil/api/disclosures.py); FastAPI's declaration of the route, which the OpenAPI document
describes, must answer the same bytes. SPEC section 4: on both, a refusal's bytes depend
only on the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from veil.api import create_app
from veil.api.app import VeilApp
from veil.api.disclosures import PATH, is_json

from .disclosure_helpers import ABSENT, OPEN, SEALED, Installation, installation

UNSTABLE = {"date", "x-request-id"}  # the only headers allowed to differ between two answers


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    found = installation(tmp_path_factory.mktemp("endpoint"), answer_floor_ms=0)
    yield found
    found.home.ledger.close()


def requests(tokens: dict[str, str]) -> Iterator[tuple[str, str, str, bytes, dict[str, str]]]:
    """(name, method, path, body, headers): answers, refusals and malformed requests."""

    def case(subject: str) -> dict[str, Any]:
        return {
            "subject": {"id_number": subject},
            "purpose": "case_handling",
            "case_number": "1",
            "legal_basis": "CPL art. 286",
        }

    def screening(subject: str) -> dict[str, Any]:
        return {
            "subject": {"id_number": subject},
            "purpose": "statutory_screening",
            "regulation": "cn-minors-protection-62",
            "consent_ref": "C-1",
            "post": "teacher",
        }

    def asks(org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[org]}", "Content-Type": "application/json"}

    def sent(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode()

    court, school = asks("court"), asks("school")
    yield "court, open record", "POST", PATH, sent(case(OPEN)), court
    yield "court, sealed records", "POST", PATH, sent(case(SEALED)), court
    yield "school, match", "POST", PATH, sent(screening(OPEN)), school
    yield "school, sealed", "POST", PATH, sent(screening(SEALED)), school
    yield "school, absent", "POST", PATH, sent(screening(ABSENT)), school
    yield "employer refused", "POST", PATH, sent(case(OPEN)), asks("employer")
    yield "no token", "POST", PATH, sent(case(OPEN)), {"Content-Type": "application/json"}
    yield "basic scheme", "POST", PATH, sent(case(OPEN)), {**court, "Authorization": "Basic x"}
    lower = {**court, "Authorization": f"bearer {tokens['court']}"}
    yield "scheme in lower case", "POST", PATH, sent(case(OPEN)), lower
    yield "not JSON", "POST", PATH, b"{not json", court
    yield "empty body", "POST", PATH, b"", court
    yield "a JSON array", "POST", PATH, b"[1, 2]", court
    yield "no subject", "POST", PATH, b'{"purpose": "case_handling"}', court
    yield "unknown field", "POST", PATH, sent({**case(OPEN), "extra": 1}), court
    yield "injection as ID", "POST", PATH, sent(case("'; DROP TABLE records; --")), court
    yield "number for text", "POST", PATH, sent({**case(OPEN), "post": 5}), court
    yield "text too long", "POST", PATH, sent({**case(OPEN), "post": "x" * 300}), court
    yield "NUL in text", "POST", PATH, sent({**case(OPEN), "case_number": "\u0000"}), court
    untyped = {"Authorization": court["Authorization"]}
    yield "no content type", "POST", PATH, sent(case(OPEN)), untyped
    yield "text/plain", "POST", PATH, sent(case(OPEN)), {**court, "Content-Type": "text/plain"}
    charset = {**court, "Content-Type": "application/json; charset=utf-8"}
    yield "JSON with a charset", "POST", PATH, sent(case(OPEN)), charset
    suffixed = {**court, "Content-Type": "application/merge-patch+json"}
    yield "a +json type", "POST", PATH, sent(case(OPEN)), suffixed
    too_big = sent({**case(OPEN), "post": "x" * 100_000})
    yield "over the size limit", "POST", PATH, too_big, court
    yield "a query string", "POST", PATH + "?x=1", sent(case(OPEN)), court
    yield "GET", "GET", PATH, b"", court
    yield "PUT", "PUT", PATH, sent(case(OPEN)), court
    yield "trailing slash", "POST", PATH + "/", sent(case(OPEN)), court


def fastapi_route(app: VeilApp) -> Any:
    """The app with requests going through FastAPI's own stack and route."""

    async def through_fastapi(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return through_fastapi


def seen(response: Any) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in UNSTABLE}
    return response.status_code, headers, response.content


def test_the_served_route_answers_what_fastapis_route_declares(installed: Installation) -> None:
    app = create_app(installed.home)
    endpoint = app.disclosures
    assert endpoint is not None
    reached: list[str] = []

    async def counted(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["method"])
        await endpoint(scope, receive, send)

    app.disclosures = counted
    served = TestClient(app, follow_redirects=False)
    declared = TestClient(fastapi_route(app), follow_redirects=False)
    posts = 0
    for name, method, path, body, headers in requests(installed.tokens):
        ours = served.request(method, path, content=body, headers=headers)
        posts += method == "POST" and not path.endswith("/")
        assert len(reached) == posts, f"{name}: not served by the plain ASGI app"
        theirs = declared.request(method, path, content=body, headers=headers)
        assert len(reached) == posts, f"{name}: FastAPI's route used the plain ASGI app"
        assert seen(ours) == seen(theirs), name
        # Every answer the route gives itself carries its request id (the size limit's
        # refusal is given before the request has one, on both).
        if ours.status_code != 413:
            assert ("x-request-id" in ours.headers) == ("x-request-id" in theirs.headers), name


def test_json_content_types() -> None:
    for value in ("application/json", "Application/JSON; charset=utf-8", "application/x+json"):
        assert is_json(value), value
    for value in (None, "", "text/plain", "application/jsonx", "json", "text/json", "application"):
        assert not is_json(value), value
