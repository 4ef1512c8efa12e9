"""`veil ingest`: load a record file; every row ends stored, unchanged or rejected."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from veil.cli.output import JSON_OPTION, emit_json, fail, stderr, stdout
from veil.home import Home
from veil.ledger.log import LedgerUnavailable


def ingest(
    file: Path = typer.Argument(
        ..., help="A .csv, .jsonl or .parquet file with the canonical columns."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate and store records; exit 0 when nothing was rejected, 1 when something was."""
    # Arrow and the rule packs: imported by this command only, not by every `veil` command.
    from veil.recordfiles import FileFormatError
    from veil.sealing.pack import PackError

    home = Home()
    try:
        home.check_ready()
        _ = home.ruleset  # a bad rule pack stops the ingest before it reads a row
    except (RuntimeError, PackError) as exc:
        fail(str(exc), as_json=as_json)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as progress:
        task = progress.add_task(f"Ingesting {file.name}", total=None)
        deciding: list[TaskID] = []  # the second bar, once the last chunk is in

        def decided(done: int, total: int) -> None:
            if not deciding:  # every chunk is in
                reading = next(t for t in progress.tasks if t.id == task)
                progress.update(task, completed=reading.total)
                deciding.append(progress.add_task("Deciding seal states", total=total))
            progress.update(deciding[0], completed=done, total=total)

        try:
            report = home.ingest_file(
                file,
                "cli",
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                deciding=decided,
            )
        except FileFormatError as exc:
            fail(f"{exc} (nothing was stored)", as_json=as_json)
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
