"""`veil init`, `veil serve` and `veil db`: setting up and running an installation."""

from __future__ import annotations

import typer

from veil.cli.output import JSON_OPTION, emit_json, fail, stdout
from veil.home import Home
from veil.store.database import schema_differences


def init(as_json: bool = JSON_OPTION) -> None:
    """Create the key file and migrate the database (safe to run again)."""
    home = Home()
    result = home.init()
    if as_json:
        emit_json(
            {
                "home": str(home.settings.home),
                "created_keys": result.created_keys,
                "migrated_from": result.migrated_from,
                "revision": result.revision,
            }
        )
        return
    keys = "created" if result.created_keys else "already present"
    stdout.print(f"Veil home: {home.settings.home}")
    stdout.print(f"Key file {keys}: {home.settings.key_file}")
    stdout.print(f"Database at schema {result.revision} (was {result.migrated_from or 'empty'})")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="Server processes, each with its own event loop and listening socket.",
    ),
) -> None:
    """Start the HTTP API and its OpenAPI page (/docs), beside the audit ledger's writer process."""
    home = Home()
    try:
        home.check_ready()
        _ = home.pdp  # a policy that does not validate stops the start here, with its reason
    except RuntimeError as exc:
        fail(str(exc), as_json=False)
    stdout.print(f"Veil serving on http://{host}:{port}  (API docs at /docs)")
    if home.settings.identity_check == "demo":
        stdout.print("[bold yellow]Demo identity check in use: for local use only.[/]")
    from veil.api.serving import run_server  # FastAPI and the pages: only for this command

    try:
        run_server("veil.api.app:server_app", host=host, port=port, workers=workers)
    except RuntimeError as exc:  # the ledger's writer process did not start
        fail(str(exc), as_json=False)


db_app = typer.Typer(help="Database schema: upgrade and check.", no_args_is_help=True)


@db_app.command("check")
def db_check(as_json: bool = JSON_OPTION) -> None:
    """Exit 1 if the migrated database and the table definitions disagree."""
    home = Home()
    with home.engine.connect() as conn:
        differences = [str(d) for d in schema_differences(conn)]
    if as_json:
        emit_json({"ok": not differences, "differences": differences})
    elif differences:
        for difference in differences:
            stdout.print(difference)
    else:
        stdout.print("Models and migrations agree.")
    raise typer.Exit(1 if differences else 0)
