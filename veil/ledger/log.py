"""The append side of the ledger: entries committed in groups, each with a signed checkpoint.

`LogWriter.write_batch` commits a group on the calling thread (the ledger's writer process,
veil.ledger.service, does so for `veil serve`). `Ledger` puts a writer thread and a queue
in front of it, so that many threads and event loops can append at once: `append` returns
an entry's index only once the entry, and a checkpoint signing the tree that holds it, are
committed. Whatever is queued while one commit runs goes into the next, so a commit's cost
(a sync to disk) is shared by every entry in it, not paid per entry.

Other processes append to the same tables. Each commit takes the log's write lock first,
reads the stored size, and brings the in-memory tree up to it from the stored leaf hashes;
any failure drops the in-memory tree, rebuilt from the database before the next commit.
"""

from __future__ import annotations

import asyncio
import fcntl
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import Engine

from veil.keys import KeyProvider
from veil.ledger.checkpoint import Checkpoint
from veil.ledger.entry import encode_entry
from veil.ledger.merkle import CompactTree, leaf_hash
from veil.ledger.reader import LedgerReader
from veil.ledger.sql import CommitSession, leaf_hash_chunks, stored_size
from veil.ledger.stream import collector_paused

CHUNK = 1 << 16  # leaf hashes read at a time when the tree is rebuilt


class LedgerUnavailable(RuntimeError):
    """The entry could not be made durable: the caller must refuse what it was recording."""


def _unavailable(error: BaseException) -> LedgerUnavailable:
    failure = LedgerUnavailable(f"the audit ledger could not be written: {error}")
    failure.__cause__ = error
    return failure


def sqlite_file(engine: Engine) -> str | None:
    """The file of a SQLite database, or None (another database, or SQLite in memory)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return str(url.database)


def discard(raw: Any) -> None:
    """Close a DB-API connection taken from an engine (`raw_connection`), if any, without
    handing it back to the pool."""
    if raw is None:
        return
    try:
        raw.invalidate()  # discarded, not pooled
        raw.close()
    except Exception:  # noqa: S110 - a connection that will not close is gone anyway
        pass


def _resolve(waiting: list[_Pending]) -> None:
    """On the loop: hand the writer's results to the requests still awaiting them."""
    for pending in waiting:
        future = pending.future
        if future is None or future.done():
            continue
        if pending.error is not None:
            future.set_exception(_unavailable(pending.error))
        else:
            future.set_result(pending.index)


@dataclass(eq=False)
class _Pending:
    entry: bytes
    leaf: bytes
    subject: bytes | None
    # Who waits: a thread on `done`, or a coroutine on `future` (resolved on its loop).
    future: asyncio.Future[int] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    index: int = -1
    error: BaseException | None = None


