"""Who asks: organisations, their bearer tokens, and subjects proven by an identity check.

A token is `veil_<id>_<secret>`: shown once when issued, stored only as its SHA-256, and
revocable. Every administrative action is written to the audit ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import Connection, Engine

from veil.disclosure.catalogue import DisclosureCatalogue
from veil.disclosure.door import AuditLog, Requester
from veil.disclosure.identity import IdentityCheck
from veil.disclosure.pdp import Entity
from veil.keys import BlindIndex
from veil.store import orgs

TOKEN_PREFIX = "veil_"  # noqa: S105 - a public prefix, not a secret


class UnknownOrganisationType(ValueError):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> tuple[str, str]:
    """(token id, token): 256 bits of secret after a public id."""
    token_id = "tok-" + secrets.token_hex(6)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def org_entity(org_type: str, org_id: str, group: str, revoked: bool) -> Entity:
    return Entity("Organisation", org_id, {"type": org_type, "group": group, "revoked": revoked})


class Organisations:
    def __init__(self, engine: Engine, catalogue: DisclosureCatalogue, ledger: AuditLog) -> None:
        self.engine, self.catalogue, self.ledger = engine, catalogue, ledger

    def create(
        self, name: str, org_type: str, officer: str | None = None, by: str = "cli"
    ) -> dict[str, Any]:
        """A new organisation with its first token: {"id", "name", "type", "token"}."""
        if org_type not in self.catalogue.org_types:
            raise UnknownOrganisationType(
                f"unknown organisation type {org_type!r}; one of: "
                + ", ".join(self.catalogue.org_types)
            )
        name = name.strip()
        if not name or len(name) > 255:
            raise ValueError("an organisation name is 1 to 255 characters")
        org_id = "org-" + secrets.token_hex(6)
        token_id, token = new_token()
        now = _now()
        with self.engine.begin() as conn:
            orgs.add_organisation(conn, org_id, name, org_type, now)
            orgs.add_token(conn, token_id, org_id, token_hash(token), officer, now)
        self._audit(
            "organisation_created",
            by,
            organisation=org_id,
            name=name,
            type=org_type,
            token=token_id,
        )
        return {"id": org_id, "name": name, "type": org_type, "token": token}

    def issue_token(self, org_id: str, officer: str | None = None, by: str = "cli") -> str | None:
        token_id, token = new_token()
        with self.engine.begin() as conn:
            org = orgs.organisation(conn, org_id)
            if org is None or org["revoked_at"] is not None:
                return None
            orgs.add_token(conn, token_id, org_id, token_hash(token), officer, _now())
        self._audit("token_issued", by, organisation=org_id, token=token_id, officer=officer)
        return token

    def revoke(self, org_id: str, by: str = "cli") -> bool:
        with self.engine.begin() as conn:
            done = orgs.revoke_organisation(conn, org_id, _now())
        if done:
            self._audit("organisation_revoked", by, organisation=org_id)
        return done

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = orgs.list_organisations(conn)
        return [
            {
                "id": r["id"],
                "name": r["name"],
                "type": r["type"],
                "created_at": _iso(r["created_at"]),
                "revoked_at": _iso(r["revoked_at"]),
            }
            for r in rows
        ]

    def _audit(self, action: str, by: str, **details: Any) -> None:
        self.ledger.append({"kind": "admin", "action": action, "by": by, **details})


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Authenticator:
    """Maps a bearer credential to who asks, or None when it proves nobody."""

    def __init__(
        self,
        engine: Engine,
        catalogue: DisclosureCatalogue,
        identity: IdentityCheck,
        audit_index: BlindIndex,
    ) -> None:
        self.engine, self.catalogue, self.identity = engine, catalogue, identity
        self.audit_index = audit_index

    def requester(self, credential: str | None, conn: Connection | None = None) -> Requester | None:
        """Who `credential` proves; `conn`, if given, is the request's own connection."""
        if not credential:
            return None
        if credential.startswith(TOKEN_PREFIX):
            if conn is None:
                with self.engine.connect() as own:
                    holder = orgs.holder_of(own, token_hash(credential))
            else:
                holder = orgs.holder_of(conn, token_hash(credential))
            if holder is None:
                return None
            group = self.catalogue.org_types[holder["type"]].group
            return Requester(
                entity=org_entity(
                    holder["type"], holder["id"], group, holder["revoked_at"] is not None
                ),
                org_id=holder["id"],
                org_name=holder["name"],
                org_type=holder["type"],
                officer=holder["officer"],
            )
        verified = self.identity.verify(credential)
        if verified is None:
            return None
        return Requester(
            entity=Entity("Subject", self.audit_index.of(verified).hex()),
            identity_method=self.identity.method,
            verified_id=verified,
        )
