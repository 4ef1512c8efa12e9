"""The ledger's writer process (veil.ledger.service), as `veil serve` runs it: SPEC section 6.

The server processes append through it. Every entry still gets its index only once it and
its checkpoint are committed; anything else (no writer, the writer's database failing, the
writer killed, bytes that are not an entry) fails closed and stores nothing. On SQLite and
on a real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from veil.keys import LocalKeyFile
from veil.ledger.checkpoint import LEDGER_ORIGIN
from veil.ledger.entry import encode_entry
from veil.ledger.log import LedgerUnavailable
from veil.ledger.remote import RemoteLedger
from veil.ledger.service import CHECKPOINT_EVERY, WriterProcess
from veil.ledger.sql import CommitSession
from veil.ledger.verify import verify_log
from veil.ledger.wire import Answers, Requests, WireError, answer, request

SUBJECT = bytes(range(32))
T = TypeVar("T")


# --- the wire format -----------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.binary(min_size=1, max_size=300), st.booleans()), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=64), max_size=20),
)
def test_requests_arrive_whole_however_the_bytes_are_cut(
    entries: list[tuple[bytes, bool]], cuts: list[int]
) -> None:
    sent = [(entry, SUBJECT if named else None) for entry, named in entries]
    data = b"".join(request(entry, subject) for entry, subject in sent)
    parser, got, at = Requests(), [], 0
    for cut in cuts:
        got += parser.feed(data[at : at + cut])
        at += cut
    got += parser.feed(data[at:])
    assert got == sent


@given(
    st.lists(
        st.one_of(st.integers(min_value=0, max_value=2**62), st.text(max_size=50)), max_size=8
    ),
    st.integers(min_value=1, max_value=16),
)
def test_answers_arrive_whole_however_the_bytes_are_cut(
    answers: list[int | str], step: int
) -> None:
    data = b"".join(answer(a) if isinstance(a, int) else answer(None, a) for a in answers)
    parser, got = Answers(), []
    for at in range(0, len(data), step):
        got += parser.feed(data[at : at + step])
    assert got == answers


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x00",  # an empty request
        b"\xff\xff\xff\xff",  # a request of 4 GiB
        b"\x00\x00\x00\x02\x07{",  # an unknown flag
        b"\x00\x00\x00\x05\x01abcd",  # a subject index cut short, no entry
    ],
)
def test_bytes_that_are_no_request_are_refused(data: bytes) -> None:
    with pytest.raises(WireError):
        Requests().feed(data)


# --- the writer process --------------------------------------------------------------------


@pytest.fixture
def writer(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WriterProcess]:
    """The writer process for `db`, its installation's key file in tmp_path."""
    LocalKeyFile.create(tmp_path / "keys" / "master.json")
    monkeypatch.setenv("VEIL_HOME", str(tmp_path))
    monkeypatch.setenv("VEIL_DATABASE_URL", db.url.render_as_string(hide_password=False))
    with WriterProcess() as process:
        yield process


@pytest.fixture
def ledger(db: Engine, tmp_path: Path, writer: WriterProcess) -> Iterator[RemoteLedger]:
    keys = LocalKeyFile(tmp_path / "keys" / "master.json")
    remote = RemoteLedger(db, keys, LEDGER_ORIGIN, writer.socket)
    yield remote
    remote.close()


def run(ledger: RemoteLedger, ask: Coroutine[Any, Any, T]) -> T:
    """`ask` on a new event loop, whose connection to the writer is closed before the loop."""

    async def main() -> T:
        try:
            return await ask
        finally:
            await ledger.disconnect()

    return asyncio.run(main())


def stored(db: Engine) -> list[bytes]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT entry FROM audit_entries ORDER BY idx"))
        return [bytes(row[0]) for row in rows]


def verifies(db: Engine, ledger: RemoteLedger) -> bool:
    with db.connect() as conn:
        return verify_log(conn, ledger.verifier).ok


