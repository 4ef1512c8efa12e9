"""POST /api/v1/disclosures: the HTTP face of the only door.

The route is served as a plain ASGI app (`DisclosureEndpoint`), which `VeilApp` hands the
route to ahead of FastAPI's middleware, routing and dependency solving; FastAPI's route
(`router`) describes it in the OpenAPI document and answers the same bytes through the
same steps (tests/test_disclosure_endpoint.py holds the two together). Why: FastAPI's
machinery cost about 250 µs of the 630 µs of CPU a disclosure took; one server process
answered 894-1,021 audited disclosures/s through it, about 1,400-1,500/s this way
(docs/performance.md, "2026-12-04 (later)").
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from veil.api.problems import PROBLEM_RESPONSES, malformed, respond
from veil.disclosure.outcome import handle_async
from veil.disclosure.request import DisclosureBody
from veil.home import Home

PATH = "/api/v1/disclosures"

ANSWER_EXAMPLES = {
    "case_handling": {
        "summary": "case_handling: every record, sealed ones marked, with the notice",
        "value": {
            "records": [
                {
                    "source": "bj-psb",
                    "record_id": "R-000123",
                    "name": "张三",
                    "id_number": "11010519491231002X",
                    "alt_id": None,
                    "kind": "criminal",
                    "code": "CL-264-THEFT",
                    "name_zh": "盗窃罪",
                    "name_en": "Theft",
                    "offence_date": "2019-03-02",
                    "decision_date": "2019-09-10",
                    "completion_date": "2020-03-10",
                    "disposition": "detention",
                    "detention_days": None,
                    "sentence_months": 6,
                    "fine_yuan": 2000,
                    "seal_state": "sealed",
                    "seal_rule": "cpl-286-seal",
                }
            ],
            "confidentiality_notice": {"zh": "本答复含有依法封存的记录……", "en": "This answer…"},
        },
    },
    "statutory_screening": {
        "summary": "statutory_screening: match or no_match, as of the query",
        "value": {
            "outcome": "no_match",
            "regulation": "cn-minors-protection-62",
            "as_of": "2026-11-24",
            "offences": [],
        },
    },
    "self_inquiry": {
        "summary": "self_inquiry: own records with reasons, and who looked",
        "value": {
            "records": [],
            "access_history": [
                {
                    "time": "2026-11-24T09:30:00+00:00",
                    "organisation": "Haidian No. 1 Primary School",
                    "organisation_type": "school",
                    "purpose": "statutory_screening",
                    "decision": "allow",
                    "case_number": None,
                    "regulation": "cn-minors-protection-62",
                }
            ],
        },
    },
}


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credential = authorization.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else None


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON (application/json or application/*+json), as
    FastAPI requires of a JSON body (its strict content type)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    major, _, minor = media.partition("/")
    return major == "application" and (minor == "json" or minor.endswith("+json"))


async def answer(
    home: Home, authorization: str | None, body: DisclosureBody, request_id: str
) -> Response:
    """The door's answer to a well-formed request, as its HTTP response."""
    return respond(await handle_async(home, bearer(authorization), body, request_id))


class DisclosureEndpoint:
    """POST /api/v1/disclosures as a plain ASGI app, inside `BodyLimit` (which counts the
    body and gives the request its id)."""

    def __init__(self, home: Home) -> None:
        self.home = home

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        headers = request.headers
        body = self.parse(headers.get("content-type"), raw)
        if isinstance(body, DisclosureBody):
            response = await answer(
                self.home, headers.get("authorization"), body, scope["state"]["request_id"]
            )
        else:
            response = body
        await response(scope, receive, send)

    @staticmethod
    def parse(content_type: str | None, raw: bytes) -> DisclosureBody | Response:
        """The request body, or the 422 problem FastAPI's validation would have given."""
        if not raw or not is_json(content_type):
            return malformed([{"type": "missing", "loc": ("body",)}])
        try:
            return DisclosureBody.model_validate_json(raw)
        except ValidationError as exc:
            return malformed(exc.errors())


def router(home: Home) -> APIRouter:
    """The route as FastAPI declares it: for the OpenAPI document (VeilApp serves requests
    through DisclosureEndpoint)."""
    api = APIRouter(prefix="/api/v1", tags=["disclosure"])

    @api.post(
        "/disclosures",
        responses={
            200: {
                "content": {"application/json": {"examples": ANSWER_EXAMPLES}},
                "description": "What the purpose allows",
            },
            **PROBLEM_RESPONSES,
        },
    )
    async def disclose(
        body: DisclosureBody,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        """Ask the one door. The audit entry is durable before the answer is sent.

        Refusals are 403 problems whose bytes depend only on the request: a subject whose
        records are all sealed and a subject with none get the same answer. Screening
        answers and refusals are sent no earlier than VEIL_ANSWER_FLOOR_MS (default 5 ms)
        after the request arrived, so that their time does not tell them apart either.
        """
        return await answer(home, authorization, body, request.state.request_id)

    return api
