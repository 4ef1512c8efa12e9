"""`veil identity`: subjects' identity credentials for self-inquiry (demo method only)."""

from __future__ import annotations

import typer

from veil.cli.output import JSON_OPTION, emit_json, fail, stdout
from veil.disclosure.identity import DemoIdentity
from veil.home import Home

app = typer.Typer(help="Identity credentials for self-inquiry.", no_args_is_help=True)


@app.command("demo-credential")
def demo_credential(
    id_number: str = typer.Argument(..., help="The subject's ID number."),
    as_json: bool = JSON_OPTION,
) -> None:
    """FOR LOCAL DEMONSTRATION ONLY: a self-inquiry credential for ID_NUMBER.

    Works only when VEIL_IDENTITY_CHECK=demo. Anyone with the key file can mint these, so
    they prove nothing about a real person.
    """
    home = Home()
    try:
        home.check_ready()
    except RuntimeError as exc:
        fail(str(exc), as_json=as_json)
    if home.settings.identity_check != "demo":
        fail("the demo identity check is off: set VEIL_IDENTITY_CHECK=demo", as_json=as_json)
    credential = DemoIdentity(home.keys).credential(id_number)
    if as_json:
        emit_json({"credential": credential, "method": "demo"})
    else:
        stdout.print(credential)
