"""`veil seal`: run the sealing sweep, and explain one record's state."""

from __future__ import annotations

import datetime as dt

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from veil.cli.output import JSON_OPTION, emit_json, fail, stderr, stdout
from veil.home import Home
from veil.ledger.log import LedgerUnavailable
from veil.sealing.explain import LANGS, facts_line, one_line
from veil.sealing.pack import PackError
from veil.store.explained import explain_record
from veil.store.sweep import ENGINES, EngineError

app = typer.Typer(help="Seal states: sweep every record, explain one.", no_args_is_help=True)


def _date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


@app.command("sweep")
def sweep_command(
    as_of: str = typer.Option(None, "--as-of", help="Evaluate as of this date (default today)."),
    engine: str = typer.Option(
        None,
        "--engine",
        help=f"Where the sweep runs: {'|'.join(ENGINES)} (default: the store's own engine).",
    ),
    full: bool = typer.Option(
        False, "--full", help="Decide every record again, even where the last sweep allows less."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Evaluate every record against the rule packs; write an event for each change.

    After a sweep with the same rules as of the same day or earlier, only the persons whose
    decisions can have changed since are decided again (the result is the same as a full
    sweep's); otherwise, or when that cannot be shown safe, every record is.
    """
    day = _date(as_of)
    home = Home()
    try:
        home.check_ready()
        _ = home.ruleset  # a bad pack stops the sweep before it starts
    except (RuntimeError, PackError) as exc:
        fail(str(exc), as_json=as_json)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as progress:
        task = progress.add_task(f"Sweeping as of {day}", total=None)
        try:
            result = home.sweep(
                day,
                "cli",
                engine=engine,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                full=full,
            )
        except EngineError as exc:
            fail(str(exc), as_json=as_json)
        except LedgerUnavailable:
            fail(
                "the sweep was stored, but the audit ledger could not record it",
                as_json=as_json,
                code=3,
            )
    if as_json:
        emit_json(result.as_dict())
        return
    stdout.print(
        f"Swept {result.evaluated:,} records as of {day} on {result.engine}: "
        f"{sum(result.changes.values()):,} changed"
    )
    if result.incremental:
        stdout.print(
            f"Incremental: continued from the sweep as of {result.since}, deciding again the"
            f" records of {result.persons:,} persons whose decisions could have changed."
        )
    else:
        stdout.print(f"Full sweep: {result.full_because}.", markup=False)
    if result.changes:
        table = Table(title="Changes by rule")
        table.add_column("rule")
        table.add_column("records", justify="right")
        for rule_id, count in result.changes.items():
            table.add_row(rule_id, f"{count:,}")
        stdout.print(table)


@app.command("explain")
def explain_command(
    record: str = typer.Argument(..., help="SOURCE:RECORD_ID, the record's natural key."),
    lang: str = typer.Option("en", "--lang", help="zh or en."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print a record's seal state, rule, article and facts, then its history."""
    if lang not in LANGS:
        fail(f"--lang must be one of {', '.join(LANGS)}", as_json=as_json)
    source, sep, record_id = record.partition(":")
    if not sep or not source or not record_id:
        fail(f"{record!r} is not SOURCE:RECORD_ID", as_json=as_json)
    home = Home()
    try:
        home.check_ready()
        rules = home.ruleset
    except (RuntimeError, PackError) as exc:
        fail(str(exc), as_json=as_json)
    with home.engine.connect() as conn:
        found = explain_record(conn, rules, source, record_id, lang, dt.date.today())
    if found is None:
        fail(f"no record {source}:{record_id} in the store", as_json=as_json, code=1)
    summary = found
    if as_json:
        emit_json(summary)
        return
    stdout.print(f"{record}: {one_line(summary, lang)}", markup=False, soft_wrap=True)
    stdout.print(f"  {summary['explanation']}", markup=False)
    if summary["facts"]:
        stdout.print(f"  facts: {facts_line(summary['facts'])}", markup=False)
    if summary["today"]:
        due = summary["today"]
        stdout.print(
            f"  As of today the rules say {due['state']} ({due['rule'] or 'no rule'}):"
            " the next sweep will record it.",
            markup=False,
        )
    if summary["history"]:
        table = Table(title="History")
        for column in ("recorded", "by", "as of", "state", "rule", "article"):
            table.add_column(column)
        for entry in summary["history"]:
            table.add_row(
                entry["recorded_at"][:19],
                entry["trigger"],
                entry["as_of"],
                entry["state"],
                entry["rule"] or "",
                entry["article"] or "",
            )
        stdout.print(table)
