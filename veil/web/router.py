"""The pages of an installation as one router, mounted by the FastAPI app."""

from __future__ import annotations

from fastapi import APIRouter

from veil.home import Home
from veil.web import (
    bureau,
    bureau_ingest,
    bureau_organisations,
    bureau_records,
    bureau_sweep,
    case_handling,
    landing,
    login,
    oversight,
    rules,
    screening,
    static_files,
    subject,
    verify,
)
from veil.web.site import Site

# Each module adds its pages with `routes(site, pages)`; add a module here to add pages.
PAGES = (
    landing,
    login,
    rules,
    static_files,
    bureau,
    bureau_ingest,
    bureau_sweep,
    bureau_records,
    bureau_organisations,
    subject,
    verify,
    oversight,
    screening,
    case_handling,
)


def router(home: Home) -> APIRouter:
    site = Site(home)
    pages = site.router()
    for module in PAGES:
        module.routes(site, pages)
    return pages
