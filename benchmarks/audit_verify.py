"""Audit ledger benchmark: `veil audit verify` over a million entries, and group commit.

Run with `make bench-audit` (or `.venv/bin/python benchmarks/audit_verify.py --help`).
A fresh SQLite home is filled with synthetic disclosure and admin entries in bulk (leaf
hashes and group-commit checkpoints computed here, as the ledger would have), once per size.
Measured in the same run, as the floors `verify` is held to:

- the raw SELECT of the columns verify reads, with sqlite3 in one process;
- plain SHA-256 of the same entry bytes, already in memory, in one process.

`verify` must recompute a leaf hash per entry and about one node hash per entry on top,
so it cannot beat the hashing floor on one core; with worker processes it may. Then many
threads append through one Ledger (group commit), against one thread appending alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from veil.config import Settings
from veil.home import Home
from veil.ledger.checkpoint import LEDGER_ORIGIN, Checkpoint, Signer
from veil.ledger.log import Ledger
from veil.ledger.merkle import CompactTree
from veil.ledger.verify import verify_log

ROOT = Path(__file__).resolve().parent.parent
SEED = 1
TARGET_VERIFY_RATE = 500_000
TARGET_APPEND_RATE = 1_000
PURPOSES = ("case_handling", "statutory_screening", "self_inquiry")


@dataclass(frozen=True)
class Step:
    name: str
    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


# --- the log -------------------------------------------------------------------------------


def entries(count: int, rng: random.Random) -> list[tuple[bytes, bytes | None]]:
    """(canonical JSON entry, subject index) pairs shaped like the door's entries."""
    subjects = [sha256(b"subject %d" % i).digest() for i in range(20_000)]
    made: list[tuple[bytes, bytes | None]] = []
    second = 1_780_000_000
    for n in range(count):
        second += rng.randrange(3)
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{n % 997:06d}Z"
        if n % 10 == 9:
            text = (
                f'{{"action":"org_token_issue","by":"cli","kind":"admin",'
                f'"org":"org-{n % 401:04d}","time":"{when}"}}'
            )
            made.append((text.encode(), None))
            continue
        subject = subjects[rng.randrange(len(subjects))]
        decision = "allow" if rng.random() < 0.9 else "deny"
        text = (
            f'{{"decision":"{decision}","kind":"disclosure","officer":"officer-{n % 977}",'
            f'"organisation":"org-{n % 401:04d}","organisation_type":"employer",'
            f'"policies":["screening-{n % 13}"],"purpose":"{PURPOSES[n % 3]}",'
            f'"request_id":"req-{n:012x}","subject":"{subject.hex()}","time":"{when}"}}'
        )
        made.append((text.encode(), subject))
    return made


def build_home(count: int, workdir: Path) -> Home:
    """A migrated home whose ledger holds `count` entries, built once per size."""
    path = workdir / f"audit-{count}-seed{SEED}"
    settings = Settings(home=path, database_url=f"sqlite:///{path / 'veil.db'}")
    if (path / "ready").exists():
        home = Home(settings)
        home.init()  # a home kept from an older version: its newer keys and migrations
        return home
    shutil.rmtree(path, ignore_errors=True)
    started = time.perf_counter()
    home = Home(settings)
    home.init()
    home.engine.dispose()
    rng = random.Random(SEED)
    signer = Signer(LEDGER_ORIGIN, home.keys.audit_signing_key())
    db = sqlite3.connect(path / "veil.db", isolation_level=None)
    db.execute("BEGIN")
    tree, done = CompactTree(), 0
    made = entries(count, rng)
    while done < count:
        # Group commits of 1 to 64 entries, each with its signed checkpoint.
        batch = made[done : done + rng.randint(1, 64)]
        leaves = [sha256(b"\x00" + entry).digest() for entry, _ in batch]
        db.executemany(
            "INSERT INTO audit_entries (idx, entry, leaf_hash, subject_index) VALUES (?,?,?,?)",
            [
                (done + i, entry, leaf, subject)
                for i, ((entry, subject), leaf) in enumerate(zip(batch, leaves, strict=True))
            ],
        )
        tree.extend(leaves)
        done += len(batch)
        root = tree.root()
        note = signer.sign_checkpoint(Checkpoint(LEDGER_ORIGIN, done, root))
        db.execute(
            "INSERT INTO audit_checkpoints VALUES (?, ?, ?, '2026-11-24 00:00:00')",
            (done, root, note),
        )
    db.execute("COMMIT")
    db.close()
    (path / "ready").touch()
    print(f"built {count:,} entries in {path} in {time.perf_counter() - started:.1f} s")
    return home


# --- verify and its floors -----------------------------------------------------------------


def raw_select(path: Path) -> None:
    db = sqlite3.connect(path)
    cursor = db.execute(
        "SELECT idx, entry, leaf_hash, subject_index FROM audit_entries ORDER BY idx"
    )
    while cursor.fetchmany(1 << 14):
        pass
    db.close()


