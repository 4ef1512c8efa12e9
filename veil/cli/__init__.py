"""The `veil` command line (Typer): an edge over the domain packages."""

from veil.cli.app import app, main

__all__ = ["app", "main"]
