"""Running the HTTP server: uvicorn's server processes and the audit ledger's writer process.

With more than one server process, each accepts on a listening socket of its own, bound
to the same address with SO_REUSEPORT, and the kernel spreads new connections across
them. uvicorn's own `--workers` shares one socket among its processes, and asyncio accepts
every connection waiting on a socket in one go: a burst of keep-alive connections (a
client's pool, a proxy's) all went to the process that woke first, and the others stayed
idle. Measured with benchmarks/disclose.py (2 processes, 16 or 32 connections): in about
half the runs one process served every connection and the other none. Linux lets only
processes of the same user join a port's SO_REUSEPORT group.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from veil.config import LEDGER_SOCKET_ENV
from veil.ledger.service import WriterProcess

BACKLOG = 2048  # uvicorn's default
STARTUP_WINDOW = 10.0  # seconds: a server process that dies sooner is not restarted
STOP_WAIT = 30.0  # seconds each server process has to finish its requests


def run_server(app: str, *, workers: int = 1, **uvicorn_options: Any) -> None:
    """uvicorn running the app factory `app` (e.g. "veil.api.app:server_app") in `workers`
    processes until it is stopped. They append to the audit ledger through one writer
    process, started first and stopped last (veil.ledger.service). RuntimeError if that
    does not start, or if a server process fails as it starts; OSError if the address
    cannot be bound."""
    with WriterProcess() as writer:
        os.environ[LEDGER_SOCKET_ENV] = writer.socket  # read by Home in every server process
        try:
            serve_app(app, workers=workers, **uvicorn_options)
        finally:
            os.environ.pop(LEDGER_SOCKET_ENV, None)


def serve_app(app: str, *, workers: int = 1, **uvicorn_options: Any) -> None:
    """The server processes alone (`run_server` starts the ledger's writer around them)."""
    import uvicorn

    if workers == 1:
        uvicorn.run(app, factory=True, **uvicorn_options)
        return
    app_dir = uvicorn_options.pop("app_dir", None)
    if app_dir is not None:  # where `app` is imported from, as uvicorn.run does
        sys.path.insert(0, app_dir)
    ServerProcesses(uvicorn.Config(app, factory=True, **uvicorn_options)).run(workers)


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets listening on host:port together (port 0: one port chosen for all)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(BACKLOG)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _serve(config: Any, sock: socket.socket) -> None:
    """A server process: uvicorn on its own listening socket (Ctrl-C and SIGTERM stop it
    gracefully; uvicorn handles both)."""
    import uvicorn

    config.configure_logging()
    uvicorn.Server(config).run(sockets=[sock])


class ServerProcesses:
    """uvicorn server processes, each on its own socket; one that dies is started again on
    the same socket. Ctrl-C or SIGTERM stops them all."""

    def __init__(self, config: Any) -> None:
        self._config = config
        self._spawn = multiprocessing.get_context("spawn")
        self._stop = threading.Event()

    def run(self, count: int) -> None:
        sockets = listening_sockets(self._config.host, self._config.port, count)
        handlers = {
            sig: signal.signal(sig, lambda *_: self._stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        processes = [self._start(sock) for sock in sockets]
        failure = None
        try:
            while failure is None and not self._stop.wait(0.5):
                for number, (process, started) in enumerate(processes):
                    if process.is_alive() or self._stop.is_set():
                        continue
                    if time.monotonic() - started < STARTUP_WINDOW:
                        failure = f"a server process failed as it started (exit {process.exitcode})"
                        break
                    processes[number] = self._start(sockets[number])
        finally:
            for process, _ in processes:
                if process.is_alive():
                    process.terminate()  # SIGTERM: uvicorn finishes what is in flight
            for process, _ in processes:
                process.join(STOP_WAIT)
                if process.is_alive():
                    process.kill()
                    process.join()
            for sock in sockets:
                sock.close()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        if failure is not None:
            raise RuntimeError(failure)

    def _start(self, sock: socket.socket) -> tuple[Any, float]:
        process = self._spawn.Process(target=_serve, args=(self._config, sock))
        process.start()
        return process, time.monotonic()
