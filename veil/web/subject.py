"""The person concerned, signed in through the identity check: GET /me (my records, their
seal state and why, and who looked at them) and GET/POST /me/certificate (my certificate).

Both go through the door as the API does: /me is a self-inquiry
(`POST /api/v1/disclosures`, purpose `self_inquiry`), /me/certificate issues as
`POST /api/v1/certificates` does. The door writes each into the ledger before it answers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from veil.certificates.issue import issue
from veil.certificates.rules import load_provisions
from veil.disclosure.door import DisclosureRequest, Requester
from veil.web import labels
from veil.web.labels import KINDS, SEAL_STATES
from veil.web.language import N_
from veil.web.outcomes import refused, through_door
from veil.web.oversight import PURPOSES
from veil.web.site import SignedIn, Site

MAX_NAME = 64  # as the API's CertificateBody
NAME_MISSING = N_("Enter your name as it is on your identity card.")
NAME_TOO_LONG = N_("A name is at most 64 characters.")


def _verified(who: Requester) -> str | None:
    """The ID number the identity check proved: only the person concerned has one."""
    return who.verified_id if who.org_id is None else None


def routes(site: Site, pages: APIRouter) -> None:
    home = site.home

    @pages.get("/me")
    def my_records(request: Request, who: SignedIn) -> Response:
        id_number = _verified(who)
        if id_number is None:
            return refused(site, request)
        asked = DisclosureRequest(id_number=id_number, purpose="self_inquiry")

        def shown() -> Response:
            answer = home.door.disclose(who, asked, request.state.request_id)
            return site.render(
                request,
                "subject_records.html",
                records=answer["records"],
                history=answer["access_history"],
                kinds=KINDS,
                seal_states=SEAL_STATES,
                dispositions=labels.DISPOSITIONS,
                purposes=PURPOSES,
                regulations=home.disclosure.regulations,
            )

        return through_door(site, request, shown)

    def certificate_form(
        request: Request, *, errors: dict[str, str], name: str = "", status: int = 200
    ) -> Response:
        return site.render(
            request,
            "subject_certificate.html",
            status=status,
            errors=errors,
            name=name,
            validity_days=load_provisions().validity_days,
        )

    @pages.get("/me/certificate")
    def certificate_page(request: Request, who: SignedIn) -> Response:
        if _verified(who) is None:
            return refused(site, request)
        return certificate_form(request, errors={})

    @pages.post("/me/certificate")
    def certificate(
        request: Request,
        who: SignedIn,
        name: Annotated[str, Form()] = "",
        lang: Annotated[Literal["zh", "en"], Form()] = "zh",
    ) -> Response:
        id_number = _verified(who)
        if id_number is None:
            return refused(site, request)
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            error = NAME_TOO_LONG if name else NAME_MISSING
            return certificate_form(request, errors={"name": error}, name=name, status=422)

        def download() -> Response:
            issued = issue(home, who, id_number, name, lang, request.state.request_id)
            # The API's headers, and as every page: never kept in a cache.
            headers = {**issued.download_headers(), "Cache-Control": "no-store"}
            return Response(issued.pdf, media_type="application/pdf", headers=headers)

        return through_door(site, request, download)
