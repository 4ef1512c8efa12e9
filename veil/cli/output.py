"""How commands talk: JSON on stdout with --json, Rich text otherwise, errors to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)

EXIT_USAGE = 2


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def fail(message: str, *, as_json: bool, code: int = EXIT_USAGE) -> NoReturn:
    """Stop with a clear message: {"error": ...} on stdout with --json, else on stderr."""
    if as_json:
        emit_json({"error": message})
    else:
        stderr.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of text.")
