"""Opening the installation for a command that needs keys and a current schema."""

from __future__ import annotations

from veil.cli.output import fail
from veil.home import Home


def ready_home(as_json: bool) -> Home:
    """The installation, or a clear error (exit 2) if `veil init` has not run."""
    home = Home()
    try:
        home.check_ready()
    except RuntimeError as exc:
        fail(str(exc), as_json=as_json)
    return home