def test_appends_from_threads_and_event_loops_get_consecutive_indexes(
    db: Engine, ledger: RemoteLedger
) -> None:
    indexes: list[int] = []
    lock = threading.Lock()

    def thread(n: int) -> None:
        for k in range(20):
            index = ledger.append({"kind": "test", "thread": n, "k": k})
            with lock:
                indexes.append(index)

    async def loop() -> list[int]:
        asks = [ledger.append_async({"kind": "test", "k": k}, SUBJECT) for k in range(200)]
        return list(await asyncio.gather(*asks))

    threads = [threading.Thread(target=thread, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    indexes += run(ledger, loop())
    for t in threads:
        t.join()
    assert sorted(indexes) == list(range(280))
    assert verifies(db, ledger)
    # The entries stored are the bytes the server process encoded, subject and all.
    assert sum(b'"subject":"' + SUBJECT.hex().encode() in e for e in stored(db)) == 200


def test_many_entries_share_a_commit(db: Engine, ledger: RemoteLedger) -> None:
    async def burst() -> list[int]:
        return list(await asyncio.gather(*(ledger.append_async({"n": n}) for n in range(500))))

    assert sorted(run(ledger, burst())) == list(range(500))
    with db.connect() as conn:
        commits = conn.execute(text("SELECT count(*) FROM audit_checkpoints")).scalar_one()
    assert commits < 250  # group commit: what arrives during one commit joins the next


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_writer_checkpoints_the_wal_apart_from_its_commits(
    db: Engine, ledger: RemoteLedger
) -> None:
    """SQLite: the writer's commits leave copying the WAL back into the database file to its
    checkpoint thread (a commit that did it took 15-30 ms, and its requests waited). In WAL
    mode only a checkpoint writes the database file, and SQLite's own would not run before
    the WAL holds 1,000 pages: far more than these commits write."""
    path = Path(str(db.url.database))
    before = path.stat().st_size
    for n in range(2 * CHECKPOINT_EVERY):
        ledger.append({"n": n})  # one at a time: a commit each
    deadline = time.monotonic() + 10
    while path.stat().st_size == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > before
    assert len(stored(db)) == 2 * CHECKPOINT_EVERY
    assert verifies(db, ledger)


def test_a_commit_session_can_leave_wal_checkpoints_to_another(tmp_path: Path) -> None:
    def autocheckpoint(**options: bool) -> int:
        raw = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
        try:
            CommitSession(raw, "sqlite", **options)
            return int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        finally:
            raw.close()

    assert autocheckpoint() == 1000  # SQLite's default: checkpoint in the commit that fills it
    assert autocheckpoint(wal_checkpoints=False) == 0


def test_no_writer_fails_closed(db: Engine, tmp_path: Path) -> None:
    LocalKeyFile.create(tmp_path / "master.json")
    keys = LocalKeyFile(tmp_path / "master.json")
    absent = RemoteLedger(db, keys, LEDGER_ORIGIN, str(tmp_path / "no-writer"))
    with pytest.raises(LedgerUnavailable):
        absent.append({"kind": "test"})
    with pytest.raises(LedgerUnavailable):
        run(absent, absent.append_async({"kind": "test"}))
    assert stored(db) == []


def test_a_failing_database_fails_closed_and_stores_nothing(
    db: Engine, ledger: RemoteLedger
) -> None:
    ledger.append({"kind": "test", "n": 0})
    with db.begin() as conn:
        conn.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_away"))
    try:
        with pytest.raises(LedgerUnavailable):
            ledger.append({"kind": "test", "n": 1})
        with pytest.raises(LedgerUnavailable):
            run(ledger, ledger.append_async({"kind": "test", "n": 2}))
    finally:
        with db.begin() as conn:
            conn.execute(text("ALTER TABLE audit_entries_away RENAME TO audit_entries"))
    assert len(stored(db)) == 1
    assert ledger.append({"kind": "test", "n": 3}) == 1  # the writer recovers by itself
    assert verifies(db, ledger)


def test_a_killed_writer_fails_closed_and_is_started_again(
    db: Engine, ledger: RemoteLedger, writer: WriterProcess
) -> None:
    assert ledger.append({"kind": "test", "n": 0}) == 0
    first = writer.pid
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 30
    refused = 0
    while True:  # refused while it is down, then served by the one started in its place
        try:
            index = ledger.append({"kind": "test", "n": 1})
            break
        except LedgerUnavailable:
            refused += 1
            assert time.monotonic() < deadline, "the writer was not started again"
            time.sleep(0.05)
    assert refused >= 1
    assert writer.pid != first
    assert index == 1
    assert len(stored(db)) == 2
    assert verifies(db, ledger)


@pytest.mark.parametrize(
    ("entry", "subject"),
    [
        (b'{"b":1,"a":2,"time":"2026-11-25T00:00:00.000000Z"}', None),  # keys out of order
        (b"[1,2]", None),  # not an object
        (b"not json", None),
        (encode_entry({"kind": "test"}), SUBJECT),  # a subject the entry does not name
    ],
)
def test_an_entry_not_in_canonical_form_is_refused_and_not_stored(
    db: Engine, writer: WriterProcess, entry: bytes, subject: bytes | None
) -> None:
    with socket.socket(socket.AF_UNIX) as link:
        link.connect(writer.socket)
        link.sendall(request(entry, subject))
        got = Answers().feed(link.recv(4096))
    assert len(got) == 1 and isinstance(got[0], str)
    assert stored(db) == []


def test_bytes_that_are_no_request_close_the_connection_and_store_nothing(
    db: Engine, writer: WriterProcess, ledger: RemoteLedger
) -> None:
    with socket.socket(socket.AF_UNIX) as link:
        link.connect(writer.socket)
        link.sendall(b"\xff\xff\xff\xffGET / HTTP/1.1\r\n\r\n")
        assert link.recv(4096) == b""
    assert stored(db) == []
    assert ledger.append({"kind": "test"}) == 0  # others are served as before
