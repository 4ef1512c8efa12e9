"""The only door: decide, write the decision into the ledger, then answer what it allows.

Order matters (SPEC section 4):
1. the policy decision point decides from who asks and the request alone;
2. a refusal is written to the ledger and raised, identical whatever the subject has;
3. an allowed request reads the subject's records and builds the answer in memory;
4. the ledger entry is made durable; only then does the answer leave. If the ledger
   cannot be written, the request fails closed with `LedgerUnavailable` and nothing leaves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from veil.certificates.rules import load_provisions
from veil.disclosure.catalogue import DisclosureCatalogue, Regulation
from veil.disclosure.pace import Pace
from veil.disclosure.pdp import REGISTRY, Decision, Entity, PolicyDecisionPoint
from veil.keys import BlindIndex, DataKey, KeyProvider
from veil.records.catalogue import Catalogue
from veil.records.codec import identity_from_bytes, person_aad, row_aad
from veil.sealing.explain import explain
from veil.sealing.pack import RuleSet
from veil.store.explained import explain_record
from veil.store.seals import history
from veil.store.subject_records import records_of_subject

SEALED = "sealed"
PURGED = "purged"


class AuditLog(Protocol):
    def append(self, entry: Mapping[str, Any], subject_index: bytes | None = None) -> int: ...

    async def append_async(
        self, entry: Mapping[str, Any], subject_index: bytes | None = None
    ) -> int: ...

    def entries_for_subject(
        self, conn: Connection, subject_index: bytes
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks: an organisation (with the officer acting) or a subject proven by identity."""

    entity: Entity
    org_id: str | None = None
    org_name: str | None = None
    org_type: str | None = None
    officer: str | None = None
    identity_method: str | None = None
    verified_id: str | None = None  # the ID number an identity check proved


@dataclass(frozen=True, slots=True)
class DisclosureRequest:
    id_number: str
    purpose: str
    case_number: str = ""
    legal_basis: str = ""
    regulation: str = ""
    consent_ref: str = ""
    post: str = ""


class Refused(Exception):
    """Not permitted. Carries nothing about the subject: only the request's purpose."""

    def __init__(self, purpose: str) -> None:
        super().__init__(purpose)
        self.purpose = purpose


@dataclass(frozen=True, slots=True)
class Prepared:
    """A decided request whose answer waits for its ledger entry to be durable."""

    entry: dict[str, Any]
    subject_index: bytes
    _answer: dict[str, Any] | None  # None: refused
    purpose: str
    started: float  # time.monotonic() when the door took the request: the pace's floor

    @property
    def allowed(self) -> bool:
        return self._answer is not None

    def release(self) -> dict[str, Any]:
        """The answer (call only once `entry` is durable); Refused if not permitted."""
        if self._answer is None:
            raise Refused(self.purpose)
        return self._answer


