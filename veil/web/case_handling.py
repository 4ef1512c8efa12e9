"""A case-handling organ's page: GET/POST /case reads every record of the subject named in
a case, sealed ones marked, with the case number and its legal basis.

The request is `POST /api/v1/disclosures` with purpose `case_handling` (Criminal Procedure
Law art. 286 para. 2): the door decides, writes the decision into the ledger and only then
answers. When sealed records are disclosed, the answer carries the confidentiality notice,
and the ledger records the receiving organ's obligation to keep them confidential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from veil.disclosure.door import DisclosureRequest
from veil.disclosure.request import TEXT
from veil.web import labels
from veil.web.labels import KINDS, SEAL_STATES
from veil.web.language import N_
from veil.web.outcomes import refused, through_door
from veil.web.screening_fields import form_errors, form_values, in_group
from veil.web.site import SignedIn, Site

GROUP = "case_handling_organ"
ASKED = {
    "id_number": N_("Enter the subject's ID number."),
    "case_number": N_("Enter the case number: records are read only for a named case."),
    "legal_basis": N_(
        "Enter the legal basis for reading the records, for example Criminal Procedure "
        "Law art. 286."
    ),
}
Field = Annotated[str, Form()]


def routes(site: Site, pages: APIRouter) -> None:
    home = site.home

    def form(
        request: Request, values: dict[str, str], errors: dict[str, str] | None = None
    ) -> Response:
        return site.render(
            request,
            "case_request.html",
            status=422 if errors else 200,
            values=values,
            errors=errors or {},
            limit=TEXT,
        )

    @pages.get("/case")
    def case(request: Request, who: SignedIn) -> Response:
        if not in_group(site, who, GROUP):
            return refused(site, request)
        return form(request, form_values(id_number="", case_number="", legal_basis=""))

    @pages.post("/case")
    def read(
        request: Request,
        who: SignedIn,
        id_number: Field = "",
        case_number: Field = "",
        legal_basis: Field = "",
    ) -> Response:
        if not in_group(site, who, GROUP):
            return refused(site, request)
        values = form_values(id_number=id_number, case_number=case_number, legal_basis=legal_basis)
        errors = form_errors(values, ASKED)
        if errors:
            return form(request, values, errors)
        asked = DisclosureRequest(
            id_number=values["id_number"],
            purpose="case_handling",
            case_number=values["case_number"],
            legal_basis=values["legal_basis"],
        )
        answer = through_door(
            site, request, lambda: home.door.disclose(who, asked, request.state.request_id)
        )
        if isinstance(answer, Response):
            return answer
        records = answer["records"]
        return site.render(
            request,
            "case_answer.html",
            values=values,
            records=records,
            sealed=sum(1 for r in records if r["seal_state"] == "sealed"),
            notice=answer.get("confidentiality_notice"),
            kinds=KINDS,
            seal_states=SEAL_STATES,
            dispositions=labels.DISPOSITIONS,
        )
