"""GET /bureau: where the records bureau starts; and what its pages share: the policy
decision before each page acts (the 403 and 503 pages every role's pages share).

Every bureau page asks `home.administration.allows` for its action (`ingest`, `sweep`,
`manage_organisations`; the record look-up asks the door, which decides `explain_record`
itself). A refusal is in the ledger before the page says so, and the page says only that
the action is not permitted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from veil.disclosure.door import Requester
from veil.ledger.log import LedgerUnavailable
from veil.web.labels import EFFECTS
from veil.web.outcomes import refused, unavailable
from veil.web.site import SignedIn, Site

HOME = "/bureau"


def stopped(site: Site, request: Request, status: int, heading: str, message: str) -> Response:
    """A page that says why the bureau's action stopped (`heading`, `message`: msgids)."""
    return site.render(
        request, "bureau_stopped.html", status=status, heading=heading, message=message
    )


def rule_words(site: Site) -> dict[str, Any]:
    """What `bureau_macros.changes_table` needs to name the rules behind seal changes."""
    return {"rules": {rule.id: rule for rule in site.home.ruleset.rules}, "effects": EFFECTS}


def refusal(site: Site, request: Request, who: Requester, action: str) -> Response | None:
    """None if the policies let `who` take `action`; else the page that says they may not."""
    try:
        allowed = site.home.administration.allows(who, action, request.state.request_id)
    except LedgerUnavailable:
        return unavailable(site, request)
    return None if allowed else refused(site, request)


def routes(site: Site, pages: APIRouter) -> None:
    @pages.get(HOME)
    def bureau_home(request: Request, who: SignedIn) -> Response:
        # The policies grant the bureau's actions together; its home asks for the first.
        stop = refusal(site, request, who, "ingest")
        return stop or site.render(request, "bureau_home.html")
