"""`veil certificate`: issue certificates at the records bureau's counter; verify them offline."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from veil.cli.output import JSON_OPTION, emit_json, fail, stdout
from veil.cli.ready import ready_home

# The certificates' modules (ReportLab, pypdf, the door) are imported by the commands that
# use them, so that every other `veil` command starts without them.
if TYPE_CHECKING:
    from veil.certificates.issue import Issued

app = typer.Typer(
    help="No-criminal-record certificates and unit query letters: issue and verify.",
    no_args_is_help=True,
)

MAX_PDF = 10 * 1024 * 1024
EXIT_NOT_GENUINE = 1


@app.command("issue")
def issue_command(
    subject: str = typer.Option(..., "--subject", help="The applicant's ID number."),
    name: str = typer.Option(
        ..., "--name", help="The applicant's name as on the identity card the clerk checked."
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the PDF."),
    lang: str = typer.Option("zh", "--lang", help="zh (Chinese) or en (English)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Issue a certificate, or the notice that one cannot be issued, at the counter.

    The operator is the records bureau, whose clerk has checked the applicant's identity
    card: the name printed is the one given here, never one read from the records.
    """
    from veil.certificates.issue import issue
    from veil.disclosure.door import Requester
    from veil.disclosure.organisations import org_entity

    _check_name_and_lang(name, lang, as_json)
    home = ready_home(as_json)
    counter = Requester(
        entity=org_entity("records_bureau", "counter", "records_bureau", False),
        org_id="counter",
        org_name="records bureau counter",
        org_type="records_bureau",
        officer="cli",
        verified_id=subject,
    )
    _deliver(
        lambda: issue(home, counter, subject, name.strip(), lang, "cli-" + uuid.uuid4().hex),
        out,
        as_json,
    )


@app.command("letter")
def letter_command(
    subject: str = typer.Option(..., "--subject", help="The person's ID number."),
    name: str = typer.Option(..., "--name", help="The person's name as on their signed consent."),
    regulation: str = typer.Option(
        ..., "--regulation", help="The regulation that lets the unit ask (veil rules list)."
    ),
    consent_ref: str = typer.Option(..., "--consent-ref", help="The person's signed consent."),
    post: str = typer.Option(..., "--post", help="The post the person holds or applies for."),
    out: Path = typer.Option(..., "--out", help="Where to write the PDF."),
    token: str = typer.Option(..., "--token", envvar="VEIL_TOKEN", help="The unit's token."),
    lang: str = typer.Option("zh", "--lang", help="zh (Chinese) or en (English)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Issue a unit's query notification letter about its staff member or applicant.

    Permitted only for a unit whose type the regulation lists, with the person's consent
    and the post named; exit 1 when not permitted. The letter says only whether a criminal
    record was found.
    """
    from veil.certificates.issue import issue_letter
    from veil.disclosure.door import DisclosureRequest

    _check_name_and_lang(name, lang, as_json)
    home = ready_home(as_json)
    unit = home.authenticator.requester(token)
    if unit is None:
        fail("not authenticated: the token is unknown or revoked", as_json=as_json, code=1)
    request = DisclosureRequest(
        id_number=subject,
        purpose="unit_letter",
        regulation=regulation,
        consent_ref=consent_ref,
        post=post,
    )
    _deliver(
        lambda: issue_letter(home, unit, request, name.strip(), lang, "cli-" + uuid.uuid4().hex),
        out,
        as_json,
    )


def _check_name_and_lang(name: str, lang: str, as_json: bool) -> None:
    from veil.certificates.document import LANGS

    if lang not in LANGS:
        fail(f"--lang must be one of {', '.join(LANGS)}", as_json=as_json)
    if not name.strip() or len(name) > 64:
        fail("--name is 1 to 64 characters", as_json=as_json)


def _deliver(issuing: Callable[[], Issued], out: Path, as_json: bool) -> None:
    """Issue, write the PDF, and say what was written (exit 1 refused, 3 ledger down)."""
    from veil.disclosure.door import Refused
    from veil.ledger.log import LedgerUnavailable

    try:
        issued = issuing()
    except Refused:
        fail("not permitted", as_json=as_json, code=1)
    except LedgerUnavailable as exc:
        fail(f"{exc}: nothing was issued", as_json=as_json, code=3)
    out.write_bytes(issued.pdf)
    content = issued.content
    if as_json:
        emit_json(
            {
                "kind": content.kind,
                "serial": content.serial,
                "code": content.code,
                "issued_at": content.issued_at,
                "valid_until": content.valid_until,
                "file": str(out),
            }
        )
    else:
        stdout.print(f"{content.kind} {content.serial} (code {content.code}) written to {out}")


@app.command("key")
def key_command(as_json: bool = JSON_OPTION) -> None:
    """Print the public key certificates are verified with (base64 of the Ed25519 key)."""
    from veil.certificates.document import public_key_of

    key = base64.b64encode(public_key_of(ready_home(as_json).keys.certificate_signing_key()))
    if as_json:
        emit_json({"algorithm": "Ed25519", "public_key": key.decode()})
    else:
        stdout.print(key.decode())


@app.command("verify")
def verify_command(
    file: Path = typer.Argument(..., help="The certificate PDF."),
    key: str = typer.Option(
        None,
        "--key",
        help="The issuer's public key (base64, as `veil certificate key` prints it); "
        "default: this installation's.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a certificate offline: exit 0 if genuine, 1 if not.

    Says only "genuine, issued on D, valid until V" or "not genuine".
    """
    from veil.certificates.document import public_key_of, verify

    try:
        public = base64.b64decode(key, validate=True) if key else None
    except ValueError:
        fail("--key is not base64", as_json=as_json)
    if public is None:
        public = public_key_of(ready_home(as_json).keys.certificate_signing_key())
    try:
        if file.stat().st_size > MAX_PDF:
            fail(f"{file}: larger than {MAX_PDF} bytes", as_json=as_json)
        data = file.read_bytes()
    except OSError as exc:
        fail(str(exc), as_json=as_json)
    verdict = verify(data, public)
    if as_json:
        emit_json(verdict.public())
    elif verdict.genuine and verdict.content is not None:
        stdout.print(
            f"Genuine: issued on {verdict.content.issued_at[:10]}, "
            f"valid until {verdict.content.valid_until}, for the person named on it."
        )
    else:
        stdout.print("NOT genuine.")
    raise typer.Exit(0 if verdict.genuine else EXIT_NOT_GENUINE)
