"""One disclosure request from credential to answer, for every interface.

HTTP (`POST /api/v1/disclosures`) and the CLI (`veil disclose`) both call `handle`, so an
operator's request goes through exactly the door an outside client's does, and both get
the same answer or the same RFC 9457 problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from veil.disclosure.door import DisclosureRequest, Prepared, Refused
from veil.disclosure.request import DisclosureBody
from veil.ledger.log import LedgerUnavailable

if TYPE_CHECKING:
    from veil.home import Home


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def is_problem(self) -> bool:
        return self.status >= 400


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Outcome:
    return Outcome(status, {"type": kind, "title": title, "status": status, "detail": detail})


def not_permitted(purpose: str) -> Outcome:
    """The one refusal: the same bytes for every subject, whatever their records."""
    shown = purpose if purpose.isidentifier() and len(purpose) <= 32 else "this purpose"
    return problem(
        403,
        "Not permitted",
        f"This request is not permitted for {shown}.",
        "/problems/not-permitted",
    )


def unauthenticated() -> Outcome:
    found = problem(
        401,
        "Not authenticated",
        "Send a valid bearer token: Authorization: Bearer TOKEN.",
        "/problems/not-authenticated",
    )
    return Outcome(found.status, found.body, (("WWW-Authenticate", "Bearer"),))


def ledger_unavailable() -> Outcome:
    return problem(
        503,
        "Audit ledger unavailable",
        "The audit ledger could not record this request, so nothing was disclosed.",
        "/problems/ledger-unavailable",
    )


def _prepare(
    home: Home, credential: str | None, body: DisclosureBody, request_id: str
) -> Prepared | Outcome:
    with home.engine.connect() as conn:  # one connection for the whole request
        who = home.authenticator.requester(credential, conn)
        if who is None:
            return unauthenticated()
        return home.door.prepare(who, _request(body), request_id, conn)


def _request(body: DisclosureBody) -> DisclosureRequest:
    return DisclosureRequest(
        id_number=body.subject.id_number,
        purpose=body.purpose,
        case_number=body.case_number,
        legal_basis=body.legal_basis,
        regulation=body.regulation,
        consent_ref=body.consent_ref,
        post=body.post,
    )


def _release(prepared: Prepared) -> Outcome:
    try:
        return Outcome(200, prepared.release())
    except Refused as refused:
        return not_permitted(refused.purpose)


def handle(home: Home, credential: str | None, body: DisclosureBody, request_id: str) -> Outcome:
    """One request, start to finish, on the calling thread (the CLI)."""
    prepared = _prepare(home, credential, body, request_id)
    if isinstance(prepared, Outcome):
        return prepared
    try:
        home.ledger.append(prepared.entry, prepared.subject_index)
    except LedgerUnavailable:
        return ledger_unavailable()
    home.door.pace.hold(prepared)
    return _release(prepared)


async def handle_async(
    home: Home, credential: str | None, body: DisclosureBody, request_id: str
) -> Outcome:
    """One request on the event loop (HTTP): the same steps as `handle`, awaiting the ledger.

    Deciding and reading are short and run on the loop; waiting for the entry to become
    durable, and for the floor under a withholding answer (veil/disclosure/pace.py), does
    not hold it, so one loop serves every connection.
    """
    prepared = _prepare(home, credential, body, request_id)
    if isinstance(prepared, Outcome):
        return prepared
    try:
        await home.ledger.append_async(prepared.entry, prepared.subject_index)
    except LedgerUnavailable:
        return ledger_unavailable()
    await home.door.pace.hold_async(prepared)
    return _release(prepared)
