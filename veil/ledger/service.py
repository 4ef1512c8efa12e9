"""The ledger writer process: the one writer that `veil serve`'s server processes append through.

`veil serve` starts it (`WriterProcess`) before its server processes and stops it after
them; it is not run by hand. `python -m veil.ledger.service SOCKET` listens on a Unix socket
in a directory only its owner can enter, commits the entries it is sent in groups through a
`LogWriter` (a signed checkpoint per commit, the same tables, lock and commit as every
other writer) and answers each with its index once committed (`veil.ledger.wire`). The
server processes use `veil.ledger.remote.RemoteLedger`, which finds the socket in
VEIL_LEDGER_SOCKET.

Why a process of its own: inside a server process, the ledger's writer thread took the
interpreter lock from the request loop at every step of every commit, and the server
processes' writers queued for the database's one write lock in turn; together that cost
about half the disclosures a second (docs/performance.md). Here the commits run beside the
servers, and the entries of every server process share them. The process has one thread:
it reads what has come, commits it as one group, answers, and reads again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Engine

from veil.config import LEDGER_SOCKET_ENV
from veil.ledger.checkpoint import LEDGER_ORIGIN
from veil.ledger.entry import encode_entry
from veil.ledger.log import LogWriter, discard, sqlite_file
from veil.ledger.wire import Requests, WireError, answer

READY = "ready"
RESTART_PAUSE = 1.0  # seconds between attempts to start a writer that keeps failing
MAX_BATCH = 4096  # entries a commit carries at most
STOP_WAIT = 30.0  # seconds a stopped writer has to commit what it holds
CHECKPOINT_EVERY = 32  # commits between two WAL checkpoints (each commit writes ~12 pages)


def entry_problem(entry: bytes, subject: bytes | None) -> str | None:
    """Why `entry` is not what `encode_entry` makes of its own fields and `subject`, if so.

    The server processes encode their entries; the writer holds them to the same rule the
    in-process ledger applies, so that nothing reaches the log that `verify` would reject.
    """
    try:
        fields = json.loads(entry)
        if not isinstance(fields, dict):
            return "an audit entry is a JSON object"
        if encode_entry(fields, subject) != entry:
            return "the entry is not in canonical form, or names another subject"
    except (ValueError, TypeError) as exc:
        return f"not an audit entry: {exc}"
    return None


class _Connection(asyncio.Protocol):
    """One server process's connection: its requests answered in the order they came."""

    def __init__(self, group: _GroupCommit, open_: set[_Connection]) -> None:
        self._group = group
        self._open = open_  # the server's connections, this one among them while it lasts
        self._requests = Requests()
        self._slots: deque[list[bytes]] = deque()  # an answer's bytes, once it has one
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport subclasses, only alike).
        self._transport = cast(asyncio.Transport, transport)
        self._open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open.discard(self)  # its entries still commit; nobody is left to answer

    def data_received(self, data: bytes) -> None:
        try:
            requests = self._requests.feed(data)
        except WireError:
            if self._transport is not None:
                self._transport.close()  # not one of our server processes: nothing is kept
            return
        for entry, subject in requests:
            slot: list[bytes] = []
            self._slots.append(slot)
            problem = entry_problem(entry, subject)
            if problem is None:
                self._group.add(entry, subject, slot, self)
            else:
                slot.append(answer(None, problem))
        self.send_answers()

    def send_answers(self) -> None:
        """Send the answers now due: those of the oldest requests that have one."""
        ready = []
        while self._slots and self._slots[0]:
            ready.append(self._slots.popleft()[0])
        transport = self._transport
        if ready and transport is not None and not transport.is_closing():
            transport.write(b"".join(ready))

    @property
    def idle(self) -> bool:
        return not self._slots


