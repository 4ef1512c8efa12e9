"""`veil audit`: verify the ledger, print its checkpoint and proofs, check proofs offline."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from veil.cli.output import JSON_OPTION, emit_json, fail, stderr, stdout
from veil.home import Home
from veil.ledger.checkpoint import LEDGER_ORIGIN, NoteError
from veil.ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    ProofError,
    ProofFormatError,
)
from veil.ledger.reader import LedgerDamaged, LedgerReader
from veil.ledger.seal_runs import seal_run_problems
from veil.ledger.sql import entry_chunks, stored_size
from veil.ledger.verify import VerifyReport, verify_log

app = typer.Typer(
    help="The audit ledger: verify it, print its signed checkpoint and proofs, check proofs.",
    no_args_is_help=True,
)

EXPORT_CHUNK = 1 << 14


def _reader(as_json: bool) -> tuple[Home, LedgerReader]:
    home = Home()
    try:
        home.check_ready()
    except RuntimeError as exc:
        fail(str(exc), as_json=as_json)
    return home, LedgerReader(home.engine, home.keys, LEDGER_ORIGIN)


@app.command("verify")
def verify(
    against: list[Path] = typer.Option(
        None,
        "--against",
        help="A checkpoint note fetched earlier: the log must still extend it (repeatable).",
    ),
    subjects: bool = typer.Option(
        False,
        "--subjects",
        help="Also hold each entry's subject index column to the entry (slower).",
    ),
    seals: bool = typer.Option(
        False,
        "--seals",
        help="Also recompute each recorded seal run's events and hold them to the ledger.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute the log from its entries and check its checkpoints; exit 1 on any problem.

    Finds any modified, deleted, inserted or reordered entry, and any checkpoint that does
    not match the entries or whose signature does not verify. With --seals, also any seal
    history event of a recorded run modified, deleted or added since the run.
    """
    home, reader = _reader(as_json)
    witnessed = []
    for path in against or []:
        try:
            witnessed.append(reader.verifier.open_checkpoint(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, NoteError) as exc:
            fail(f"{path}: not a checkpoint signed by this installation: {exc}", as_json=as_json)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("Verifying the audit ledger", total=None)
        with home.engine.connect() as conn:
            report = verify_log(
                conn,
                reader.verifier,
                witnessed=witnessed,
                subjects=subjects,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
            if seals:
                progress.update(task, description="Checking the seal runs")
                _, seal_problems = seal_run_problems(conn, report.size)
                report = VerifyReport(
                    ok=report.ok and not seal_problems,
                    size=report.size,
                    root=report.root,
                    problems=[*report.problems, *seal_problems],
                )
    if as_json:
        emit_json(report.as_json())
    elif report.ok:
        stdout.print(
            f"The ledger verifies: {report.size:,} entries, root {report.root.hex()}, "
            f"signed by {reader.verifier_key()}",
            markup=False,
            soft_wrap=True,
        )
    else:
        stdout.print(
            f"The ledger does NOT verify ({report.size:,} entries, root {report.root.hex()}):",
            markup=False,
            soft_wrap=True,
        )
        for problem in report.problems:
            stdout.print(f"  - {problem}", markup=False, soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)


@app.command("checkpoint")
def checkpoint(as_json: bool = JSON_OPTION) -> None:
    """Print the latest signed checkpoint (C2SP signed note) as monitors fetch it."""
    _, reader = _reader(as_json)
    latest = reader.checkpoint()
    if as_json:
        emit_json(
            {
                "size": latest.size,
                "root": latest.root.hex(),
                "note": latest.note,
                "verifier_key": reader.verifier_key(),
            }
        )
        return
    sys.stdout.write(latest.note)


@app.command("proof")
def proof(
    index: int = typer.Option(..., "--index", min=0, help="The entry's log index."),
    size: int = typer.Option(
        None, "--size", min=0, help="Tree size (default: the latest checkpoint's)."
    ),
) -> None:
    """Print the inclusion proof of one entry as JSON (the shape check-inclusion reads)."""
    _, reader = _reader(False)
    _print_proof(lambda: reader.inclusion_proof(index, size))


@app.command("consistency")
def consistency(
    first: int = typer.Option(..., "--from", min=1, help="The earlier tree size."),
    second: int = typer.Option(
        None, "--to", min=1, help="The later tree size (default: the latest checkpoint's)."
    ),
) -> None:
    """Print the consistency proof between two tree sizes as JSON (check-consistency reads it)."""
    _, reader = _reader(False)
    _print_proof(lambda: reader.consistency_proof(first, second))


def _print_proof(make: Callable[[], InclusionProof | ConsistencyProof]) -> None:
    try:
        found = make()
    except (ValueError, LedgerDamaged) as exc:
        fail(str(exc), as_json=False)
    emit_json(found.as_json())


def _proof_file(path: Path, as_json: bool) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}", as_json=as_json)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path} is not JSON: {exc}", as_json=as_json)


def _check(
    path: Path,
    as_json: bool,
    read: Callable[[object], InclusionProof | ConsistencyProof],
    says: Callable[[Any], str],
) -> None:
    """Read a proof file, verify it, and exit 0 if it holds, 1 if not, 2 if malformed."""
    try:
        found = read(_proof_file(path, as_json))
    except ProofFormatError as exc:
        fail(f"{path}: {exc}", as_json=as_json)
    try:
        found.verify()
    except ProofError as exc:
        problem: str | None = str(exc)
    else:
        problem = None
    if as_json:
        emit_json({"ok": problem is None, "problems": [] if problem is None else [problem]})
    elif problem is None:
        stdout.print(f"valid: {says(found)}", markup=False)
    else:
        stdout.print(f"INVALID: {problem}", markup=False)
    raise typer.Exit(0 if problem is None else 1)


FILE_ARGUMENT = typer.Argument(..., help="The proof as JSON (- reads standard input).")


@app.command("check-inclusion")
def check_inclusion(path: Path = FILE_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Check an inclusion proof offline from its parts alone: exit 0 if valid, 1 if not."""
    _check(
        path,
        as_json,
        InclusionProof.from_json,
        lambda p: f"leaf {p.leaf_index} is in the tree of {p.tree_size} entries",
    )


@app.command("check-consistency")
def check_consistency(path: Path = FILE_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Check a consistency proof offline from its parts alone: exit 0 if valid, 1 if not."""
    _check(
        path,
        as_json,
        ConsistencyProof.from_json,
        lambda p: f"the tree of {p.size2} entries extends the tree of {p.size1}",
    )


@app.command("export")
def export(as_json: bool = JSON_OPTION) -> None:
    """Print every entry's exact bytes in log order: one per line, or base64 with --json."""
    home, _ = _reader(as_json)
    out = sys.stdout.buffer
    with home.engine.connect() as conn:
        size = stored_size(conn)
        if as_json:
            out.write(b'{\n  "entries": [')
            separator = b"\n    "
            for chunk in entry_chunks(conn, 0, size, EXPORT_CHUNK):
                for entry in chunk:
                    out.write(separator + b'"' + base64.b64encode(entry) + b'"')
                    separator = b",\n    "
            out.write(b"\n  ]\n}\n" if size else b"]\n}\n")
        else:
            for chunk in entry_chunks(conn, 0, size, EXPORT_CHUNK):
                out.write(b"".join(entry + b"\n" for entry in chunk))
    out.flush()
