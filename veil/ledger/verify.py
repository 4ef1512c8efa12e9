"""`veil audit verify`: recompute the whole log from its entry bytes and hold the checkpoints
to it. Detects any modified, deleted, inserted or reordered entry.

Checks: indexes run 0..n-1; every stored leaf hash is SHA-256(0x00 ‖ entry); every entry
names the subject its index column does; every checkpoint's root is the recomputed root at
its size and its note says so; the latest note is signed by the installation's key; no
entry lies beyond the latest checkpoint. Removing the newest entries together with their
checkpoints leaves a log that is whole but shorter: only a checkpoint kept elsewhere (by a
monitor, or fetched earlier) shows it, so such checkpoints can be given as `witnessed`.

Reading and hashing a million entries takes one Python process three to four seconds (two
SHA-256 calls per entry, each mostly call overhead), so large logs are cut into aligned
ranges and scanned by worker processes as well as this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Connection

from veil.ledger.checkpoint import Checkpoint, NoteError, Verifier
from veil.ledger.merkle import EMPTY_ROOT, CompactTree, fold
from veil.ledger.scan import CHUNK, Job, RangeResult, scan_range
from veil.ledger.sql import StoredCheckpoint, checkpoints, extent, stream, worker_source

RANGE = 1 << 16
PARALLEL_FROM = 1 << 18  # below this, starting a worker costs more than it saves
MAX_WORKERS = 3
MAX_PROBLEMS = 100

Progress = Callable[[int, int], None]  # (entries done, entries in all)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    size: int
    root: bytes
    problems: list[str]

    def as_json(self) -> dict[str, Any]:
        root = self.root.hex()
        return {"ok": self.ok, "size": self.size, "root": root, "problems": self.problems}


def verify_log(
    conn: Connection,
    verifier: Verifier,
    *,
    witnessed: Sequence[Checkpoint] = (),
    workers: int | None = None,
    progress: Progress | None = None,
    range_size: int = RANGE,
) -> VerifyReport:
    """Check the log in `conn`'s database against the installation's `verifier` key.

    `witnessed`: checkpoints seen before (already verified); the log must extend each.
    `workers`: extra processes to scan with (default: one per further core for a large
    log). `range_size` must be a power of two.
    """
    count, low, high = extent(conn)
    stored = checkpoints(conn)
    sizes = sorted({c.size for c in stored} | {c.size for c in witnessed})
    problems: list[str] = []
    omitted = 0
    if count == 0 or (low == 0 and high == count - 1):
        jobs = [
            Job(start, min(start + range_size, count), start, _between(sizes, start, range_size))
            for start in range(0, count, range_size)
        ]
    else:
        # Entries are missing or misnumbered: the result is already a failure, so scan in
        # one pass with each entry at its place in index order, to say what else is wrong.
        problems.append(f"entry indexes run {low}..{high} over {count} entries, not 0..{count - 1}")
        some = tuple(s for s in sizes if s > 0)
        jobs = [Job(int(low or 0), int(high or 0) + 1, 0, some, whole=False)]
        workers = 0
    results = _scan(conn, jobs, _worker_count(workers, count, conn), progress, count)

    tree, roots = CompactTree(), {0: EMPTY_ROOT}
    for result in results:
        for size, part in result.folds.items():
            roots[size] = fold(tree.stack, part)
        for level, subtree in result.subtrees:
            tree.push(level, subtree)
        problems.extend(result.problems)
        omitted += result.omitted
    root = tree.root()
    problems.extend(_checkpoint_problems(stored, roots, tree.size, verifier))
    for seen in witnessed:
        if seen.size > tree.size:
            problems.append(
                f"the log holds {tree.size} entries, fewer than the {seen.size} of a checkpoint"
                " seen before: entries were removed"
            )
        elif roots[seen.size] != seen.root:
            problems.append(f"the log does not extend the checkpoint of size {seen.size} seen")
    if len(problems) > MAX_PROBLEMS:
        omitted += len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS]
    if omitted:
        problems.append(f"... and {omitted} more problems")
    return VerifyReport(not problems, tree.size, root, problems)


def _between(sizes: Sequence[int], start: int, width: int) -> tuple[int, ...]:
    """The sorted `sizes` in (start, start + width]."""
    return tuple(sizes[bisect_right(sizes, start) : bisect_right(sizes, start + width)])


def _checkpoint_problems(
    stored: Sequence[StoredCheckpoint], roots: dict[int, bytes], size: int, verifier: Verifier
) -> list[str]:
    problems = []
    for checkpoint in stored:
        if checkpoint.size > size:
            problems.append(f"checkpoint {checkpoint.size}: the log holds only {size} entries")
            continue
        if checkpoint.root != roots[checkpoint.size]:
            problems.append(
                f"checkpoint {checkpoint.size}: its root is not the root of the first "
                f"{checkpoint.size} entries"
            )
        body = Checkpoint(verifier.name, checkpoint.size, checkpoint.root).body()
        if not checkpoint.note.startswith(body + "\n"):
            problems.append(f"checkpoint {checkpoint.size}: its note does not state its root")
    if not stored:
        if size:
            problems.append(f"no signed checkpoint covers the {size} entries")
        return problems
    latest = stored[-1]
    try:
        verifier.open_checkpoint(latest.note)
    except NoteError as exc:
        problems.append(f"checkpoint {latest.size} (the latest): {exc}")
    if latest.size < size:
        problems.append(
            f"entries {latest.size}..{size - 1} lie beyond the latest signed checkpoint"
        )
    return problems


# --- scanning, here and in worker processes --------------------------------------------------


def _worker_count(wanted: int | None, count: int, conn: Connection) -> int:
    if worker_source(conn) is None:
        return 0
    if wanted is not None:
        return wanted
    if count < PARALLEL_FROM:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min((cores or 1) - 1, MAX_WORKERS))


def _scan(
    conn: Connection, jobs: list[Job], workers: int, progress: Progress | None, total: int
) -> list[RangeResult]:
    """Scan every job: this process takes them from the front, the workers from the back."""
    pending, results = deque(jobs), {}
    lock = threading.Lock()
    done = 0

    def take(from_back: bool) -> Job | None:
        with lock:
            if not pending:
                return None
            return pending.pop() if from_back else pending.popleft()

    def finished(job: Job, result: RangeResult) -> None:
        nonlocal done
        with lock:
            results[job.low] = result
            done += job.high - job.low
            if progress is not None:
                progress(min(done, total), total)

    def serve(worker: _Worker) -> None:
        try:
            while (job := take(from_back=True)) is not None:
                try:
                    result = worker.run(job)
                except (OSError, ValueError, KeyError):
                    with lock:
                        pending.append(job)  # this process will do it
                    return
                finished(job, result)
        finally:
            worker.close()

    def here(columns: str, low: int, high: int) -> Iterator[list[Any]]:
        return stream(conn, columns, low, high, CHUNK)

    helpers = []
    source = worker_source(conn)
    if workers and len(jobs) > 1 and source is not None:
        for _ in range(min(workers, len(jobs) - 1)):
            try:
                worker = _Worker(*source)
            except OSError:
                break  # no worker: this process scans on its own
            helper = threading.Thread(target=serve, args=(worker,), daemon=True)
            helper.start()
            helpers.append(helper)
    if progress is not None:
        progress(0, total)
    while True:
        while (job := take(from_back=False)) is not None:
            finished(job, scan_range(here, job))
        for helper in helpers:
            helper.join()
        if not pending:  # a worker that failed put its job back
            break
    return [results[job.low] for job in jobs]


class _Worker:
    """A `python -m veil.ledger.scan` process: one JSON job in, one JSON result out."""

    def __init__(self, backend: str, dsn: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "veil.ledger.scan"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a failed worker's job is redone here, and fails here
            text=True,
        )
        self._send({"backend": backend, "dsn": dsn})

    def _send(self, data: dict[str, Any]) -> None:
        stdin: IO[str] | None = self._process.stdin
        assert stdin is not None  # noqa: S101 - opened with PIPE
        stdin.write(json.dumps(data) + "\n")
        stdin.flush()

    def run(self, job: Job) -> RangeResult:
        self._send(job.as_json())
        stdout: IO[str] | None = self._process.stdout
        assert stdout is not None  # noqa: S101 - opened with PIPE
        line = stdout.readline()
        if not line:
            raise OSError("the scan worker stopped")
        return RangeResult.from_json(json.loads(line))

    def close(self) -> None:
        try:
            if self._process.stdin is not None:
                self._process.stdin.close()
            self._process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            if self._process.stdout is not None:
                self._process.stdout.close()
