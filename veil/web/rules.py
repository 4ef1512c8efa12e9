"""GET /rules: the sealing rule packs and the regulation catalogue, each rule with its
statute and article, in the page's language (the same data GET /api/v1/rules and
/api/v1/regulations serve)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from veil.web import labels
from veil.web.site import Site


def routes(site: Site, pages: APIRouter) -> None:
    @pages.get("/rules")
    def rules(request: Request) -> Response:
        home = site.home
        return site.render(
            request,
            "rules.html",
            packs=home.ruleset.packs,
            regulations=list(home.disclosure.regulations.values()),
            offences=home.catalogue.offences,
            categories=labels.CATEGORIES,
            dispositions=labels.DISPOSITIONS,
            effects=labels.EFFECTS,
        )
