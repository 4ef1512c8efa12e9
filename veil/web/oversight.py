"""Procuratorial oversight (SPEC sections 1 and 6): GET /oversight (the ledger's state, the
last verification, an inclusion proof), POST /oversight/verify (verify the ledger now) and
GET /oversight/access (the access log, filtered by organisation, purpose and period).

Every look goes through `home.oversight`, which the `review_access` policy decides (the
procuratorate only) and which writes the look into the ledger. The proofs are the public
ones `GET /api/v1/audit/proof` serves. Also: the refusal and unavailability pages the
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from veil.disclosure.door import Refused, Requester
from veil.ledger.access import AccessFilter
from veil.ledger.reader import LedgerDamaged
from veil.ledger.verify import VerifyReport
from veil.web.language import N_
from veil.web.outcomes import through_door
from veil.web.site import SignedIn, Site

# What each purpose a ledger entry names is called on the pages.
PURPOSES = {
    "case_handling": N_("case handling"),
    "statutory_screening": N_("statutory screening"),
    "self_inquiry": N_("the person's own inquiry"),
    "certificate": N_("certificate"),
    "unit_letter": N_("unit query letter"),
    "explain_record": N_("record explanation"),
}
# Purposes the ledger names besides the disclosure catalogue's (purposes.yaml).
OTHER_PURPOSES = ("certificate", "unit_letter", "explain_record")
LIMIT = AccessFilter.limit
# What the access log's table shows of an entry; a field an entry lacks is shown empty.
SHOWN = (
    *("time", "organisation", "organisation_name", "organisation_type", "officer"),
    *("identity_method", "purpose", "decision", "policies", "request_id"),
    *("case_number", "legal_basis", "regulation", "consent_ref", "post", "subject", "record"),
)
TEXT = 64  # longest organisation id or purpose a filter may name

BAD_INDEX = N_("Enter the entry's index: a whole number, 0 or more.")
BAD_SIZE = N_("Enter a tree size: a whole number, 0 or more, or leave it empty.")
NO_SUCH_ENTRY = N_(
    "The ledger has no such entry in a tree of that size: the index must be less than "
    "the tree size, and the size at most the ledger's."
)
DAMAGED = N_("The stored ledger is missing entries this proof needs: verify the ledger.")
BAD_DATE = N_("Enter a date as year-month-day, for example 2026-11-24.")
BACKWARDS = N_("The end of the period is before its start.")


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _period(since: str, until: str, errors: dict[str, str]) -> tuple[dt.datetime | None, ...]:
    """The period's bounds in UTC, `until` exclusive (the day after the last day)."""
    first = _day(since) if since.strip() else None
    last = _day(until) if until.strip() else None
    if since.strip() and first is None:
        errors["from"] = BAD_DATE
    if until.strip() and last is None:
        errors["to"] = BAD_DATE
    if first is not None and last is not None and last < first:
        errors["to"] = BACKWARDS
    start = dt.datetime.combine(first, dt.time(), dt.UTC) if first else None
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC) if last else None
    return start, end


def routes(site: Site, pages: APIRouter) -> None:
    home = site.home

    def organisation_names() -> dict[str, str]:
        return {org["id"]: org["name"] for org in home.organisations.list()}

    def status_page(
        request: Request,
        who: Requester,
        *,
        report: VerifyReport | None = None,
        index: str = "",
        size: str = "",
    ) -> Response:
        status = home.oversight.status(who, request.state.request_id)
        errors: dict[str, str] = {}
        proof: dict[str, Any] | None = None
        if index.strip() or size.strip():
            wanted, tree = _whole(index), _whole(size) if size.strip() else None
            if wanted is None:
                errors["index"] = BAD_INDEX
            if size.strip() and tree is None:
                errors["size"] = BAD_SIZE
            if wanted is not None and not errors:
                try:
                    proof = home.ledger.inclusion_proof(wanted, tree).as_json()
                except ValueError:
                    errors["index"] = NO_SUCH_ENTRY
                except LedgerDamaged:
                    errors["index"] = DAMAGED
        return site.render(
            request,
            "oversight_status.html",
            status=422 if errors else 200,
            ledger=status,
            names=organisation_names(),
            report=report,
            errors=errors,
            index=index,
            size=size,
            proof=proof,
        )

    @pages.get("/oversight")
    def oversight(
        request: Request,
        who: SignedIn,
        index: Annotated[str, Query(max_length=TEXT)] = "",
        size: Annotated[str, Query(max_length=TEXT)] = "",
    ) -> Response:
        return through_door(
            site, request, lambda: status_page(request, who, index=index, size=size)
        )

    @pages.post("/oversight/verify")
    def verify_now(request: Request, who: SignedIn) -> Response:
        def verified() -> Response:
            report = home.oversight.verify(who, request.state.request_id)
            return status_page(request, who, report=report)

        return through_door(site, request, verified)

    @pages.get("/oversight/access")
    def access(
        request: Request,
        who: SignedIn,
        organisation: Annotated[str, Query(max_length=TEXT)] = "",
        purpose: Annotated[str, Query(max_length=TEXT)] = "",
        since: Annotated[str, Query(alias="from", max_length=TEXT)] = "",
        until: Annotated[str, Query(alias="to", max_length=TEXT)] = "",
    ) -> Response:
        def shown() -> Response:
            errors: dict[str, str] = {}
            start, end = _period(since, until, errors)
            wanted = AccessFilter(
                organisation=organisation, purpose=purpose, since=start, until=end
            )
            entries: list[dict[str, Any]] = []
            if not errors:
                entries = home.oversight.access_log(who, wanted, request.state.request_id)
            elif not home.administration.allows(who, "review_access", request.state.request_id):
                raise Refused("review_access")  # nothing is read, but the page is still theirs
            return site.render(
                request,
                "oversight_access.html",
                status=422 if errors else 200,
                entries=[{**dict.fromkeys(SHOWN), **entry} for entry in entries],
                errors=errors,
                organisations=home.organisations.list(),
                purposes=[*home.disclosure.purposes, *OTHER_PURPOSES],
                words=PURPOSES,
                chosen={"organisation": organisation, "purpose": purpose},
                since=since,
                until=until,
                limit=LIMIT,
            )

        return through_door(site, request, shown)
