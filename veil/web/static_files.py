"""GET /static/NAME: the pages' own stylesheet (and nothing else: a fixed list, no paths)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from starlette.responses import Response

from veil.web.site import Site
from veil.web.templates import STATIC

FILES = {"veil.css": "text/css; charset=utf-8"}


def routes(site: Site, pages: APIRouter) -> None:
    @pages.get("/static/{name}")
    def static(name: str) -> Response:
        """A file the pages link to; its URL carries its digest, so it may be cached."""
        media_type = FILES.get(name)
        if media_type is None:
            raise HTTPException(404, "Not found")
        data = resources.files("veil.web").joinpath(STATIC, name).read_bytes()
        return Response(
            data,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )
