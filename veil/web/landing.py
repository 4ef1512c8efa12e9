"""GET /: what Veil is, what each role can do here, and where to start."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from veil.web.roles import ROLES
from veil.web.site import Site


def routes(site: Site, pages: APIRouter) -> None:
    @pages.get("/")
    def landing(request: Request) -> Response:
        return site.render(request, "landing.html", roles=ROLES)
