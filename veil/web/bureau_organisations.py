"""The organisations that may ask, and their tokens:
GET /bureau/organisations (the list, and a form to register one), POST /bureau/organisations
(register; its first token shown once), GET /bureau/organisations/{id} (one organisation:
issue another token, revoke), POST …/{id}/tokens and POST …/{id}/revoke.

Each asks the `manage_organisations` policy (the records bureau only), then calls
`home.organisations` exactly as the API does, which writes each change into the ledger. A
token is shown once, on the page that answers the POST, and never again: Veil keeps only
its hash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from veil.disclosure.administration import acting
from veil.disclosure.door import Requester
from veil.ledger.log import LedgerUnavailable
from veil.web.bureau import refusal, stopped
from veil.web.language import N_
from veil.web.outcomes import unavailable
from veil.web.site import SignedIn, Site

PATH = "/bureau/organisations"
ACTION = "manage_organisations"
NAME, OFFICER = 255, 128  # as the API allows
ERRORS = {
    "name": N_("Enter the organisation's name, at most 255 characters."),
    "type": N_("Choose the organisation's type."),
    "officer": N_("The officer's name is at most 128 characters."),
}


def _checked(values: dict[str, str], types: Mapping[str, Any]) -> dict[str, str]:
    """The fields in error (their msgids) for a new organisation."""
    wrong = {
        "name": not values["name"] or len(values["name"]) > NAME,
        "type": values["type"] not in types,
        "officer": len(values["officer"]) > OFFICER,
    }
    return {field: ERRORS[field] for field, bad in wrong.items() if bad}


def routes(site: Site, pages: APIRouter) -> None:
    def listing(
        request: Request,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        revoked: str = "",
    ) -> Response:
        return site.render(
            request,
            "bureau_organisations.html",
            status=status,
            organisations=site.home.organisations.list(),
            errors=errors or {},
            values=values or {"name": "", "type": "", "officer": ""},
            revoked=revoked,
        )

    def one(org_id: str) -> dict[str, Any] | None:
        return next((o for o in site.home.organisations.list() if o["id"] == org_id), None)

    def not_found(request: Request) -> Response:
        return stopped(
            site,
            request,
            404,
            N_("No such organisation"),
            N_("No live organisation has this id: it may have been revoked."),
        )

    def recorded(request: Request, change: Callable[[], Response]) -> Response:
        """`change`'s page, or the unavailability page if its ledger entry could not be
        written (the change itself is then already made)."""
        try:
            return change()
        except LedgerUnavailable:
            return unavailable(site, request)

    def token_page(request: Request, org: dict[str, Any], token: str, officer: str) -> Response:
        return site.render(
            request, "bureau_token.html", status=201, org=org, token=token, officer=officer
        )

    def permitted(request: Request, who: Requester) -> Response | None:
        return refusal(site, request, who, ACTION)

    @pages.get(PATH)
    def organisation_list(
        request: Request,
        who: SignedIn,
        revoked: Annotated[str, Query(max_length=64)] = "",
    ) -> Response:
        return permitted(request, who) or listing(request, revoked=revoked)

    @pages.post(PATH)
    def organisation_create(
        request: Request,
        who: SignedIn,
        name: Annotated[str, Form(max_length=1024)] = "",
        org_type: Annotated[str, Form(alias="type", max_length=64)] = "",
        officer: Annotated[str, Form(max_length=1024)] = "",
    ) -> Response:
        stop = permitted(request, who)
        if stop is not None:
            return stop
        values = {"name": name.strip(), "type": org_type, "officer": officer.strip()}
        errors = _checked(values, site.home.disclosure.org_types)
        if errors:
            return listing(request, status=422, errors=errors, values=values)

        def create() -> Response:
            made = site.home.organisations.create(
                values["name"], org_type, values["officer"] or None, by=acting(who)
            )
            return token_page(request, made, made["token"], values["officer"])

        return recorded(request, create)

    def org_page(
        request: Request, org: dict[str, Any], status: int = 200, error: str = ""
    ) -> Response:
        return site.render(request, "bureau_organisation.html", status=status, org=org, error=error)

    @pages.get(PATH + "/{org_id}")
    def organisation(request: Request, who: SignedIn, org_id: str) -> Response:
        stop = permitted(request, who)
        if stop is not None:
            return stop
        found = one(org_id)
        return not_found(request) if found is None else org_page(request, found)

    @pages.post(PATH + "/{org_id}/tokens")
    def organisation_token(
        request: Request,
        who: SignedIn,
        org_id: str,
        officer: Annotated[str, Form(max_length=1024)] = "",
    ) -> Response:
        stop = permitted(request, who)
        if stop is not None:
            return stop
        found = one(org_id)
        if found is None or found["revoked_at"] is not None:
            return not_found(request)
        officer = officer.strip()
        if len(officer) > OFFICER:
            return org_page(request, found, 422, ERRORS["officer"])

        def issue() -> Response:
            token = site.home.organisations.issue_token(org_id, officer or None, by=acting(who))
            return (
                not_found(request) if token is None else token_page(request, found, token, officer)
            )

        return recorded(request, issue)

    @pages.post(PATH + "/{org_id}/revoke")
    def organisation_revoke(request: Request, who: SignedIn, org_id: str) -> Response:
        stop = permitted(request, who)
        if stop is not None:
            return stop

        def revoke() -> Response:
            if not site.home.organisations.revoke(org_id, by=acting(who)):
                return not_found(request)
            return RedirectResponse(f"{PATH}?revoked={org_id}", status_code=303)

        return recorded(request, revoke)
