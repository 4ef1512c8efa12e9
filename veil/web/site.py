"""The web pages of one installation: rendering in the chosen language, who is signed in,
and the route class every page uses (CSRF check on every POST, sign-in redirects).

A page handler is a plain `def` (it runs in the thread pool, so the services it calls may
block) on a router from `Site.router()`; `SignedIn` gives it the signed-in requester:

    @pages.get("/example")
    def example(request: Request, who: SignedIn) -> Response:
        return site.render(request, "example.html", answer=...)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from veil.disclosure.door import Requester
from veil.home import Home
from veil.web import csrf, language, session, templates
from veil.web.roles import Role, role_of

SITE = "veil.site"  # where a page request's scope holds its Site
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NAV = (
    ("/", language.N_("Home")),
    ("/rules", language.N_("Rules")),
    ("/certificates/verify", language.N_("Verify a certificate")),
)
# Pages run no script and load nothing from elsewhere; forms post only here.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # A page may show what a requester was allowed to see: never keep it in a cache.
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """Raised by `signed_in`: the page route answers with a redirect to /login."""


def local_path(target: str) -> str:
    """`target` if it is a path on this site, else "" (no open redirects after sign-in)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return ""


class Site:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.csrf = csrf.Csrf(lambda: home.keys.blind_index_key())
        self.route_class = _page_route(self)

    def router(self) -> APIRouter:
        """A router for pages: not in the OpenAPI description, every route a page route."""
        return APIRouter(route_class=self.route_class, include_in_schema=False)

    # --- who asks ----------------------------------------------------------------------

    def requester(self, request: Request) -> Requester | None:
        """Who the session cookie proves, if it is live; asked once per request."""
        if "veil.requester" not in request.scope:
            who = self.home.authenticator.requester(session.credential(request) or None)
            request.scope["veil.requester"] = who if session.is_live(who) else None
        found: Requester | None = request.scope["veil.requester"]
        return found

    def role(self, who: Requester) -> Role:
        groups = {name: t.group for name, t in self.home.disclosure.org_types.items()}
        return role_of(who, groups)

    # --- pages -------------------------------------------------------------------------

    def render(
        self, request: Request, template: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """`template` in the request's language, inside the layout's header and footer."""
        chosen, chosen_now = language.chosen(request)
        nonce = request.cookies.get(csrf.COOKIE) or csrf.Csrf.new_nonce()
        who = self.requester(request)
        body = templates.render(
            chosen.code,
            template,
            {
                "lang": chosen,
                "switch": _switch(request, language.other(chosen)),
                "path": request.url.path,
                "nav": NAV,
                "csrf_token": self.csrf.token(nonce, session.credential(request)),
                "who": who,
                "role": self.role(who) if who else None,
                "org_types": self.home.disclosure.org_types,
                **context,
            },
        )
        response = HTMLResponse(body, status_code=status, headers=HEADERS)
        if chosen_now:
            session.set_cookie(
                response,
                request,
                language.COOKIE,
                chosen.code,
                same_site="lax",
                max_age=language.COOKIE_AGE,
            )
        if nonce != request.cookies.get(csrf.COOKIE):
            session.set_cookie(response, request, csrf.COOKIE, nonce)
        return response

    def refused_form(self, request: Request) -> HTMLResponse:
        return self.render(request, "form_refused.html", status=403)


def signed_in(request: Request) -> Requester:
    """Dependency of a page: the signed-in requester; anyone else is sent to /login first.

    A module-level function (the page route puts its Site in the request's scope), so that
    handlers defined inside `routes()` can name it in annotations that are strings."""
    site: Site = request.scope[SITE]
    who = site.requester(request)
    if who is None:
        raise SignInRequired
    return who


SignedIn = Annotated[Requester, Depends(signed_in)]


def _switch(request: Request, to: language.Language) -> Mapping[str, Any]:
    """The link to this page in the other language, keeping the rest of the query."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != language.QUERY]
    query.append((language.QUERY, to.code))
    return {"language": to, "url": f"{request.url.path}?{urlencode(query)}"}


def _page_route(site: Site) -> type[APIRoute]:
    class PageRoute(APIRoute):
        """Refuses a state-changing request without the CSRF token before its handler runs;
        turns SignInRequired into a redirect to /login that comes back here afterwards."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def page(request: Request) -> Response:
                request.scope[SITE] = site
                if request.method not in SAFE_METHODS:
                    form = await request.form()
                    if not site.csrf.accepts(request, form, session.credential(request)):
                        await form.close()  # uploaded files spooled to disk go at once
                        return await run_in_threadpool(site.refused_form, request)
                try:
                    return await handler(request)
                except SignInRequired:
                    back = request.url.path
                    if request.url.query:
                        back += "?" + request.url.query
                    return RedirectResponse(f"/login?next={quote(back, safe='')}", 303)

            return page

    return PageRoute
