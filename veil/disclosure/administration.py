"""Administrative actions on the records store as a whole, decided by the same policies.

Ingest, sweeps, reading a record's seal explanation, managing organisations and reviewing
the access log are Cedar actions on the Registry (veil.cedar). A refusal is written to the
ledger before it is answered, like a refused disclosure; what an allowed action did is
written by the action itself.
"""

from __future__ import annotations

from veil.disclosure.door import AuditLog, Requester
from veil.disclosure.pdp import REGISTRY, PolicyDecisionPoint


class Administration:
    def __init__(self, pdp: PolicyDecisionPoint, ledger: AuditLog) -> None:
        self.pdp, self.ledger = pdp, ledger

    def allows(self, who: Requester, action: str, request_id: str) -> bool:
        """Whether the policies let `who` take `action`; a refusal is in the ledger first.

        Raises LedgerUnavailable if the refusal could not be recorded.
        """
        if self.pdp.decide(who.entity, action, REGISTRY, {}).allowed:
            return True
        self.ledger.append(
            {
                "kind": "admin",
                "action": action,
                "decision": "deny",
                "organisation": who.org_id,
                "organisation_type": who.org_type,
                "request_id": request_id,
            }
        )
        return False


def acting(who: Requester) -> str:
    """How the ledger names who acted: organisation/officer."""
    return f"{who.org_id}/{who.officer or '-'}"
