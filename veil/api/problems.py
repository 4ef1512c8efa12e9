"""RFC 9457 problem responses, and the handlers that turn every error into one.

A problem's content depends only on the request: never on the subject's data. Validation
problems name the fields at fault but never echo the values sent (they may be ID numbers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from veil.disclosure.outcome import Outcome
from veil.disclosure.outcome import problem as outcome_problem

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    type: str = Field(examples=["/problems/not-permitted"])
    title: str = Field(examples=["Not permitted"])
    status: int = Field(examples=[403])
    detail: str = Field(examples=["This request is not permitted for purpose case_handling."])


def respond(outcome: Outcome) -> Response:
    """An outcome as a response, serialised once: compact JSON, problems as
    application/problem+json."""
    body = json.dumps(outcome.body, ensure_ascii=False, separators=(",", ":")).encode()
    media = MEDIA_TYPE if outcome.is_problem else "application/json"
    response = Response(body, status_code=outcome.status, media_type=media)
    for name, value in outcome.headers:
        response.headers[name] = value
    return response


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Response:
    return respond(outcome_problem(status, title, detail, kind))


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": description}
    for status, description in (
        (401, "No valid bearer token"),
        (403, "Not permitted (the same body whatever the subject's records)"),
        (413, "Request body too large"),
        (422, "Malformed request"),
        (503, "Audit ledger unavailable: nothing disclosed"),
    )
}


def malformed(errors: Iterable[Mapping[str, Any]]) -> Response:
    """422 naming the fields of pydantic's `errors` at fault (the body itself, where it is
    not a JSON object or not JSON), never the values sent."""
    fields = sorted(
        {
            # FastAPI locates a JSON syntax error by its offset in the body: the body it is.
            "body"
            if error["type"] == "json_invalid"
            else ".".join(str(p) for p in error["loc"] if p != "body") or "body"
            for error in errors
        }
    )
    return problem(422, "Malformed request", "Invalid or missing: " + ", ".join(fields) + ".")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        return malformed(exc.errors())

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))
