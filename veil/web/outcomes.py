"""The pages every role shares when a service says no: 403 not permitted, 503 the ledger
could not record the request. Both say only that, whoever asks and whatever is named."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from veil.disclosure.door import Refused
from veil.ledger.log import LedgerUnavailable
from veil.web.site import Site

T = TypeVar("T")


def refused(site: Site, request: Request) -> Response:
    """403: not permitted, and nothing else (the same page whoever and whatever is asked)."""
    return site.render(request, "refused.html", status=403)


def unavailable(site: Site, request: Request) -> Response:
    """503: the ledger could not record the request, so nothing was shown or done."""
    return site.render(request, "unavailable.html", status=503)


def through_door(site: Site, request: Request, asking: Callable[[], T]) -> T | Response:
    """What `asking` returns, or the page for a refusal (403, the same whatever the subject
    has) or for a ledger that could not record the request (503, nothing disclosed)."""
    try:
        return asking()
    except Refused:
        return refused(site, request)
    except LedgerUnavailable:
        return unavailable(site, request)
