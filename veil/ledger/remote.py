"""The ledger as a server process of `veil serve` appends to it: through the writer process.

`RemoteLedger` is what `Home.ledger` gives when VEIL_LEDGER_SOCKET names the writer's
socket (veil.ledger.service). It appends like `Ledger`: `append` blocks its thread,
`append_async` awaits without holding one, and either returns the entry's index only once
the writer has committed it with its checkpoint. Anything else (no writer, a connection
lost, the writer's commit failing) raises LedgerUnavailable, and the caller fails closed:
an entry whose answer never came may still be in the log, but no answer left without one.
Reads (checkpoints, proofs, a subject's entries) go to the database, as `LedgerReader`'s.

Each event loop keeps one connection, and the requests made in one turn of the loop leave
in one write; each thread appending synchronously keeps its own blocking socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import weakref
from collections import deque
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Engine

from veil.keys import KeyProvider
from veil.ledger.entry import encode_entry
from veil.ledger.log import LedgerUnavailable
from veil.ledger.reader import LedgerReader
from veil.ledger.wire import Answers, WireError, request

RECEIVE = 1 << 16


def _refused(reason: object) -> LedgerUnavailable:
    return LedgerUnavailable(f"the audit ledger could not be written: {reason}")


class _Link(asyncio.Protocol):
    """One event loop's connection to the writer: requests out in order, answers back."""

    def __init__(self) -> None:
        self._answers = Answers()
        self._waiting: deque[asyncio.Future[int]] = deque()
        self._out: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._gone: asyncio.Future[None] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport subclasses, only alike).
        self._transport = cast(asyncio.Transport, transport)
        self._gone = asyncio.get_running_loop().create_future()

    def send(self, frame: bytes) -> asyncio.Future[int]:
        if self.lost or self._transport is None:
            raise _refused("the connection to the ledger's writer was lost")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._waiting.append(future)
        if not self._out:
            loop.call_soon(self._flush)  # after the other requests of this turn of the loop
        self._out.append(frame)
        return future

    def _flush(self) -> None:
        out, self._out = self._out, []
        if self._transport is not None and not self.lost:
            self._transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        try:
            answers = self._answers.feed(data)
        except WireError as exc:
            self._fail(exc)
            return
        for answer in answers:
            if not self._waiting:
                self._fail("an answer to no request")
                return
            future = self._waiting.popleft()
            if future.done():  # its request was cancelled; the entry stands in the log
                continue
            if isinstance(answer, int):
                future.set_result(answer)
            else:
                future.set_exception(_refused(answer))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or "the ledger's writer closed the connection")
        if self._gone is not None and not self._gone.done():
            self._gone.set_result(None)

    async def closed(self) -> None:
        """Close the connection and wait until its socket is closed."""
        self.close()
        if self._gone is not None:
            await self._gone

    def _fail(self, reason: object) -> None:
        self.lost = True
        if self._transport is not None:
            self._transport.close()
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(_refused(reason))

    def close(self) -> None:
        self._fail("the audit ledger is closed")


class RemoteLedger(LedgerReader):
    """The audit ledger appended through the writer process listening on `socket_path`."""

    def __init__(self, engine: Engine, keys: KeyProvider, origin: str, socket_path: str) -> None:
        super().__init__(engine, keys, origin)
        self._path = socket_path
        self._closed = False
        self._links: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Link] = (
            weakref.WeakKeyDictionary()
        )
        self._connecting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._local = threading.local()
        self._sockets: list[socket.socket] = []
        self._sockets_lock = threading.Lock()

    def append(self, entry: Mapping[str, Any], subject_index: bytes | None = None) -> int:
        """Write `entry` (naming the subject's blind index, if given); its log index.

        Blocks until the writer has committed it. LedgerUnavailable if it could not be
        written. TypeError or ValueError for an entry that is not JSON.
        """
        frame = request(encode_entry(entry, subject_index), subject_index)
        try:
            link: socket.socket = self._socket()
            link.sendall(frame)
            answers: list[int | str] = []
            parser = Answers()
            while not answers:
                data = link.recv(RECEIVE)
                if not data:
                    raise _refused("the ledger's writer closed the connection")
                answers = parser.feed(data)
        except (OSError, WireError) as exc:
            self._drop_socket()
            raise _refused(exc) from exc
        except LedgerUnavailable:
            self._drop_socket()
            raise
        if isinstance(answers[0], str):
            raise _refused(answers[0])
        return answers[0]

    async def append_async(
        self, entry: Mapping[str, Any], subject_index: bytes | None = None
    ) -> int:
        """`append` for an event loop: waits for the commit without holding a thread."""
        frame = request(encode_entry(entry, subject_index), subject_index)
        link = await self._link()
        return await link.send(frame)

    async def _link(self) -> _Link:
        if self._closed:
            raise _refused("the audit ledger is closed")
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is not None and not link.lost:
            return link
        lock = self._connecting.setdefault(loop, asyncio.Lock())
        async with lock:  # one connection per loop, however many requests ask at once
            link = self._links.get(loop)
            if link is None or link.lost:
                try:
                    _, link = await loop.create_unix_connection(_Link, self._path)
                except OSError as exc:
                    raise _refused(exc) from exc
                self._links[loop] = link
        return link

    async def disconnect(self) -> None:
        """Close the running loop's connection, for a loop about to close (the next append
        on it connects again)."""
        link = self._links.pop(asyncio.get_running_loop(), None)
        if link is not None:
            await link.closed()

    def _socket(self) -> socket.socket:
        if self._closed:
            raise _refused("the audit ledger is closed")
        link: socket.socket | None = getattr(self._local, "socket", None)
        if link is None:
            link = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                link.connect(self._path)
            except OSError:
                link.close()
                raise
            self._local.socket = link
            with self._sockets_lock:
                self._sockets.append(link)
        return link

    def _drop_socket(self) -> None:
        link: socket.socket | None = getattr(self._local, "socket", None)
        self._local.socket = None
        if link is not None:
            link.close()
            with self._sockets_lock:
                if link in self._sockets:  # unless `close` has taken them all
                    self._sockets.remove(link)

    def close(self) -> None:
        """Close the connections; later appends raise LedgerUnavailable."""
        self._closed = True
        for loop, link in list(self._links.items()):
            # On the link's own loop: a transport is not closed from another thread. A
            # closed loop has closed its transports already.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(link.close)
        with self._sockets_lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()