class Door:
    def __init__(
        self,
        *,
        engine: Engine,
        keys: KeyProvider,
        ledger: AuditLog,
        pdp: PolicyDecisionPoint,
        disclosure: DisclosureCatalogue,
        offences: Catalogue,
        ruleset: RuleSet,
        pace: Pace | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.engine, self.keys, self.ledger, self.pdp = engine, keys, ledger, pdp
        # The floor under withholding answers' time; none unless given.
        self.pace = pace or Pace(0.0)
        self.disclosure, self.offences, self.ruleset, self.today = (
            disclosure,
            offences,
            ruleset,
            today,
        )
        self._records_index = BlindIndex(keys.blind_index_key())
        self._audit_index = BlindIndex(keys.audit_subject_key())

    # --- the decision ---------------------------------------------------------------------
    def decide(self, requester: Requester, request: DisclosureRequest) -> Decision:
        subject = Entity("Subject", self._audit_index.of(request.id_number).hex())
        if request.purpose == "case_handling":
            context: dict[str, Any] = {
                "case_number": request.case_number.strip(),
                "legal_basis": request.legal_basis.strip(),
            }
            return self.pdp.decide(requester.entity, "case_handling", subject, context)
        if request.purpose == "statutory_screening":
            return self._under_regulation(requester, "statutory_screening", request)
        if request.purpose == "self_inquiry":
            context = {"identity_verified": requester.verified_id is not None}
            return self.pdp.decide(requester.entity, "self_inquiry", subject, context)
        return Decision(allowed=False, policies=())  # any other purpose: refused (SPEC 4)

    def _under_regulation(
        self, requester: Requester, action: str, request: DisclosureRequest
    ) -> Decision:
        """A unit asking under a regulation, with the person's consent, for a post."""
        context = {"consent_ref": request.consent_ref.strip(), "post": request.post.strip()}
        resource = Entity("Regulation", request.regulation)
        return self.pdp.decide(requester.entity, action, resource, context)

    # --- the door -------------------------------------------------------------------------
    def disclose(
        self, requester: Requester, request: DisclosureRequest, request_id: str
    ) -> dict[str, Any]:
        """Decide, answer, make the ledger entry durable, and only then return the answer.

        Refused if not permitted; LedgerUnavailable if the entry could not be written. A
        screening answer or a refusal leaves no earlier than the pace's floor.
        """
        prepared = self.prepare(requester, request, request_id)
        self.ledger.append(prepared.entry, prepared.subject_index)
        self.pace.hold(prepared)
        return prepared.release()

    def prepare(
        self,
        requester: Requester,
        request: DisclosureRequest,
        request_id: str,
        conn: Connection | None = None,
    ) -> Prepared:
        """Steps 1 to 3: the decision, its ledger entry, and the answer held back.

        The caller writes `entry` to the ledger and calls `release` only once it is durable
        (`disclose` does; the HTTP route awaits the ledger without holding a thread).
        """
        started = time.monotonic()
        decision = self.decide(requester, request)
        audit_index = self._audit_index.of(request.id_number)
        entry = self._entry(requester, request, decision, request_id, audit_index)
        if not decision.allowed:
            return Prepared(entry, audit_index, None, request.purpose, started)
        with self._connected(conn) as reading:
            rows = records_of_subject(reading, self._records_index.of(request.id_number))
            answer, disclosed = self._answer(reading, request, rows, audit_index)
        entry["disclosed"] = disclosed
        return Prepared(entry, audit_index, answer, request.purpose, started)

    def _connected(self, conn: Connection | None) -> AbstractContextManager[Connection]:
        """`conn`, or a connection of the door's own for the `with` block."""
        return nullcontext(conn) if conn is not None else self.engine.connect()

    def prepare_certificate(
        self,
        requester: Requester,
        id_number: str,
        request_id: str,
        conn: Connection | None = None,
    ) -> Prepared:
        """Whether the subject has a criminal record as certificates count them (SPEC 5),
        decided and read like any disclosure; the answer is `{"criminal_record": bool}`.

        The caller adds the certificate it will issue to `entry`, writes the entry to the
        ledger, and only then releases and renders it.
        """
        normalised = BlindIndex.normalise(id_number)
        verified = requester.verified_id is not None and (
            BlindIndex.normalise(requester.verified_id) == normalised
        )
        subject = Entity("Subject", self._audit_index.of(normalised).hex())
        decision = self.pdp.decide(
            requester.entity, "certificate", subject, {"identity_verified": verified}
        )
        request = DisclosureRequest(id_number=normalised, purpose="certificate")
        return self._prepare_finding(requester, request, decision, request_id, conn)

    def prepare_letter(
        self,
        requester: Requester,
        request: DisclosureRequest,
        request_id: str,
        conn: Connection | None = None,
    ) -> Prepared:
        """A unit's query letter about a consenting person (SPEC 5): the same finding as a
        certificate, permitted only under a regulation that lists the unit's type.

        `request` names the regulation, the consent and the post; its purpose is ignored.
        """
        request = dataclasses.replace(
            request, id_number=BlindIndex.normalise(request.id_number), purpose="unit_letter"
        )
        decision = self._under_regulation(requester, "unit_letter", request)
        return self._prepare_finding(requester, request, decision, request_id, conn)

    def explain_record(
        self, requester: Requester, source: str, record_id: str, lang: str, request_id: str
    ) -> dict[str, Any] | None:
        """One record's seal state, its reasons and history, for the records bureau (the
        `veil seal explain --json` object; facts only, never the identity); None if no such
        record. Decided, then recorded in the ledger, then answered; Refused if not allowed.
        """
        decision = self.pdp.decide(requester.entity, "explain_record", REGISTRY, {})
        entry = _decision_entry(requester, "explain_record", decision, request_id)
        entry["record"] = f"{source}:{record_id}"
        if not decision.allowed:
            self.ledger.append(entry)
            raise Refused("explain_record")
        with self.engine.connect() as conn:
            found = explain_record(conn, self.ruleset, source, record_id, lang, self.today())
        entry["disclosed"] = {"found": found is not None}
        self.ledger.append(entry)
        return found

    def _prepare_finding(
        self,
        requester: Requester,
        request: DisclosureRequest,
        decision: Decision,
        request_id: str,
        conn: Connection | None,
    ) -> Prepared:
        started = time.monotonic()  # certificates and letters are not held to the floor
        audit_index = self._audit_index.of(request.id_number)
        entry = self._entry(requester, request, decision, request_id, audit_index)
        if not decision.allowed:
            return Prepared(entry, audit_index, None, request.purpose, started)
        with self._connected(conn) as reading:
            rows = records_of_subject(reading, self._records_index.of(request.id_number))
        found = load_provisions().has_record(rows)
        answer = {"criminal_record": found}
        return Prepared(entry, audit_index, answer, request.purpose, started)

    def _entry(
        self,
        requester: Requester,
        request: DisclosureRequest,
        decision: Decision,
        request_id: str,
        audit_index: bytes,
    ) -> dict[str, Any]:
        entry = _decision_entry(requester, request.purpose, decision, request_id)
        entry["subject"] = audit_index.hex()
        for name in ("case_number", "legal_basis", "regulation", "consent_ref", "post"):
            value = getattr(request, name)
            if value:
                entry[name] = value
        return entry

    # --- answers --------------------------------------------------------------------------
    def _answer(
        self,
        conn: Connection,
        request: DisclosureRequest,
        rows: list[dict[str, Any]],
        audit_index: bytes,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The answer, and what the ledger records of it."""
        live = [r for r in rows if r["status"] != "revoked" and r["state"] != PURGED]
        if request.purpose == "statutory_screening":
            return self._screening(request, live)
        if request.purpose == "case_handling":
            records = [self._record(r) for r in live]
            sealed = [r["record_id"] for r in records if r["seal_state"] == SEALED]
            answer: dict[str, Any] = {"records": records}
            if sealed:
                notice = self.disclosure.confidentiality_notice
                answer["confidentiality_notice"] = {"zh": notice.zh, "en": notice.en}
            disclosed = {
                "records": len(records),
                "sealed": len(sealed),
                "confidentiality_obligation": bool(sealed),
            }
            return answer, disclosed
        # self_inquiry
        records = []
        for row in live:
            record = self._record(row)
            events = history(conn, row["id"])
            record["explanation"] = {
                lang: explain(events, self.ruleset, lang)["explanation"] for lang in ("zh", "en")
            }
            records.append(record)
        access = [_access(e) for e in self.ledger.entries_for_subject(conn, audit_index)]
        return {"records": records, "access_history": access}, {"records": len(records)}

    def _screening(
        self, request: DisclosureRequest, live: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        regulation = self.disclosure.regulations[request.regulation]
        matches = [r for r in live if self._in_scope(regulation, r)]
        answer: dict[str, Any] = {
            "outcome": "match" if matches else "no_match",
            "regulation": regulation.id,
            "as_of": self.today().isoformat(),
        }
        if regulation.offence_names:
            codes = sorted({r["offence_code"] for r in matches})
            answer["offences"] = [self._offence_names(code) for code in codes]
        return answer, {"outcome": answer["outcome"]}

    def _in_scope(self, regulation: Regulation, row: Mapping[str, Any]) -> bool:
        if row["state"] == SEALED and not regulation.sealed_in_scope:
            return False
        offence = self.offences.offences[row["offence_code"]]
        return regulation.covers(row["offence_code"], row["disposition"], offence.categories)

    def _offence_names(self, code: str) -> dict[str, str]:
        offence = self.offences.offences[code]
        return {"code": code, "name_zh": offence.name_zh, "name_en": offence.name_en}

    def _record(self, row: Mapping[str, Any]) -> dict[str, Any]:
        data_key = self.keys.unwrap(
            row["key_id"], bytes(row["wrapped_key"]), person_aad(bytes(row["blind_index"]))
        )
        identity = identity_from_bytes(
            DataKey(data_key).open(bytes(row["identity"]), row_aad(row["source"], row["record_id"]))
        )
        state = row["state"] or "open"
        record = {
            "source": row["source"],
            "record_id": row["record_id"],
            "name": identity["name"],
            "id_number": identity["id_number"] or None,
            "alt_id": identity["alt_id"] or None,
            "kind": row["kind"],
            **self._offence_names(row["offence_code"]),
            "offence_date": _iso(row["offence_date"]),
            "decision_date": _iso(row["decision_date"]),
            "completion_date": _iso(row["completion_date"]),
            "disposition": row["disposition"],
            "detention_days": row["detention_days"],
            "sentence_months": row["sentence_months"],
            "fine_yuan": row["fine_yuan"],
            "seal_state": state,
            "seal_rule": row["rule_id"],
        }
        return record


def _decision_entry(
    requester: Requester, purpose: str, decision: Decision, request_id: str
) -> dict[str, Any]:
    """What every door entry says: the decision, the policies behind it, the purpose, the
    request, and who asked (the organisation and officer, or the identity method)."""
    entry: dict[str, Any] = {
        "kind": "disclosure",
        "decision": "allow" if decision.allowed else "deny",
        "policies": list(decision.policies),
        "purpose": purpose,
        "request_id": request_id,
    }
    if requester.org_id is not None:
        entry.update(
            organisation=requester.org_id,
            organisation_name=requester.org_name,
            organisation_type=requester.org_type,
            officer=requester.officer,
        )
    else:
        entry["identity_method"] = requester.identity_method
    return entry


def _iso(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    text: str = value.isoformat()
    return text


def _access(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What a subject sees of one look at their records: who, what kind, why, when."""
    return {
        "time": entry.get("time"),
        "organisation": entry.get("organisation_name"),
        "organisation_type": entry.get("organisation_type"),
        "purpose": entry.get("purpose"),
        "decision": entry.get("decision"),
        "case_number": entry.get("case_number"),
        "regulation": entry.get("regulation"),
    }
