"""`veil audit verify`: recompute the whole log from its entry bytes and hold the checkpoints
to it. Detects any modified, deleted, inserted or reordered entry.

Checks: indexes run 0..n-1; every stored leaf hash is SHA-256(0x00 ‖ entry); every entry
and its subject index column name the same subject; every checkpoint's root is the
recomputed root at its size and its note says so; the latest note is signed by the
installation's key; no entry lies beyond the latest checkpoint. Removing the newest entries
together with their checkpoints leaves a log that is whole but shorter: only a checkpoint
kept elsewhere (by a monitor, or fetched earlier) shows it, so such checkpoints can be
given as `witnessed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from veil.ledger.checkpoint import Checkpoint, NoteError, Verifier
from veil.ledger.merkle import EMPTY_ROOT, CompactTree, fold
from veil.ledger.scan import Job, RangeResult
from veil.ledger.sql import index_range, latest_checkpoint, source
from veil.ledger.workers import Pool, Progress, cores

RANGE = 1 << 14  # entries a range: small enough that the last ones even out the processes
PARALLEL_FROM = 1 << 18  # below this, starting a worker costs more than it saves
MAX_PROBLEMS = 100


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
    subjects: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    range_size: int = RANGE,
) -> VerifyReport:
    """Check the log in `conn`'s database against the installation's `verifier` key.

    `witnessed`: checkpoints seen before (already verified); the log must extend each.
    `subjects`: also hold every entry's subject index column to the entry's `subject`
    field (about a fifth more time). The column only finds a subject's history, whose
    entries are held to their hashed field when read: an edited column can hide an entry
    from its subject, not show it to another.
    `workers`: extra processes to scan with (default: one per further core for a log of
    PARALLEL_FROM entries or more). `range_size` must be a power of two.
    """
    low, high = index_range(conn)
    end = 0 if high is None else high + 1
    if workers is None:
        workers = cores() - 1 if end >= PARALLEL_FROM else 0
    seen = tuple(c.size for c in witnessed)
    with Pool(conn, workers) as pool:
        jobs = [
            Job(start, min(start + range_size, end), start, verifier.name, seen, True, subjects)
            for start in range(0, end, range_size)
        ]
        log = _Combined()
        if low in (None, 0):
            pool.scan(jobs, log.add, progress)
        if low not in (None, 0) or log.rows != [job.high - job.low for job in jobs]:
            # Entries are missing or misnumbered: the result is a failure already, so scan
            # in one pass with each entry at its place in index order, to say what is wrong.
            log = _Combined()
            job = Job(int(low or 0), end, 0, verifier.name, seen, False, subjects)
            pool.scan([job], log.add, progress)
            size = log.tree.size
            log.problems.insert(
                0, f"entry indexes run {low}..{high} over {size} entries, not 0..{size - 1}"
            )
    problems = log.problems
    # After the entries' own problems: one changed entry puts every later checkpoint wrong.
    problems.extend(
        f"checkpoint {size}: its root is not the root of the first {size} entries"
        for size in log.wrong
    )
    problems.extend(_latest_problems(conn, log.tree.size, verifier))
    problems.extend(_witnessed_problems(witnessed, log.roots, log.tree.size))
    omitted = log.omitted
    if len(problems) > MAX_PROBLEMS:
        omitted += len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS]
    if omitted:
        problems.append(f"... and {omitted} more problems")
    return VerifyReport(not problems, log.tree.size, log.tree.root(), problems)


class _Combined:
    """The ranges' results put together, in order, as they come."""

    def __init__(self) -> None:
        self.tree = CompactTree()
        self.roots = {0: EMPTY_ROOT}  # tree size -> recomputed root, for the checkpoints
        self.wrong: list[int] = []  # sizes whose checkpoint's root is not the recomputed one
        self.rows: list[int] = []
        self.problems: list[str] = []
        self.omitted = 0

    def add(self, result: RangeResult) -> None:
        """Finish each fold with the subtrees before its range; add the range's subtrees."""
        before = self.tree.stack
        for size, part in result.folds.items():
            self.roots[size] = root = fold(before, part)
            if result.stored.get(size, root) != root:
                self.wrong.append(size)
        for level, subtree in result.subtrees:
            self.tree.push(level, subtree)
        self.rows.append(result.rows)
        self.problems.extend(result.problems)
        self.omitted += result.omitted


def _latest_problems(conn: Connection, size: int, verifier: Verifier) -> list[str]:
    """The latest checkpoint is signed by the key, covers every entry, and none goes beyond."""
    problems = [
        f"checkpoint {beyond}: the log holds only {size} entries"
        for beyond, _, _ in source(conn, 1).checkpoints(size)
    ]
    latest = latest_checkpoint(conn)
    if latest is None:
        if size:
            problems.append(f"no signed checkpoint covers the {size} entries")
        return problems
    try:
        verifier.open_checkpoint(latest.note)
    except NoteError as exc:
        problems.append(f"checkpoint {latest.size} (the latest): {exc}")
    if latest.size < size:
        problems.append(
            f"entries {latest.size}..{size - 1} lie beyond the latest signed checkpoint"
        )
    return problems


def _witnessed_problems(
    witnessed: Sequence[Checkpoint], roots: dict[int, bytes], size: int
) -> list[str]:
    problems = []
    for seen in witnessed:
        if seen.size > size:
            problems.append(
                f"the log holds {size} entries, fewer than the {seen.size} of a checkpoint"
                " seen before: entries were removed"
            )
        elif roots[seen.size] != seen.root:
            problems.append(f"the log does not extend the checkpoint of size {seen.size} seen")
    return problems
