"""GET/POST /login and POST /logout: organisations sign in with a token, subjects with the
identity check; the credential goes into the session cookie.

A failed sign-in says the same whether a token is unknown, malformed or revoked, and
answers 401 with the form again, the message beside the field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from veil.disclosure.door import Requester
from veil.web import session
from veil.web.language import N_
from veil.web.site import Site, local_path

Kind = Literal["token", "identity"]
MISSING = {
    "token": N_("Enter your organisation's token."),
    "identity": N_("Enter your identity credential."),
}
REJECTED = {
    "token": N_(
        "This token was not accepted. Check that it is complete, or ask the records "
        "bureau for a new one."
    ),
    "identity": N_("The identity check did not accept this credential."),
}


def _signed_in_as(who: Requester | None, kind: Kind) -> Requester | None:
    """`who`, if live and of the kind the form signs in (each form signs in its own kind)."""
    if not session.is_live(who):
        return None
    return who if (who.org_id is not None) == (kind == "token") else None


def routes(site: Site, pages: APIRouter) -> None:
    def form(
        request: Request,
        *,
        next_page: str,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        return site.render(
            request,
            "login.html",
            status=status,
            next_page=local_path(next_page),
            errors=errors or {},
            identity_available=site.home.settings.identity_check != "none",
        )

    @pages.get("/login")
    def login_page(
        request: Request, next_page: Annotated[str, Query(alias="next", max_length=2048)] = ""
    ) -> Response:
        return form(request, next_page=next_page)

    @pages.post("/login")
    def login(
        request: Request,
        kind: Annotated[Kind, Form()],
        credential: Annotated[str, Form()] = "",
        next_page: Annotated[str, Form(alias="next")] = "",
    ) -> Response:
        value = credential.strip()
        who = None
        if 0 < len(value) <= session.MAX_CREDENTIAL:
            who = _signed_in_as(site.home.authenticator.requester(value), kind)
        if who is not None:
            target = local_path(next_page) or site.role(who).home
            response = RedirectResponse(target, status_code=303)
            session.sign_in(response, request, value)
            return response
        error = REJECTED[kind] if value else MISSING[kind]
        return form(request, next_page=next_page, errors={kind: error}, status=401)

    @pages.post("/logout")
    def logout(request: Request) -> Response:
        response = RedirectResponse("/", status_code=303)
        session.sign_out(response, request)
        return response
