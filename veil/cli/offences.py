"""`veil offences`: the offence catalogue."""

from __future__ import annotations

import typer
from rich.table import Table

from veil.cli.output import JSON_OPTION, emit_json, stdout
from veil.records.catalogue import load_catalogue

app = typer.Typer(
    help="The offence catalogue (codes, names, statutes, categories).", no_args_is_help=True
)


@app.command("list")
def list_offences(as_json: bool = JSON_OPTION) -> None:
    """List every offence with its statute, article and categories."""
    catalogue = load_catalogue()
    if as_json:
        emit_json([o.as_dict() for o in catalogue.offences.values()])
        return
    table = Table(title=f"Offence catalogue {catalogue.version}")
    for column in ("code", "kind", "name", "statute", "article", "categories"):
        table.add_column(column)
    for o in catalogue.offences.values():
        table.add_row(
            o.code,
            o.kind,
            f"{o.name_zh}\n{o.name_en}",
            catalogue.statute_name(o),
            o.article,
            ", ".join(o.categories),
        )
    stdout.print(table)
