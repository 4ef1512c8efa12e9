"""Certificates over the API: a person's own, a unit's letter, the check by code and the
published key. (The page that checks a certificate is veil/web/verify.py.)"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from veil.api.disclosures import bearer
from veil.api.problems import PROBLEM_RESPONSES, respond
from veil.certificates import issue as issuing
from veil.certificates.issue import Issued, check_code, issue, issue_letter
from veil.disclosure import outcome
from veil.disclosure.door import DisclosureRequest, Refused, Requester
from veil.disclosure.request import TEXT, Subject
from veil.home import Home
from veil.ledger.log import LedgerUnavailable


class PublicKey(BaseModel):
    algorithm: str = Field(examples=["Ed25519"])
    public_key: str = Field(examples=["kQ3cV0V1…base64…="], description="Raw key, base64.")


class Check(BaseModel):
    genuine: bool = Field(examples=[True])
    issued_on: str | None = Field(None, examples=["2026-11-24"])
    valid_until: str | None = Field(None, examples=["2027-02-22"])
    expired: bool | None = Field(None, examples=[False])


class CertificateBody(BaseModel):
    """A person asks for their own certificate, authenticated by the identity check."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"subject": {"id_number": "11010519491231002X"}, "name": "王芳", "lang": "zh"}
            ]
        },
    )
    subject: Subject = Field(examples=[{"id_number": "11010519491231002X"}])
    name: str = Field(
        min_length=1,
        max_length=64,
        description="The applicant's name as verified at application: printed as given.",
        examples=["王芳"],
    )
    lang: Literal["zh", "en"] = Field("zh", examples=["zh"])


class LetterBody(CertificateBody):
    """A unit asks about a person who consented, under a regulation that lists its type."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"id_number": "11010519491231002X"},
                    "name": "王芳",
                    "regulation": "cn-minors-protection-62",
                    "consent_ref": "CONSENT-2026-0001",
                    "post": "primary school teacher",
                    "lang": "zh",
                }
            ]
        },
    )
    name: str = Field(
        min_length=1,
        max_length=64,
        description="The person's name as on their signed consent: printed as given.",
        examples=["王芳"],
    )
    regulation: str = Field(max_length=TEXT, examples=["cn-minors-protection-62"])
    consent_ref: str = Field(max_length=TEXT, examples=["CONSENT-2026-0001"])
    post: str = Field(max_length=TEXT, examples=["primary school teacher"])


PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {}},
        "description": "The signed PDF. Headers: Veil-Certificate-Code, Veil-Certificate-Serial.",
    },
    **PROBLEM_RESPONSES,
}


def issue_response(
    home: Home,
    credential: str | None,
    purpose: str,
    issuing: Callable[[Requester], Issued],
) -> Response:
    """Authenticate, issue through the door, and answer with the PDF or a problem."""
    requester = home.authenticator.requester(credential)
    if requester is None:
        return respond(outcome.unauthenticated())
    try:
        issued = issuing(requester)
    except Refused:
        return respond(outcome.not_permitted(purpose))
    except LedgerUnavailable:
        return respond(outcome.ledger_unavailable())
    return Response(issued.pdf, media_type="application/pdf", headers=issued.download_headers())


def router(home: Home) -> APIRouter:
    api = APIRouter(tags=["certificates"])

    @api.get("/api/v1/certificates/key", response_model=PublicKey)
    def public_key() -> dict[str, str]:
        """The Ed25519 key every certificate is signed with: verify offline with it."""
        key = base64.b64encode(issuing.public_key(home)).decode()
        return {"algorithm": "Ed25519", "public_key": key}

    @api.post("/api/v1/certificates", response_class=Response, responses=PDF_RESPONSE)
    def issue_own(
        body: CertificateBody,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Issue my own certificate, or the notice that one cannot be issued.

        Authenticate with the identity check's credential (self-inquiry) for the ID number
        in the body; anyone else's is refused. The PDF is sent once its issue is in the
        ledger. Someone whose only records are sealed gets what someone with none gets.
        """
        return issue_response(
            home,
            bearer(authorization),
            "certificate",
            lambda who: issue(
                home,
                who,
                body.subject.id_number,
                body.name.strip(),
                body.lang,
                request.state.request_id,
            ),
        )

    @api.post("/api/v1/certificates/letters", response_class=Response, responses=PDF_RESPONSE)
    def issue_unit_letter(
        body: LetterBody,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """A unit's query notification letter about its staff member or applicant.

        Authenticate with the unit's token. Permitted only under a regulation that lists the
        unit's type, with the person's consent and the post named. The letter says whether
        a criminal record was found, nothing more; sealed records never count.
        """
        letter = DisclosureRequest(
            id_number=body.subject.id_number,
            purpose="unit_letter",
            regulation=body.regulation,
            consent_ref=body.consent_ref,
            post=body.post,
        )
        return issue_response(
            home,
            bearer(authorization),
            "unit_letter",
            lambda who: issue_letter(
                home, who, letter, body.name.strip(), body.lang, request.state.request_id
            ),
        )

    @api.get("/api/v1/certificates/{code}", response_model=Check, responses=PROBLEM_RESPONSES)
    def check(code: str) -> Any:
        """Genuine, issued on D, valid until V; or not genuine. Nothing else."""
        try:
            return check_code(home, code)
        except LedgerUnavailable:
            return respond(outcome.ledger_unavailable())

    return api
