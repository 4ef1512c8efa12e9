"""Command registry: every command lives in a module named for what it does."""

from __future__ import annotations

import typer

from veil.cli import (
    admin,
    audit,
    certificate,
    disclose,
    identity,
    ingest,
    offences,
    org,
    rules,
    seal,
    synth,
)
from veil.cli.output import EXIT_USAGE, stderr
from veil.config import ConfigError

app = typer.Typer(
    name="veil",
    help="Veil: sealed public-security records, disclosed only as the law names.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("init")(admin.init)
app.command("serve")(admin.serve)
app.command("ingest")(ingest.ingest)
app.command("synth")(synth.synth)
app.add_typer(offences.app, name="offences")
app.add_typer(admin.db_app, name="db")
app.add_typer(seal.app, name="seal")
app.add_typer(rules.app, name="rules")
app.add_typer(org.app, name="org")
app.add_typer(identity.app, name="identity")
app.command("disclose")(disclose.disclose)
app.add_typer(audit.app, name="audit")
app.add_typer(certificate.app, name="certificate")


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # a bad VEIL_* setting, found by whichever command reads it
        stderr.print(f"veil: {exc}", markup=False)
        raise SystemExit(EXIT_USAGE) from None
