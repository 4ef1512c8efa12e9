"""Procuratorial oversight (SPEC sections 1 and 6): the access log, every decision with its
reason, and the ledger's state. Never the records themselves.

Each look is decided by the `review_access` policy and is itself a ledger entry, so the
overseers are overseen too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from veil.disclosure.administration import Administration, acting
from veil.disclosure.door import Refused, Requester
from veil.ledger.access import AccessFilter, access_log, latest
from veil.ledger.log import Ledger
from veil.ledger.remote import RemoteLedger
from veil.ledger.verify import VerifyReport, verify_log

VERIFICATION = "audit_verification"


def record_verification(ledger: Ledger | RemoteLedger, report: VerifyReport, by: str) -> int:
    """Write a verification's result into the ledger it verified (LedgerUnavailable if not)."""
    return ledger.append(
        {
            "kind": VERIFICATION,
            "by": by,
            "ok": report.ok,
            "size": report.size,
            "root": report.root.hex(),
            "problems": len(report.problems),
        }
    )


class Oversight:
    def __init__(
        self, engine: Engine, administration: Administration, ledger: Ledger | RemoteLedger
    ) -> None:
        self.engine, self.administration, self.ledger = engine, administration, ledger

    def _permit(self, who: Requester, request_id: str) -> None:
        if not self.administration.allows(who, "review_access", request_id):
            raise Refused("review_access")

    def _looked(self, who: Requester, what: str, request_id: str, **details: object) -> None:
        self.ledger.append(
            {
                "kind": "admin",
                "action": "review_access",
                "what": what,
                "by": acting(who),
                "request_id": request_id,
                **details,
            }
        )

    def access_log(
        self, who: Requester, wanted: AccessFilter, request_id: str
    ) -> list[dict[str, Any]]:
        """The decisions `wanted` matches, newest first; Refused unless oversight."""
        self._permit(who, request_id)
        with self.engine.connect() as conn:
            found = access_log(conn, wanted)
        self._looked(
            who,
            "access_log",
            request_id,
            organisation=wanted.organisation or None,
            purpose=wanted.purpose or None,
            since=wanted.since.isoformat() if wanted.since else None,
            until=wanted.until.isoformat() if wanted.until else None,
            shown=len(found),
        )
        return found

    def status(self, who: Requester, request_id: str) -> dict[str, Any]:
        """The latest signed checkpoint and the last verification's result."""
        self._permit(who, request_id)
        checkpoint = self.ledger.checkpoint()
        with self.engine.connect() as conn:
            verified = latest(conn, lambda e: e.get("kind") == VERIFICATION)
        self._looked(who, "status", request_id)
        return {
            "size": checkpoint.size,
            "root": checkpoint.root.hex(),
            "checkpoint": checkpoint.note,
            "last_verification": verified,
        }

    def verify(self, who: Requester, request_id: str) -> VerifyReport:
        """Verify the whole ledger now; a result that passes is recorded in it."""
        self._permit(who, request_id)
        with self.engine.connect() as conn:
            report = verify_log(conn, self.ledger.verifier)
        if report.ok:  # a damaged log is not written to: the report is the evidence
            record_verification(self.ledger, report, acting(who))
        return report
