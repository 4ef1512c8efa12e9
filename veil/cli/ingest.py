"""`veil ingest`: load a record file; every row ends stored, unchanged or rejected."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from veil.cli.output import JSON_OPTION, emit_json, fail, stderr, stdout
from veil.home import Home
from veil.ingest import ingest_rows
from veil.ledger.log import LedgerUnavailable
from veil.recordfiles import FileFormatError, format_of, open_reader
from veil.sealing.pack import PackError


def ingest(
    file: Path = typer.Argument(
        ..., help="A .csv, .jsonl or .parquet file with the canonical columns."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate and store records; exit 0 when nothing was rejected, 1 when something was."""
    home = Home()
    try:
        home.check_ready()
        rules = home.ruleset
        reader = open_reader(file)
        file_format = format_of(file)
    except (RuntimeError, FileFormatError, PackError) as exc:
        fail(str(exc), as_json=as_json)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as progress:
        task = progress.add_task(f"Ingesting {file.name}", total=reader.total)
        try:
            with home.engine.connect() as conn:
                report = ingest_rows(
                    conn,
                    reader,
                    keys=home.keys,
                    catalogue=home.catalogue,
                    rules=rules,
                    file_name=file.name,
                    file_format=file_format,
                    on_chunk=lambda: progress.update(task, completed=reader.position),
                )
        except FileFormatError as exc:
            fail(f"{exc} (nothing was stored)", as_json=as_json)
        progress.update(task, completed=reader.total)
    try:
        home.audit_ingest(report, file.name, by="cli")
    except LedgerUnavailable:
        fail(
            f"{file.name} was stored, but the audit ledger could not record it",
            as_json=as_json,
            code=3,
        )
    if as_json:
        emit_json(report.as_dict())
    else:
        stdout.print(
            f"{file.name}: {report.accepted} accepted, {report.unchanged} unchanged, "
            f"{report.rejected} rejected"
        )
        if report.rejections:
            table = Table(title="Rejected rows")
            for column in ("line", "column", "reason"):
                table.add_column(column)
            for rejection in report.rejections[:200]:
                table.add_row(str(rejection.line), rejection.column, rejection.reason)
            stdout.print(table)
            if len(report.rejections) > 200:
                stdout.print(f"... and {len(report.rejections) - 200} more (use --json for all)")
    raise typer.Exit(1 if report.rejected else 0)
