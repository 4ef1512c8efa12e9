"""A screening unit's pages: GET/POST /screening (ask, with the person's consent, the one
question a regulation allows, and read the answer), POST /screening/letter (the query
notification letter as a PDF) and GET /screening/rechecks (staff due for their re-check).

The check is `POST /api/v1/disclosures` with purpose `statutory_screening`, the letter
`POST /api/v1/certificates/letters`: the same door, which decides from the request alone
and writes each decision into the ledger before it answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from starlette.requests import Request
from starlette.responses import Response

from veil.certificates.issue import issue_letter
from veil.disclosure.catalogue import Regulation
from veil.disclosure.door import DisclosureRequest, Requester
from veil.disclosure.request import TEXT
from veil.disclosure.rescreening import due_for_recheck
from veil.web import language
from veil.web.language import N_
from veil.web.outcomes import refused, through_door
from veil.web.screening_fields import form_errors, form_values, in_group
from veil.web.site import SignedIn, Site

GROUP = "screening_unit"
MAX_NAME = 64  # as the API's LetterBody
SOON = 30  # days before a re-check falls due that the list says it is due soon
ASKED = {
    "id_number": N_("Enter the person's ID number, as on the consent form."),
    "regulation": N_("Choose the regulation you are asking under."),
    "consent_ref": N_(
        "Enter the reference of the person's signed consent: without consent you may not ask."
    ),
    "post": N_("Enter the post the person holds or is applying for."),
}
NAMED = {**ASKED, "name": N_("Enter the person's name as it is on the consent form.")}

Field = Annotated[str, Form()]


def _asked(
    id_number: Field = "", regulation: Field = "", consent_ref: Field = "", post: Field = ""
) -> dict[str, str]:
    """The posted fields a check and a letter both name."""
    return form_values(
        id_number=id_number, regulation=regulation, consent_ref=consent_ref, post=post
    )


Asked = Annotated[dict[str, str], Depends(_asked)]


def regulations_for(site: Site, who: Requester) -> list[Regulation]:
    """The regulations that let this unit's type ask, in the catalogue's order."""
    return [r for r in site.home.disclosure.regulations.values() if who.org_type in r.unit_types]


def _request(values: dict[str, str]) -> DisclosureRequest:
    return DisclosureRequest(
        id_number=values["id_number"],
        purpose="statutory_screening",
        regulation=values["regulation"],
        consent_ref=values["consent_ref"],
        post=values["post"],
    )


def routes(site: Site, pages: APIRouter) -> None:
    home = site.home

    def page(
        request: Request,
        who: Requester,
        template: str,
        *,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        return site.render(
            request,
            template,
            status=422 if errors else 200,
            regulations=regulations_for(site, who),
            values=values,
            errors=errors or {},
            limit=TEXT,
            **context,
        )

    @pages.get("/screening")
    def screening(
        request: Request,
        who: SignedIn,
        regulation: Annotated[str, Query(max_length=TEXT)] = "",
        consent_ref: Annotated[str, Query(max_length=TEXT)] = "",
        post: Annotated[str, Query(max_length=TEXT)] = "",
    ) -> Response:
        """The form; the re-check list links here with the earlier check's details."""
        if not in_group(site, who, GROUP):
            return refused(site, request)
        values = form_values(
            id_number="", regulation=regulation, consent_ref=consent_ref, post=post
        )
        return page(request, who, "screening_check.html", values=values)

    @pages.post("/screening")
    def check(request: Request, who: SignedIn, values: Asked) -> Response:
        if not in_group(site, who, GROUP):
            return refused(site, request)
        errors = form_errors(values, ASKED)
        if errors:
            return page(request, who, "screening_check.html", values=values, errors=errors)
        answer = through_door(
            site,
            request,
            lambda: home.door.disclose(who, _request(values), request.state.request_id),
        )
        if isinstance(answer, Response):
            return answer
        return page(
            request,
            who,
            "screening_answer.html",
            values=values,
            answer=answer,
            regulation=home.disclosure.regulations[answer["regulation"]],
        )

    @pages.post("/screening/letter")
    def letter(request: Request, who: SignedIn, asked: Asked, name: Field = "") -> Response:
        if not in_group(site, who, GROUP):
            return refused(site, request)
        values = {**asked, **form_values(name=name)}
        errors = form_errors(values, NAMED, {"name": MAX_NAME})
        if errors:
            return page(request, who, "screening_letter.html", values=values, errors=errors)
        lang = language.chosen(request)[0].code
        issued = through_door(
            site,
            request,
            lambda: issue_letter(
                home, who, _request(values), values["name"], lang, request.state.request_id
            ),
        )
        if isinstance(issued, Response):
            return issued
        # The API's headers, and as every page: never kept in a cache.
        headers = {**issued.download_headers(), "Cache-Control": "no-store"}
        return Response(issued.pdf, media_type="application/pdf", headers=headers)

    @pages.get("/screening/rechecks")
    def rechecks(request: Request, who: SignedIn) -> Response:
        """Reads the unit's own checks in the ledger (consent reference, post, dates), not
        records: nothing here is a disclosure."""
        if not in_group(site, who, GROUP) or who.org_id is None:
            return refused(site, request)
        today = home.door.today()
        with home.engine.connect() as conn:
            due = due_for_recheck(conn, who.org_id, home.disclosure.regulations, today, SOON)
        return site.render(
            request,
            "screening_rechecks.html",
            due=due,
            today=today,
            soon=SOON,
            regulations=home.disclosure.regulations,
        )