class _WalCheckpoints:
    """Copies a SQLite database's WAL back into its file on a thread of its own, when asked.

    The writer's commits turn SQLite's automatic checkpoint off (`LogWriter`'s
    `wal_checkpoints`): run inside the commit that fills the WAL, it made that commit take
    15-30 ms instead of about 1 ms, and every request waiting for an entry of the group
    waited as long (the writer's 99th percentile commit, one server process, 16
    connections: docs/performance.md, 2026-12-04). A PASSIVE checkpoint takes no lock a
    writer needs, so commits carry on while it copies what no reader still needs; sqlite3
    lets go of the interpreter lock while it works. Its connection comes from the engine,
    with the engine's settings: in WAL mode synchronous=NORMAL syncs the WAL before a
    checkpoint and the database file after it, so the copy is on disk before the WAL is
    reused. A failure (reported on stderr) drops the connection; the next request opens
    another, and the WAL meanwhile only grows.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name="veil-ledger-checkpoint", daemon=True
        )
        self._thread.start()

    def request(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        raw: Any = None
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    raw = raw or self._engine.raw_connection()
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except Exception as exc:  # reported; the next request tries again
                    print(f"veil: the audit ledger's WAL checkpoint failed: {exc}", file=sys.stderr)
                    discard(raw)
                    raw = None
        finally:
            discard(raw)


class _GroupCommit:
    """Everything received in one turn of the loop, committed in one transaction.

    The commit runs on the loop itself and blocks it: what the server processes send
    meanwhile waits in the sockets and makes the next group. One thread, so no handing
    the interpreter lock back and forth between a reading thread and a writing one.
    """

    def __init__(self, writer: LogWriter, checkpoints: _WalCheckpoints | None) -> None:
        self._writer = writer
        self._checkpoints = checkpoints
        self._commits = 0
        self._batch: list[tuple[bytes, bytes | None, list[bytes], _Connection]] = []

    def add(
        self, entry: bytes, subject: bytes | None, slot: list[bytes], connection: _Connection
    ) -> None:
        if not self._batch:
            asyncio.get_running_loop().call_soon(self._commit)
        self._batch.append((entry, subject, slot, connection))

    def _commit(self) -> None:
        batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
        if self._batch:
            asyncio.get_running_loop().call_soon(self._commit)
        try:
            first = self._writer.write_batch([(entry, subject) for entry, subject, _, _ in batch])
        except Exception as exc:  # every request of the group fails; the servers fail closed
            failed = answer(None, str(exc))
            for _, _, slot, _ in batch:
                slot.append(failed)
        else:
            for offset, (_, _, slot, _) in enumerate(batch):
                slot.append(answer(first + offset))
            self._commits += 1
            if self._checkpoints is not None and self._commits % CHECKPOINT_EVERY == 0:
                self._checkpoints.request()
        for connection in {connection for _, _, _, connection in batch}:
            connection.send_answers()


async def _serve(writer: LogWriter, path: str, checkpoints: _WalCheckpoints | None) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    group = _GroupCommit(writer, checkpoints)
    connections: set[_Connection] = set()
    server = await loop.create_unix_server(lambda: _Connection(group, connections), path)
    print(READY, flush=True)
    parent = os.getppid()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if os.getppid() != parent:
            break  # `veil serve` is gone without stopping us: so is every server process
    server.close()
    # Answer what was sent before the stop (the server processes have stopped by now).
    deadline = loop.time() + STOP_WAIT
    while not all(c.idle for c in connections) and loop.time() < deadline:
        await asyncio.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    """`python -m veil.ledger.service SOCKET`: serve the installation in the environment."""
    from veil.config import Settings
    from veil.keys import LocalKeyFile
    from veil.store.database import open_engine

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m veil.ledger.service SOCKET", file=sys.stderr)
        return 2
    # Ctrl-C reaches `veil serve`'s whole process group: the servers stop first, then
    # `veil serve` stops this process (SIGTERM), so that their last entries are answered.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = Settings.from_env()
    engine = open_engine(settings.database_url)
    database = sqlite_file(engine)
    checkpoints = None if database is None else _WalCheckpoints(engine)
    writer = LogWriter(
        engine, LocalKeyFile(settings.key_file), LEDGER_ORIGIN, wal_checkpoints=database is None
    )
    writer.load()  # before the servers start: their first requests would wait for it
    try:
        asyncio.run(_serve(writer, args[0], checkpoints))
    finally:
        writer.close()
        if checkpoints is not None:
            checkpoints.stop()
    return 0


class WriterProcess:
    """The writer process for the installation `env` names, started again if it dies.

    `socket` is the path the server processes connect to (pass it in VEIL_LEDGER_SOCKET).
    While the writer is down, appends fail and disclosures are refused (fail closed); the
    watcher starts a new one at once. RuntimeError if the first one does not start.
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        base = dict(os.environ if env is None else env)
        base.pop(LEDGER_SOCKET_ENV, None)  # the writer commits itself, in-process
        self._env = base
        self._folder = tempfile.mkdtemp(prefix="veil-ledger-")  # mode 0700: ours alone
        self.socket = os.path.join(self._folder, "socket")
        self._stopping = threading.Event()
        try:
            self._process = self._start()
        except BaseException:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        self._watcher = threading.Thread(target=self._watch, name="veil-ledger-watch", daemon=True)
        self._watcher.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def _start(self) -> subprocess.Popen[str]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket)  # left by a writer that died
        process = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed module
            [sys.executable, "-m", "veil.ledger.service", self.socket],
            env=self._env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None  # noqa: S101 - opened with PIPE
        if process.stdout.readline().strip() != READY:
            process.kill()
            process.wait()
            raise RuntimeError("the audit ledger's writer process did not start")
        return process

    def _watch(self) -> None:
        while True:
            dead = self._process
            dead.wait()
            if self._stopping.is_set():
                return
            _end(dead)
            print(
                "veil: the audit ledger's writer process stopped; starting it again",
                file=sys.stderr,
            )
            while not self._stopping.is_set():
                try:
                    self._process = self._start()
                    break
                except (OSError, RuntimeError):
                    time.sleep(RESTART_PAUSE)

    def stop(self) -> None:
        """Stop the writer once it has answered what it was sent; remove its socket."""
        self._stopping.set()
        _end(self._process)
        self._watcher.join(timeout=STOP_WAIT)
        _end(self._process)  # one the watcher may have started meanwhile
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> WriterProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _end(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT + 5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
