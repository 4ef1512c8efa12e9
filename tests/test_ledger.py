"""The audit ledger in a real database: group commit, failing closed, tamper detection (SPEC 6).

The ledger writes from its own thread and connections, so these tests cannot run inside
the rolled-back `conn` fixture: each gets a database of its own (a fresh SQLite file, or
the ledger's PostgreSQL database emptied), on both backends.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from veil.keys import KeyProvider
from veil.ledger.checkpoint import Signer
from veil.ledger.entry import encode_entry, subject_index
from veil.ledger.log import Ledger, LedgerUnavailable
from veil.ledger.merkle import EMPTY_ROOT, leaf_hash, root_of
from veil.ledger.sql import CommitSession
from veil.ledger.verify import VerifyReport, verify_log

ORIGIN = "veil.test/audit"


def report(engine: Engine, keys: KeyProvider, **options: Any) -> VerifyReport:
    verifier = Signer(ORIGIN, keys.audit_signing_key()).verifier
    with engine.connect() as conn:
        return verify_log(conn, verifier, **options)


def fill(engine: Engine, keys: KeyProvider, count: int) -> list[int]:
    with Ledger(engine, keys, ORIGIN) as ledger:
        return [ledger.append({"kind": "test", "n": n}) for n in range(count)]


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        entries = conn.exec_driver_sql("SELECT count(*) FROM audit_entries").scalar_one()
        checkpoints = conn.exec_driver_sql("SELECT count(*) FROM audit_checkpoints").scalar_one()
    return entries, checkpoints


def run(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


# --- entries -------------------------------------------------------------------------------


def test_entries_are_canonical_json_with_a_utc_time_and_the_subject_by_index() -> None:
    subject = bytes(range(32))
    data = encode_entry({"purpose": "自查", "kind": "disclosure", "n": [1, 2]}, subject)
    entry = json.loads(data)
    assert data.decode() == (
        '{"kind":"disclosure","n":[1,2],"purpose":"自查",'
        f'"subject":"{subject.hex()}","time":"{entry["time"]}"}}'
    )
    assert entry["time"].endswith("Z") and "T" in entry["time"]
    kept = encode_entry({"time": "2026-11-24T08:00:00Z"})
    assert kept == b'{"time":"2026-11-24T08:00:00Z"}'
    with pytest.raises(ValueError, match="different subject"):
        encode_entry({"subject": "00" * 32}, subject)
    with pytest.raises(ValueError, match="only with its subject index"):
        encode_entry({"subject": subject.hex()})
    with pytest.raises(TypeError):
        encode_entry({"when": object()})


def test_subject_index_is_hmac_sha256_under_the_audit_subject_key(keys: KeyProvider) -> None:
    import hashlib
    import hmac

    expected = hmac.new(keys.audit_subject_key(), b"11010519491231002X", hashlib.sha256).digest()
    assert subject_index(keys, "11010519491231002X") == expected
    assert (
        subject_index(keys, "11010519491231002X")
        != hmac.new(keys.blind_index_key(), b"11010519491231002X", hashlib.sha256).digest()
    )


# --- appending -----------------------------------------------------------------------------


def test_appends_from_many_threads_get_consecutive_indexes_and_a_log_that_verifies(
    db: Engine, keys: KeyProvider
) -> None:
    got: dict[int, list[int]] = {}
    with Ledger(db, keys, ORIGIN) as ledger:

        def work(worker: int) -> None:
            got[worker] = [ledger.append({"worker": worker, "n": n}) for n in range(25)]

        threads = [threading.Thread(target=work, args=(w,)) for w in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    every = sorted(i for indexes in got.values() for i in indexes)
    assert every == list(range(400))
    assert all(indexes == sorted(indexes) for indexes in got.values())
    result = report(db, keys)
    assert (result.ok, result.size, result.problems) == (True, 400, [])


def test_entries_queued_while_a_commit_waits_share_the_next_commit(
    db: Engine, keys: KeyProvider
) -> None:
    fill(db, keys, 1)
    ledger = Ledger(db, keys, ORIGIN)
    queued = threading.Barrier(11)
    indexes: list[int] = []

    def work(n: int) -> None:
        queued.wait()
        indexes.append(ledger.append({"n": n}))

    raw = db.raw_connection()
    try:
        other = CommitSession(raw.driver_connection, db.dialect.name)
        other.begin()  # another process mid-commit: the writer must wait for it
        threads = [threading.Thread(target=work, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        queued.wait()
        time.sleep(0.3)  # let all ten reach the queue
        other.rollback()
    finally:
        raw.invalidate()
    for thread in threads:
        thread.join()
    ledger.close()
    assert sorted(indexes) == list(range(1, 11))
    entries, checkpoints = counts(db)
    # One commit for whatever the writer had taken when it met the lock, one for the rest.
    assert entries == 11 and checkpoints <= 1 + 2
    assert report(db, keys).ok


def test_two_ledgers_on_one_database_interleave_consistently(db: Engine, keys: KeyProvider) -> None:
    first, second = Ledger(db, keys, ORIGIN), Ledger(db, keys, ORIGIN)
    assert [first.append({"n": 0}), second.append({"n": 1}), first.append({"n": 2})] == [0, 1, 2]
    got: list[int] = []

    def work(worker: int) -> None:
        for n in range(20):
            ledger = first if (worker + n) % 2 else second
            got.append(ledger.append({"worker": worker, "n": n}))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.close()
    second.close()
    assert sorted(got) == list(range(3, 123))
    result = report(db, keys)
    assert (result.ok, result.size) == (True, 123), result.problems


# --- failing closed ------------------------------------------------------------------------


def _refuse_checkpoints(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        run(
            engine,
            "CREATE OR REPLACE FUNCTION veil_refuse() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
        )
        run(
            engine,
            "CREATE TRIGGER refuse BEFORE INSERT ON audit_checkpoints"
            " FOR EACH ROW EXECUTE FUNCTION veil_refuse()",
        )
    else:
        run(
            engine,
            "CREATE TRIGGER refuse BEFORE INSERT ON audit_checkpoints"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )


def _allow_checkpoints(engine: Engine) -> None:
    on = " ON audit_checkpoints" if engine.dialect.name == "postgresql" else ""
    run(engine, f"DROP TRIGGER refuse{on}")


def test_a_failed_commit_raises_and_leaves_no_entry_without_its_checkpoint(
    db: Engine, keys: KeyProvider
) -> None:
    with Ledger(db, keys, ORIGIN) as ledger:
        assert ledger.append({"n": 0}) == 0
        _refuse_checkpoints(db)
        try:
            with pytest.raises(LedgerUnavailable):
                ledger.append({"n": 1})
            assert counts(db) == (1, 1)  # the entry was inserted first, and rolled back
        finally:
            _allow_checkpoints(db)
        assert ledger.append({"n": 2}) == 1  # the tree was rebuilt: no gap, no stale root
    result = report(db, keys)
    assert (result.ok, result.size) == (True, 2), result.problems


def test_append_fails_closed_when_the_entries_table_is_gone(db: Engine, keys: KeyProvider) -> None:
    with Ledger(db, keys, ORIGIN) as ledger:
        ledger.append({"n": 0})
        run(db, "ALTER TABLE audit_entries RENAME TO audit_entries_away")
        try:
            with pytest.raises(LedgerUnavailable):
                ledger.append({"n": 1})
        finally:
            run(db, "ALTER TABLE audit_entries_away RENAME TO audit_entries")
        assert ledger.append({"n": 2}) == 1
    assert counts(db) == (2, 2)


def test_append_fails_closed_on_a_read_only_database(db: Engine, keys: KeyProvider) -> None:
    fill(db, keys, 3)
    read_only = create_engine(db.url)
    statement = (
        "SET default_transaction_read_only = on"
        if db.dialect.name == "postgresql"
        else "PRAGMA query_only = ON"
    )

    @event.listens_for(read_only, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if db.dialect.name == "postgresql":
            dbapi_connection.commit()

    with Ledger(read_only, keys, ORIGIN) as ledger, pytest.raises(LedgerUnavailable):
        ledger.append({"n": 3})
    read_only.dispose()
    assert counts(db) == (3, 3)
    assert report(db, keys).ok


def test_a_closed_ledger_refuses_appends(db: Engine, keys: KeyProvider) -> None:
    ledger = Ledger(db, keys, ORIGIN)
    ledger.close()
    with pytest.raises(LedgerUnavailable):
        ledger.append({"n": 0})


# --- detecting tampering -------------------------------------------------------------------


def _row(engine: Engine, idx: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT entry, leaf_hash, subject_index FROM audit_entries WHERE idx = :i"),
            {"i": idx},
        ).one()
    return {"entry": bytes(row[0]), "leaf_hash": bytes(row[1]), "subject_index": row[2]}


def _put(engine: Engine, idx: int, row: dict[str, Any]) -> None:
    run(
        engine,
        "UPDATE audit_entries SET entry = :entry, leaf_hash = :leaf_hash,"
        " subject_index = :subject_index WHERE idx = :idx",
        idx=idx,
        **row,
    )


def _modify(engine: Engine) -> None:
    row = _row(engine, 3)
    _put(engine, 3, {**row, "entry": row["entry"].replace(b'"n":3', b'"n":4')})


def _modify_with_its_leaf_hash(engine: Engine) -> None:
    entry = _row(engine, 3)["entry"].replace(b'"n":3', b'"n":4')
    _put(engine, 3, {"entry": entry, "leaf_hash": leaf_hash(entry), "subject_index": None})


def _delete(engine: Engine) -> None:
    run(engine, "DELETE FROM audit_entries WHERE idx = 4")


def _delete_the_last_and_its_checkpoint(engine: Engine) -> None:
    run(engine, "DELETE FROM audit_entries WHERE idx = 9")
    run(engine, "DELETE FROM audit_checkpoints WHERE size = 10")


def _insert_at_the_end(engine: Engine) -> None:
    entry = b'{"kind":"test","n":10}'
    run(
        engine,
        "INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (10, :e, :h)",
        e=entry,
        h=leaf_hash(entry),
    )


def _insert_in_the_middle(engine: Engine) -> None:
    # Make room at index 5 (in two steps: no backend then sees two rows with one index).
    run(engine, "UPDATE audit_entries SET idx = idx + 100 WHERE idx >= 5")
    run(engine, "UPDATE audit_entries SET idx = idx - 99 WHERE idx >= 100")
    entry = b'{"kind":"forged","n":5}'
    run(
        engine,
        "INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (5, :e, :h)",
        e=entry,
        h=leaf_hash(entry),
    )
    run(engine, "DELETE FROM audit_entries WHERE idx = 10")  # and keep the count at ten


def _reorder(engine: Engine) -> None:
    second, third = _row(engine, 2), _row(engine, 3)
    _put(engine, 2, third)
    _put(engine, 3, second)


def _point_at_another_subject(engine: Engine) -> None:
    run(engine, "UPDATE audit_entries SET subject_index = :s WHERE idx = 6", s=b"\x07" * 32)


def _hide_from_the_subject(engine: Engine) -> None:
    run(engine, "UPDATE audit_entries SET subject_index = NULL WHERE idx = 6")


def _forge_the_latest_signature(engine: Engine) -> None:
    with engine.connect() as conn:
        note = conn.exec_driver_sql("SELECT note FROM audit_checkpoints WHERE size = 10").scalar()
    assert isinstance(note, str)
    forged = note[:-10] + ("A" if note[-10] != "A" else "B") + note[-9:]
    run(engine, "UPDATE audit_checkpoints SET note = :n WHERE size = 10", n=forged)


TAMPERING = {
    "modified entry": (_modify, "entry 3: its stored leaf hash is not its entry's"),
    "modified entry and leaf hash": (
        _modify_with_its_leaf_hash,
        "checkpoint 10: its root is not the root of the first 10 entries",
    ),
    "deleted entry": (_delete, "entry 4 is missing"),
    "inserted at the end": (_insert_at_the_end, "entries 10..10 lie beyond the latest"),
    "inserted in the middle": (_insert_in_the_middle, "checkpoint 10: its root is not"),
    "reordered": (_reorder, "checkpoint 10: its root is not"),
    "subject column": (_point_at_another_subject, "entry 6: its subject index column"),
    "subject column emptied": (_hide_from_the_subject, "entry 6: its subject index column"),
    "forged signature": (_forge_the_latest_signature, "does not verify"),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_verify_detects_tampering(db: Engine, keys: KeyProvider, tampering: str) -> None:
    with Ledger(db, keys, ORIGIN) as ledger:
        for n in range(10):
            subject = bytes([n]) * 32 if n == 6 else None
            ledger.append({"kind": "test", "n": n}, subject)
    assert report(db, keys).ok
    tamper, problem = TAMPERING[tampering]
    tamper(db)
    result = report(db, keys, subjects=True)
    assert not result.ok
    assert any(problem in p for p in result.problems), result.problems
    if tampering.startswith("subject column"):
        assert report(db, keys).ok  # the column is held to the entries only when asked


def test_removing_the_newest_entries_with_their_checkpoints_shows_against_a_kept_one(
    db: Engine, keys: KeyProvider
) -> None:
    with Ledger(db, keys, ORIGIN) as ledger:
        for n in range(10):
            ledger.append({"kind": "test", "n": n})
        kept = ledger.verifier.open_checkpoint(ledger.checkpoint().note)
    _delete_the_last_and_its_checkpoint(db)
    assert report(db, keys).ok  # whole, but shorter: the database alone cannot tell
    result = report(db, keys, witnessed=[kept])
    assert not result.ok
    assert "fewer than the 10 of a checkpoint seen before" in result.problems[0]
    with Ledger(db, keys, ORIGIN) as ledger:
        ledger.append({"kind": "rewritten", "n": 9})
    result = report(db, keys, witnessed=[kept])
    assert result.problems == ["the log does not extend the checkpoint of size 10 seen"]


def test_verify_of_an_empty_log_is_ok(db: Engine, keys: KeyProvider) -> None:
    assert report(db, keys) == VerifyReport(True, 0, EMPTY_ROOT, [])


def test_verify_with_worker_processes_finds_what_one_process_finds(
    db: Engine, keys: KeyProvider
) -> None:
    with Ledger(db, keys, ORIGIN) as ledger:
        for n in range(150):
            ledger.append({"n": n}, bytes([n]) * 32 if n % 3 else None)

    def both() -> tuple[VerifyReport, VerifyReport]:
        alone = report(db, keys, workers=0, subjects=True)
        return alone, report(db, keys, workers=2, range_size=16, subjects=True)

    alone, shared = both()
    assert alone == shared and alone.ok and alone.size == 150
    _modify_with_its_leaf_hash(db)
    run(db, "UPDATE audit_entries SET entry = :e WHERE idx = 140", e=b"{}")
    run(db, "UPDATE audit_entries SET subject_index = NULL WHERE idx = 100")
    alone, shared = both()
    assert (alone.ok, alone.size, alone.root) == (shared.ok, shared.size, shared.root)
    assert not alone.ok and sorted(alone.problems) == sorted(shared.problems)
    assert any("entry 140" in p for p in shared.problems)
    assert any("entry 100: its subject index column" in p for p in shared.problems)


# --- reading -------------------------------------------------------------------------------


def test_proofs_drawn_from_the_database_verify_against_the_signed_checkpoints(
    db: Engine, keys: KeyProvider
) -> None:
    ledger = Ledger(db, keys, ORIGIN)
    for n in range(37):
        ledger.append({"n": n})
    ledger.close()
    with db.connect() as conn:
        stored = dict(conn.exec_driver_sql("SELECT size, root FROM audit_checkpoints").all())
        leaves = [
            bytes(h)
            for (h,) in conn.exec_driver_sql("SELECT leaf_hash FROM audit_entries ORDER BY idx")
        ]
    latest = ledger.checkpoint()
    assert ledger.verifier.open_checkpoint(latest.note).size == latest.size == 37
    assert latest.root == root_of(leaves)
    for size in (1, 2, 3, 8, 16, 17, 37):
        for index in range(size):
            proof = ledger.inclusion_proof(index, size)
            proof.verify()
            assert proof.root == root_of(leaves[:size])
    sizes = sorted(stored)
    for first, second in itertools.pairwise(sizes):
        proof = ledger.consistency_proof(first, second)
        proof.verify()
        assert (proof.root1, proof.root2) == (bytes(stored[first]), bytes(stored[second]))
    assert ledger.inclusion_proof(5).tree_size == 37  # the latest checkpoint by default
    with pytest.raises(ValueError):
        ledger.inclusion_proof(37)
    with pytest.raises(ValueError):
        ledger.consistency_proof(3, 38)


def test_the_empty_log_has_a_signed_checkpoint_of_the_empty_tree(
    db: Engine, keys: KeyProvider
) -> None:
    with Ledger(db, keys, ORIGIN) as ledger:
        latest = ledger.checkpoint()
        opened = ledger.verifier.open_checkpoint(latest.note)
    assert (opened.size, opened.root, latest.root) == (0, EMPTY_ROOT, EMPTY_ROOT)


def test_a_subject_sees_the_entries_that_name_them_and_no_others(
    db: Engine, keys: KeyProvider
) -> None:
    alice = subject_index(keys, "110105194912310021")
    bob = subject_index(keys, "11010519491231002X")
    with Ledger(db, keys, ORIGIN) as ledger:
        ledger.append({"kind": "disclosure", "by": "court"}, alice)
        ledger.append({"kind": "disclosure", "by": "school"}, bob)
        ledger.append({"kind": "admin", "action": "org_create"})
        ledger.append({"kind": "disclosure", "by": "employer"}, alice)
        with db.connect() as conn:
            seen = ledger.entries_for_subject(conn, alice)
    assert [e["by"] for e in seen] == ["court", "employer"]
    assert all(e["subject"] == alice.hex() and e["time"] for e in seen)
    run(db, "UPDATE audit_entries SET subject_index = :a WHERE idx = 1", a=alice)
    with db.connect() as conn:
        assert [e["by"] for e in ledger.entries_for_subject(conn, alice)] == ["court", "employer"]
