"""GET /bureau/records?source=…&record_id=…: one record's seal state, the rule and article
that put it there, in the page's language, and its history.

The look-up goes through the door (`home.door.explain_record`), which asks the policies
(`explain_record`: the records bureau only), writes the look into the ledger with the
record it named, and only then answers. The page never shows who the record is about.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from veil.disclosure.door import Refused
from veil.ledger.log import LedgerUnavailable
from veil.web.bureau import refusal
from veil.web.labels import SEAL_STATES
from veil.web.language import N_, chosen
from veil.web.outcomes import refused, unavailable
from veil.web.site import SignedIn, Site

PATH = "/bureau/records"
SOURCE, RECORD_ID = 64, 128  # the store's column widths
# Seal states in words (the case organs' words, and the one state only the bureau sees).
STATES = {**SEAL_STATES, "purged": N_("Purged: the decision was revoked")}
TRIGGERS = {"ingest": N_("ingest"), "sweep": N_("sealing sweep")}
MISSING = {
    "source": N_("Enter the source: the case system's code, for example 110105-PSB."),
    "record_id": N_("Enter the record's id in that source."),
}
NOT_FOUND = N_("No record has this id in this source.")


def routes(site: Site, pages: APIRouter) -> None:
    @pages.get(PATH)
    def record(
        request: Request,
        who: SignedIn,
        source: Annotated[str, Query(max_length=SOURCE)] = "",
        record_id: Annotated[str, Query(max_length=RECORD_ID)] = "",
    ) -> Response:
        values = {"source": source.strip(), "record_id": record_id.strip()}
        asked = any(values.values())
        errors = {name: MISSING[name] for name, value in values.items() if asked and not value}
        found, status = None, 422 if errors else 200
        if not asked or errors:
            # Nothing is read, but only the bureau may see the form.
            stop = refusal(site, request, who, "explain_record")
            if stop is not None:
                return stop
        else:
            try:
                found = site.home.door.explain_record(
                    who,
                    values["source"],
                    values["record_id"],
                    chosen(request)[0].code,
                    request.state.request_id,
                )
            except Refused:
                return refused(site, request)
            except LedgerUnavailable:
                return unavailable(site, request)
            if found is None:
                errors["record_id"], status = NOT_FOUND, 404
        return site.render(
            request,
            "bureau_records.html",
            status=status,
            values=values,
            errors=errors,
            found=found,
            states=STATES,
            triggers=TRIGGERS,
        )
