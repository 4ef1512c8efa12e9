"""`veil synth`: write a synthetic record set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.progress import Progress

from veil.cli.output import JSON_OPTION, emit_json, fail, stderr, stdout


def synth(
    persons: int = typer.Option(
        ..., "--persons", min=1, help="Population size; about 3% of them carry records."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same file."),
    out: Path = typer.Option(..., "--out", help="Output file: .csv, .jsonl or .parquet."),
    bad_rows: float = typer.Option(
        0.0,
        "--bad-rows",
        min=0.0,
        max=1.0,
        help="Fraction of rows deliberately broken, of every kind.",
    ),
    as_of: str = typer.Option(
        "2026-06-30", "--as-of", help="Latest date any record may carry (YYYY-MM-DD)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a realistic synthetic record set in national proportions."""
    # Arrow and the generator: imported by this command only, not by every `veil` command.
    from veil.recordfiles import FileFormatError, format_of, open_writer
    from veil.synth import SynthOptions, generate_rows

    try:
        format_of(out)
        as_of_date = dt.date.fromisoformat(as_of)
    except (FileFormatError, ValueError) as exc:
        fail(str(exc), as_json=as_json)
    options = SynthOptions(persons=persons, seed=seed, bad_rows=bad_rows, as_of=as_of_date)
    count = 0
    with Progress(console=stderr, disable=as_json or not stderr.is_terminal) as progress:
        task = progress.add_task("Writing records", total=None)
        with open_writer(out) as writer:
            for row in generate_rows(options):
                writer.write(row)
                count += 1
                if count % 10_000 == 0:
                    progress.update(task, completed=count)
    if as_json:
        emit_json({"out": str(out), "rows": count, "persons": persons, "seed": seed})
    else:
        stdout.print(f"Wrote {count} rows to {out}")