def bench_verify(home: Home, count: int, repeat: int) -> list[Step]:
    path = home.settings.home / "veil.db"
    db = sqlite3.connect(path)
    kept = [row[0] for row in db.execute("SELECT entry FROM audit_entries ORDER BY idx")]
    db.close()
    verifier = Signer(LEDGER_ORIGIN, home.keys.audit_signing_key()).verifier
    reports = []

    def verify(workers: int | None, subjects: bool = False) -> Callable[[], None]:
        def run() -> None:
            with home.engine.connect() as conn:
                reports.append(verify_log(conn, verifier, workers=workers, subjects=subjects))

        return run

    steps = [
        Step("raw SELECT (floor)", count, best_of(repeat, lambda: raw_select(path))),
        Step(
            "SHA-256 of entries (floor)",
            count,
            best_of(repeat, lambda: [sha256(e).digest() for e in kept]),
        ),
        Step("verify, one process", count, best_of(repeat, verify(0))),
        Step("verify (default workers)", count, best_of(repeat, verify(None))),
        Step("verify --subjects", count, best_of(repeat, verify(None, subjects=True))),
    ]
    if not all(r.ok and r.size == count for r in reports):
        raise SystemExit(f"verify failed on the benchmark log: {reports[-1].problems[:5]}")
    command = [str(Path(sys.executable).parent / "veil"), "audit", "verify", "--json"]
    env = {**os.environ, "VEIL_HOME": str(home.settings.home)}
    env.pop("VEIL_DATABASE_URL", None)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or not json.loads(result.stdout)["ok"]:
        raise SystemExit(f"`veil audit verify` failed: {result.stdout[-2000:]}{result.stderr}")
    steps.append(Step("`veil audit verify --json`", count, elapsed))
    return steps


# --- group commit --------------------------------------------------------------------------


def bench_appends(workdir: Path, threads: int, per_thread: int) -> list[Step]:
    path = workdir / "audit-appends"
    shutil.rmtree(path, ignore_errors=True)
    home = Home(Settings(home=path, database_url=f"sqlite:///{path / 'veil.db'}"))
    home.init()
    steps = []
    with Ledger(home.engine, home.keys, LEDGER_ORIGIN) as ledger:
        alone = min(per_thread, 500)
        started = time.perf_counter()
        for n in range(alone):
            ledger.append({"kind": "bench", "n": n})
        steps.append(Step("append, 1 thread", alone, time.perf_counter() - started))

        def work(worker: int) -> None:
            for n in range(per_thread):
                ledger.append({"kind": "bench", "worker": worker, "n": n}, bytes([worker]) * 32)

        pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
        started = time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - started
        steps.append(Step(f"append, {threads} threads", threads * per_thread, elapsed))
    with home.engine.connect() as conn:
        commits = conn.exec_driver_sql("SELECT count(*) FROM audit_checkpoints").scalar_one()
    total = alone + threads * per_thread
    print(f"group commit: {total:,} entries in {commits:,} commits (synchronous=FULL)")
    return steps


def bench_ledger_start(home: Home, count: int) -> Step:
    """A process that appends first loads the tree from the stored leaf hashes."""
    started = time.perf_counter()
    ledger = Ledger(home.engine, home.keys, LEDGER_ORIGIN)
    ledger.close()  # waits for the writer, which loads the tree before anything else
    return Step("Ledger start (tree load)", count, time.perf_counter() - started)


# --- report --------------------------------------------------------------------------------


def print_table(steps: list[Step], floor: Step | None = None) -> None:
    print(f"{'step':<30}{'count':>12}{'seconds':>10}{'per second':>14}{'x floor':>9}")
    for s in steps:
        ratio = f"{s.seconds / floor.seconds:.2f}" if floor else "-"
        cells = f"{s.count:>12,}{s.seconds:>10.3f}{s.rate:>14,.0f}{ratio:>9}"
        print(f"{s.name:<30}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the best counts")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--appends", type=int, default=100, help="appends per thread")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50k entries, once")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.repeat, args.appends = 50_000, 1, 20
    args.workdir.mkdir(parents=True, exist_ok=True)
    home = build_home(args.entries, args.workdir)

    verify_steps = bench_verify(home, args.entries, args.repeat)
    by_name = {s.name: s for s in verify_steps}
    print()
    print_table(verify_steps, by_name["SHA-256 of entries (floor)"])
    select = by_name["raw SELECT (floor)"]
    for step in verify_steps[2:]:
        print(f"  {step.name}: {step.seconds / select.seconds:.2f}x the raw SELECT")

    append_steps = bench_appends(args.workdir, args.threads, args.appends)
    append_steps.append(bench_ledger_start(home, args.entries))
    print()
    print_table(append_steps)
    alone, many = append_steps[0], append_steps[1]
    print(f"  group commit: {many.rate / alone.rate:.1f}x the appends/s of one thread alone")

    print("targets:")
    verify_rate = by_name["verify (default workers)"].rate
    met = "met" if verify_rate >= TARGET_VERIFY_RATE else "NOT MET"
    print(f"  verify >= 500k entries/s ({verify_rate / 1e3:,.0f}k)".ljust(60), met)
    met = "met" if many.rate >= TARGET_APPEND_RATE else "NOT MET"
    print(f"  appends >= 1,000/s from {args.threads} threads ({many.rate:,.0f})".ljust(60), met)


if __name__ == "__main__":
    main()
