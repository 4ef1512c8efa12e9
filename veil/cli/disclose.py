"""`veil disclose`: an operator's request through the same door as the HTTP API."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer
from pydantic import ValidationError

from veil.cli.output import emit_json, fail
from veil.disclosure.outcome import handle
from veil.disclosure.request import DisclosureBody
from veil.home import Home

EXIT_REFUSED = 1
EXIT_LEDGER = 3
MAX_REQUEST = 64 * 1024


def disclose(
    request_file: Path = typer.Argument(
        ..., help="A JSON file with the body POST /api/v1/disclosures takes."
    ),
    token: str = typer.Option(
        ..., "--token", envvar="VEIL_TOKEN", help="The organisation's bearer token."
    ),
) -> None:
    """Ask for a disclosure; print the answer, or the RFC 9457 problem, as JSON.

    Exit 0 with an answer, 1 when refused or not authenticated, 2 for a malformed request,
    3 when the audit ledger could not record it (nothing disclosed).
    """
    home = Home()
    try:
        home.check_ready()
        if request_file.stat().st_size > MAX_REQUEST:
            fail(f"{request_file}: larger than {MAX_REQUEST} bytes", as_json=True)
        body = DisclosureBody.model_validate_json(request_file.read_bytes())
    except (RuntimeError, OSError) as exc:
        fail(str(exc), as_json=True)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        fail("invalid or missing: " + ", ".join(fields), as_json=True)
    outcome = handle(home, token, body, "cli-" + uuid.uuid4().hex)
    emit_json(outcome.body)
    if outcome.status == 503:
        raise typer.Exit(EXIT_LEDGER)
    raise typer.Exit(EXIT_REFUSED if outcome.is_problem else 0)
