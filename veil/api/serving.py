"""Running the HTTP server: uvicorn's processes and the audit ledger's writer process."""

from __future__ import annotations

import os
from typing import Any

from veil.config import LEDGER_SOCKET_ENV
from veil.ledger.service import WriterProcess


def run_server(app: str, **uvicorn_options: Any) -> None:
    """uvicorn running the app factory `app` (e.g. "veil.api.app:server_app") until it is
    stopped. Its server processes append to the audit ledger through one writer process,
    started first and stopped last (veil.ledger.service). RuntimeError if that does not
    start."""
    import uvicorn

    with WriterProcess() as writer:
        os.environ[LEDGER_SOCKET_ENV] = writer.socket  # read by Home in every server process
        try:
            uvicorn.run(app, factory=True, **uvicorn_options)
        finally:
            os.environ.pop(LEDGER_SOCKET_ENV, None)
