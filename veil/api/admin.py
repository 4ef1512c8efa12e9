"""Records-bureau routes (ingest, organisations, tokens) and the public catalogues.

Administrative routes ask the same Cedar policies as disclosures (action `ingest` or
`manage_organisations` on the Registry); every decision is written to the audit ledger.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from veil.api.disclosures import bearer
from veil.api.problems import PROBLEM_RESPONSES, problem, respond
from veil.disclosure import outcome
from veil.disclosure.administration import acting
from veil.disclosure.door import Requester
from veil.disclosure.organisations import UnknownOrganisationType
from veil.home import Home
from veil.ledger.log import LedgerUnavailable
from veil.recordfiles import FileFormatError
from veil.sealing.pack import pack_dict

INGEST_LIMIT = 256 * 1024 * 1024
# Content types an ingest body may have, and the file suffix the readers know them by.
INGEST_TYPES = {
    "text/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/vnd.apache.parquet": ".parquet",
}


class NewOrganisation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, examples=["Haidian No. 1 Primary School"])
    type: str = Field(max_length=32, examples=["school"])
    officer: str | None = Field(None, max_length=128, examples=["HR officer Li"])


class CreatedOrganisation(BaseModel):
    id: str = Field(examples=["org-3f9a2c1b7d4e"])
    name: str = Field(examples=["Haidian No. 1 Primary School"])
    type: str = Field(examples=["school"])
    token: str = Field(examples=["veil_tok-1a2b3c4d5e6f_…"], description="Shown once.")


class OrganisationOut(BaseModel):
    id: str = Field(examples=["org-3f9a2c1b7d4e"])
    name: str = Field(examples=["Haidian No. 1 Primary School"])
    type: str = Field(examples=["school"])
    created_at: str | None = Field(examples=["2026-11-24T09:00:00+00:00"])
    revoked_at: str | None = Field(examples=[None])


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    officer: str | None = Field(None, max_length=128, examples=["Officer Wang"])


class IssuedToken(BaseModel):
    token: str = Field(examples=["veil_tok-1a2b3c4d5e6f_…"], description="Shown once.")


class Revoked(BaseModel):
    id: str = Field(examples=["org-3f9a2c1b7d4e"])
    revoked: bool = Field(examples=[True])


def router(home: Home) -> APIRouter:
    api = APIRouter(prefix="/api/v1")

    def permitted(action: str, authorization: str | None, request: Request) -> Requester | Response:
        """The caller, if the policies let it take `action`; else the problem to send."""
        who = home.authenticator.requester(bearer(authorization))
        if who is None:
            return respond(outcome.unauthenticated())
        try:
            allowed = home.administration.allows(who, action, request.state.request_id)
        except LedgerUnavailable:
            return respond(outcome.ledger_unavailable())
        return who if allowed else respond(outcome.not_permitted(action))

    @api.post(
        "/organisations",
        status_code=201,
        response_model=CreatedOrganisation,
        responses=PROBLEM_RESPONSES,
        tags=["organisations"],
    )
    def create_organisation(
        body: NewOrganisation,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        """Register an organisation and issue its first token (records bureau only)."""
        who = permitted("manage_organisations", authorization, request)
        if isinstance(who, Response):
            return who
        try:
            return home.organisations.create(body.name, body.type, body.officer, by=acting(who))
        except (UnknownOrganisationType, ValueError) as exc:
            return problem(422, "Malformed request", str(exc))
        except LedgerUnavailable:
            return respond(outcome.ledger_unavailable())

    @api.get(
        "/organisations",
        response_model=list[OrganisationOut],
        responses=PROBLEM_RESPONSES,
        tags=["organisations"],
    )
    def list_organisations(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        """Every organisation, revoked ones included (records bureau only)."""
        who = permitted("manage_organisations", authorization, request)
        return who if isinstance(who, Response) else home.organisations.list()

    @api.post(
        "/organisations/{org_id}/revoke",
        response_model=Revoked,
        responses=PROBLEM_RESPONSES,
        tags=["organisations"],
    )
    def revoke_organisation(
        org_id: str, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        """Revoke an organisation and all its tokens (records bureau only)."""
        who = permitted("manage_organisations", authorization, request)
        if isinstance(who, Response):
            return who
        try:
            if not home.organisations.revoke(org_id, by=acting(who)):
                return problem(404, "Not found", "No live organisation has this id.")
        except LedgerUnavailable:
            return respond(outcome.ledger_unavailable())
        return {"id": org_id, "revoked": True}

    @api.post(
        "/organisations/{org_id}/tokens",
        status_code=201,
        response_model=IssuedToken,
        responses=PROBLEM_RESPONSES,
        tags=["organisations"],
    )
    def issue_token(
        org_id: str,
        body: NewToken,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        """Issue another token to a live organisation, e.g. for a named officer."""
        who = permitted("manage_organisations", authorization, request)
        if isinstance(who, Response):
            return who
        try:
            token = home.organisations.issue_token(org_id, body.officer, by=acting(who))
        except LedgerUnavailable:
            return respond(outcome.ledger_unavailable())
        if token is None:
            return problem(404, "Not found", "No live organisation has this id.")
        return {"token": token}

    @api.post(
        "/ingest",
        responses={
            200: {"description": "The ingest report, as `veil ingest --json` prints it"},
            **PROBLEM_RESPONSES,
        },
        tags=["records"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in INGEST_TYPES
                },
            }
        },
    )
    async def ingest(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        """Ingest a record file sent as the body (records bureau only); 256 MiB at most."""
        from starlette.concurrency import run_in_threadpool

        who = await run_in_threadpool(permitted, "ingest", authorization, request)
        if isinstance(who, Response):
            return who
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        suffix = INGEST_TYPES.get(kind)
        if suffix is None:
            return problem(
                415, "Unsupported media type", "Send one of: " + ", ".join(INGEST_TYPES) + "."
            )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload{suffix}"
            with path.open("wb") as handle:
                async for chunk in request.stream():
                    handle.write(chunk)
            return await run_in_threadpool(_ingest_file, home, path, acting(who))

    @api.get("/rules", tags=["catalogue"])
    def rules() -> list[dict[str, Any]]:
        """The rule packs in force, as `veil rules list --json` prints them."""
        return [pack_dict(p) for p in home.ruleset.packs]

    @api.get("/regulations", tags=["catalogue"])
    def regulations() -> list[dict[str, Any]]:
        """The regulation catalogue: who may screen, for which records."""
        return [r.public() for r in home.disclosure.regulations.values()]

    @api.get("/purposes", tags=["catalogue"])
    def purposes() -> dict[str, Any]:
        """The purposes a disclosure may name, with their basis and required fields."""
        return {k: v.model_dump() for k, v in home.disclosure.purposes.items()}

    return api


def _ingest_file(home: Home, path: Path, by: str) -> Any:
    try:
        report = home.ingest_file(path, by)
    except FileFormatError as exc:
        return problem(422, "Malformed record file", f"{exc} (nothing was stored)")
    except LedgerUnavailable:
        return respond(outcome.ledger_unavailable())
    return report.as_dict()
