"""Issuing a certificate: through the door, into the ledger, then signed and rendered."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from veil.certificates.document import Content, Verdict, public_key_of, render, sign, verify
from veil.certificates.rules import load_provisions
from veil.disclosure.door import DisclosureRequest, Prepared, Requester
from veil.keys import BlindIndex
from veil.store.certificates import add_certificate, certificate_by_code

if TYPE_CHECKING:
    from veil.home import Home


@dataclass(frozen=True)
class Issued:
    content: Content
    pdf: bytes

    def download_headers(self) -> dict[str, str]:
        """The headers the PDF is sent with, by the API and by the subject's page."""
        return {
            "Content-Disposition": f'attachment; filename="veil-{self.content.serial}.pdf"',
            "Veil-Certificate-Code": self.content.code,
            "Veil-Certificate-Serial": self.content.serial,
        }


def new_code() -> str:
    """A verification code: 80 random bits as 16 base32 characters in groups of four."""
    text = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue(
    home: Home,
    requester: Requester,
    id_number: str,
    name: str,
    lang: str,
    request_id: str,
    now: Clock = _utcnow,
) -> Issued:
    """The certificate (or the notice that one cannot be issued) for `id_number`.

    `name` is the applicant's name as verified at application, never one read from the
    records, so nothing printed depends on whether the store knows the person. Raises
    Refused if not permitted, LedgerUnavailable if the issue could not be recorded.
    """
    prepared = home.door.prepare_certificate(requester, id_number, request_id)
    return _issue(
        home,
        prepared,
        lambda found: {"kind": "cannot_issue_notice" if found else "no_record_certificate"},
        name=name,
        id_number=id_number,
        lang=lang,
        now=now,
    )


def issue_letter(
    home: Home,
    requester: Requester,
    request: DisclosureRequest,
    name: str,
    lang: str,
    request_id: str,
    now: Clock = _utcnow,
) -> Issued:
    """A unit's query notification letter about a consenting person (SPEC section 5).

    `request` names the person, the regulation that lets the unit ask, the consent and the
    post. The letter says only whether a criminal record (as certificates count them) was
    found; `name` is the one on the person's consent form, never one read from records.
    """
    prepared = home.door.prepare_letter(requester, request, request_id)
    return _issue(
        home,
        prepared,
        lambda found: {
            "kind": "unit_letter",
            "unit": requester.org_name or "",
            "finding": "found" if found else "none_found",
        },
        name=name,
        id_number=request.id_number,
        lang=lang,
        now=now,
    )


def _issue(
    home: Home,
    prepared: Prepared,
    outcome: Callable[[bool], dict[str, str]],
    *,
    name: str,
    id_number: str,
    lang: str,
    now: Clock,
) -> Issued:
    """Ledger, then keep, sign and render: nothing leaves before its entry is durable."""
    if not prepared.allowed:
        home.ledger.append(prepared.entry, prepared.subject_index)
        prepared.release()  # raises Refused
    # Held in memory: nothing leaves until the ledger entry naming it is durable.
    found = prepared.release()["criminal_record"]
    issued_at = now().replace(microsecond=0)
    code = new_code()
    content = Content(
        lang=lang,
        serial=f"{issued_at:%Y}-{secrets.randbelow(10**10):010d}",
        code=code,
        issued_at=issued_at.isoformat().replace("+00:00", "Z"),
        valid_until=(
            issued_at.date() + dt.timedelta(days=load_provisions().validity_days)
        ).isoformat(),
        name=name,
        id_number=BlindIndex.normalise(id_number),
        verify_url=f"{home.settings.public_url}/api/v1/certificates/{code}",
        **outcome(found),
    )
    prepared.entry["certificate"] = {
        "kind": content.kind,
        "serial": content.serial,
        "code": code,
        "valid_until": content.valid_until,
    }
    home.ledger.append(prepared.entry, prepared.subject_index)
    with home.engine.begin() as conn:
        add_certificate(
            conn,
            code=code,
            serial=content.serial,
            kind=content.kind,
            issued_at=issued_at,
            valid_until=dt.date.fromisoformat(content.valid_until),
            content_sha256=hashlib.sha256(content.canonical()).digest(),
        )
    signature = sign(content, home.keys.certificate_signing_key())
    return Issued(content, render(content, signature))


def check_code(home: Home, code: str, today: dt.date | None = None) -> dict[str, object]:
    """The online check: "genuine, issued on D, valid until V", or not genuine.

    Every check is a ledger entry (SPEC section 5). The answer says nothing else: not the
    kind of document, not whom it is for (the document names the person).
    """
    normalised = code.strip().upper()
    with home.engine.connect() as conn:
        row = certificate_by_code(conn, normalised) if len(normalised) <= 19 else None
    genuine = row is not None
    home.ledger.append({"kind": "certificate_check", "code": normalised[:19], "genuine": genuine})
    if row is None:
        return {"genuine": False}
    return _genuine(row["issued_at"].date(), row["valid_until"], today)


def check_file(home: Home, pdf: bytes, today: dt.date | None = None) -> dict[str, object]:
    """The check of an uploaded certificate file: the offline verification with the
    installation's public key, answered like `check_code` and, like it, a ledger entry.

    Anything that is not a certificate this installation signed, unaltered, is not genuine.
    """
    key = public_key(home)
    try:
        verdict = verify(pdf, key)
    except Exception:  # an uploaded file may break the PDF reader in ways it does not name
        verdict = Verdict(False, reason="unreadable")
    content = verdict.content if verdict.genuine else None
    home.ledger.append(
        {
            "kind": "certificate_check",
            "method": "file",
            "code": content.code if content is not None else None,
            "genuine": content is not None,
        }
    )
    if content is None:
        return {"genuine": False}
    issued_on = dt.date.fromisoformat(content.issued_at[:10])
    return _genuine(issued_on, dt.date.fromisoformat(content.valid_until), today)


def _genuine(issued_on: dt.date, valid_until: dt.date, today: dt.date | None) -> dict[str, object]:
    return {
        "genuine": True,
        "issued_on": issued_on.isoformat(),
        "valid_until": valid_until.isoformat(),
        "expired": (today or dt.date.today()) > valid_until,
    }


def public_key(home: Home) -> bytes:
    """The Ed25519 key every certificate of this installation is signed with: published."""
    return public_key_of(home.keys.certificate_signing_key())