def _settle(batch: list[_Pending], first: int, error: BaseException | None) -> None:
    """Tell every waiter of a batch its index (or the error): threads directly, each event
    loop with one call for all of its coroutines rather than one wake-up per entry."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
    for offset, pending in enumerate(batch):
        pending.index, pending.error = (-1, error) if error else (first + offset, None)
        if pending.future is None:
            pending.done.set()
        else:
            by_loop.setdefault(pending.future.get_loop(), []).append(pending)
    for loop, waiting in by_loop.items():
        with suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, waiting)


class LogWriter(LedgerReader):
    """Commits to the ledger of one database on the calling thread: `write_batch` takes
    entries already encoded and returns once they and their checkpoint are committed.

    `Ledger` adds the writer thread and queue that let many threads append at once; the
    ledger's writer process (veil.ledger.service), single-threaded, uses this directly.
    """

    def __init__(
        self, engine: Engine, keys: KeyProvider, origin: str, *, wal_checkpoints: bool = True
    ) -> None:
        super().__init__(engine, keys, origin)
        # False: its commits leave copying SQLite's WAL back into the database file to
        # someone else (the writer process's checkpoint thread, veil.ledger.service).
        self._wal_checkpoints = wal_checkpoints
        self._tree: CompactTree | None = None
        self._session: CommitSession | None = None
        self._raw: Any = None  # the pool's proxy of the session's DB-API connection
        self._lock_file: BinaryIO | None = None

    def write_batch(self, batch: Sequence[tuple[bytes, bytes | None]]) -> int:
        """Commit (entry bytes, subject index) pairs with one checkpoint; the first's index.

        The bytes must be what `encode_entry` makes (the caller checks). Any exception
        means nothing of the batch is stored.
        """
        return self._commit([(data, leaf_hash(data), subject) for data, subject in batch])

    def load(self) -> None:
        """Build the in-memory tree from the stored leaf hashes now (about a second per
        million entries), not at the first commit; a failure leaves it to that commit."""
        try:
            self._tree = self._load_tree()
        except Exception:  # the first commit tries again, and reports the failure
            self._tree = None

    def close(self) -> None:
        self._reset()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _commit(self, batch: list[tuple[bytes, bytes, bytes | None]]) -> int:
        """Write (entry, leaf hash, subject index) rows and a checkpoint in one transaction;
        the first's index. On any failure nothing is stored, and the tree and connection
        are dropped, to be rebuilt from the database by the next commit."""
        try:
            return self._commit_rows(batch)
        except BaseException:  # even an interrupt: the tree may hold leaves not stored
            self._reset()
            raise

    def _commit_rows(self, batch: list[tuple[bytes, bytes, bytes | None]]) -> int:
        if self._tree is None:
            self._tree = self._load_tree()  # outside the lock: other writers carry on
        tree = self._tree
        session = self._commit_session()
        with self._writers_turn():
            session.begin()
            try:
                size = session.size()
                if size < tree.size:
                    raise RuntimeError(f"the stored log has {size} entries, fewer than {tree.size}")
                # Another process appended since: its entries are committed, so are ours
                # to add.
                if size > tree.size:
                    for hashes in session.leaf_hashes(tree.size, size, CHUNK):
                        tree.extend(hashes)
                # Grown in place: if the commit fails, `_commit` drops the tree.
                tree.extend([leaf for _, leaf, _ in batch])
                root = tree.root()
                note = self._signer.sign_checkpoint(Checkpoint(self.origin, tree.size, root))
                session.append(size, batch, root, note)
                session.commit()
            except BaseException:
                with suppress(Exception):  # a broken connection: `_commit` discards it
                    session.rollback()
                raise
        return size

    @contextmanager
    def _writers_turn(self) -> Iterator[None]:
        """Wait for the other processes' ledger writers, if the database is a SQLite file.

        SQLite's own busy handler polls with sleeps of up to 100 ms, so two writers (the
        server's writer process and a `veil` command, say) waiting on each other's commits
        would add that to every request; a blocking file lock hands over the moment the
        holder is done. PostgreSQL's table lock already
        does; there this is a no-op. The lock is released if the process dies.
        """
        path = sqlite_file(self._engine)
        if path is None:
            yield
            return
        if self._lock_file is None:
            self._lock_file = open(f"{path}.ledger-lock", "a+b")  # noqa: SIM115 - kept open
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _load_tree(self) -> CompactTree:
        tree = CompactTree()
        with self._engine.connect() as conn, collector_paused():
            for hashes in leaf_hash_chunks(conn, 0, stored_size(conn), CHUNK):
                tree.extend(hashes)
        return tree

    def _commit_session(self) -> CommitSession:
        if self._session is None:
            # A DB-API connection of the writer's own, out of the engine's pool (with the
            # engine's connect settings), never handed back: it carries synchronous=FULL.
            self._raw = self._engine.raw_connection()
            self._session = CommitSession(
                self._raw.driver_connection,
                self._engine.dialect.name,
                wal_checkpoints=self._wal_checkpoints,
            )
        return self._session

    def _reset(self) -> None:
        """Forget the in-memory tree and the connection: both come back from the database."""
        self._tree = None
        self._session = None
        raw, self._raw = self._raw, None
        discard(raw)


class Ledger(LogWriter):
    """The audit ledger of one database: append from any thread; `close` when done."""

    def __init__(
        self, engine: Engine, keys: KeyProvider, origin: str, *, max_batch: int = 4096
    ) -> None:
        super().__init__(engine, keys, origin)
        self._max_batch = max_batch
        self._queue: deque[_Pending] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._idle = False  # the writer waits for a first entry (appends must wake it)
        self._writer = threading.Thread(target=self._run, name="veil-ledger-writer", daemon=True)
        self._writer.start()

    def append(self, entry: Mapping[str, Any], subject_index: bytes | None = None) -> int:
        """Write `entry` (and the subject's blind index, if it names one); its log index.

        Blocks until the entry is committed. LedgerUnavailable if it could not be written:
        then nothing of it is stored. TypeError or ValueError for an entry that is not JSON.
        """
        pending = self._queue_entry(entry, subject_index, None)
        pending.done.wait()
        if pending.error is not None:
            raise _unavailable(pending.error)
        return pending.index

    async def append_async(
        self, entry: Mapping[str, Any], subject_index: bytes | None = None
    ) -> int:
        """`append` for an event loop: waits for the commit without holding a thread."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue_entry(entry, subject_index, future)
        return await future

    def _queue_entry(
        self,
        entry: Mapping[str, Any],
        subject_index: bytes | None,
        future: asyncio.Future[int] | None,
    ) -> _Pending:
        data = encode_entry(entry, subject_index)
        pending = _Pending(data, leaf_hash(data), subject_index, future)
        with self._wake:
            if self._closed:
                raise LedgerUnavailable("the audit ledger is closed")
            self._queue.append(pending)
            if self._idle:
                self._wake.notify()
        return pending

    def close(self) -> None:
        """Commit what is queued, then stop the writer. Later appends raise LedgerUnavailable."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        self._writer.join()
        super().close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        self.load()  # before the first append needs it
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._idle = True
                    self._wake.wait()
                self._idle = False
                if not self._queue:
                    break
            with self._wake:
                take = min(len(self._queue), self._max_batch)
                batch = [self._queue.popleft() for _ in range(take)]
            try:
                first = self._commit([(p.entry, p.leaf, p.subject) for p in batch])
            except Exception as exc:  # every waiter hears of it; the caller fails closed
                _settle(batch, -1, exc)
            else:
                _settle(batch, first, None)
        self._reset()
