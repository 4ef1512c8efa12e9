"""`veil org`: the organisations that may ask, and their tokens (records bureau)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from veil.cli.output import JSON_OPTION, emit_json, fail, stdout
from veil.cli.ready import ready_home
from veil.disclosure.organisations import UnknownOrganisationType
from veil.ledger.log import LedgerUnavailable

app = typer.Typer(help="Organisations that may ask, and their API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="The organisation's name."),
    org_type: str = typer.Option(
        ..., "--type", help="Its type, e.g. court, school, employer, records_bureau."
    ),
    officer: str = typer.Option(None, "--officer", help="The officer the first token is for."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register an organisation and print its first API token (shown this once only)."""
    home = ready_home(as_json)
    try:
        created = home.organisations.create(name, org_type, officer, by="cli")
    except (UnknownOrganisationType, ValueError, LedgerUnavailable) as exc:
        fail(str(exc) or "the audit ledger is unavailable", as_json=as_json)
    if as_json:
        emit_json({"id": created["id"], "token": created["token"]})
        return
    stdout.print(f"Organisation {created['id']} ({org_type}): {name}")
    stdout.print(f"Token (shown once, keep it secret): {created['token']}")


@app.command("list")
def list_orgs(as_json: bool = JSON_OPTION) -> None:
    """List organisations, revoked ones included."""
    rows = ready_home(as_json).organisations.list()
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Organisations")
    for column in ("id", "name", "type", "created", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"], row["name"], row["type"], row["created_at"] or "", row["revoked_at"] or ""
        )
    stdout.print(table)


@app.command("revoke")
def revoke(
    org_id: str = typer.Argument(..., help="The organisation's id (org-...)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke an organisation and every token it holds; exit 1 if there is no such live one."""
    try:
        done = ready_home(as_json).organisations.revoke(org_id, by="cli")
    except LedgerUnavailable as exc:
        fail(str(exc) or "the audit ledger is unavailable", as_json=as_json)
    result: dict[str, Any] = {"id": org_id, "revoked": done}
    if as_json:
        emit_json(result)
    else:
        stdout.print(f"{org_id}: revoked" if done else f"{org_id}: no such live organisation")
    raise typer.Exit(0 if done else 1)


@app.command("token")
def token(
    org_id: str = typer.Argument(..., help="The organisation's id (org-...)."),
    officer: str = typer.Option(None, "--officer", help="The officer the token is for."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Issue another token to a live organisation (shown this once only)."""
    try:
        issued = ready_home(as_json).organisations.issue_token(org_id, officer, by="cli")
    except LedgerUnavailable as exc:
        fail(str(exc) or "the audit ledger is unavailable", as_json=as_json)
    if issued is None:
        fail(f"{org_id}: no such live organisation", as_json=as_json, code=1)
    if as_json:
        emit_json({"id": org_id, "token": issued})
    else:
        stdout.print(f"Token (shown once, keep it secret): {issued}")
