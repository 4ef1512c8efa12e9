"""One pass over a range of the stored log: every leaf hash recomputed from the entry bytes.

A range starts at a position aligned to a power of two at least its length, so its perfect
subtrees are subtrees of the whole tree: ranges scanned apart (in worker processes, as
`python -m veil.ledger.scan`) combine into the root without rehashing anything.

Per entry this is one row read and two SHA-256 calls (its leaf, and about one node), each
mostly Python's call overhead: the loops below stay in list comprehensions and slices.
"""

from __future__ import annotations

import json
import sys
from binascii import hexlify
from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from veil.ledger.checkpoint import Checkpoint
from veil.ledger.merkle import CompactTree, fold
from veil.ledger.stream import Source, collector_paused, connect

CHUNK = 1 << 14
PROBLEMS_PER_RANGE = 20
_FIELD = b'"subject":"'


@dataclass(frozen=True)
class Job:
    low: int  # entries with low <= idx < high ...
    high: int
    position: int  # ... stand at positions position, position + 1, ... of the log
    origin: str  # the name the checkpoints' notes must state
    extra: tuple[int, ...] = ()  # further tree sizes to give the root of (from elsewhere)
    # Whether every index in [low, high) is known to be there (the lowest is 0, the highest
    # high - 1, and each range holds as many rows as it should): then indexes are not read.
    whole: bool = True
    subjects: bool = False  # also hold each entry's subject index column to the entry

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(**{**data, "extra": tuple(data["extra"])})


@dataclass
class RangeResult:
    """What a range contributes: its subtrees, and for each checkpoint (or extra size) in
    it, the fold of its part of that tree, to be finished with the subtrees before it."""

    position: int
    rows: int = 0
    subtrees: list[tuple[int, bytes]] = field(default_factory=list)  # (level, hash), largest first
    folds: dict[int, bytes] = field(default_factory=dict)  # size -> this range's part of the root
    stored: dict[int, bytes] = field(default_factory=dict)  # size -> the root its checkpoint says
    problems: list[str] = field(default_factory=list)
    omitted: int = 0  # problems found beyond PROBLEMS_PER_RANGE

    def problem(self, text: str) -> None:
        if len(self.problems) < PROBLEMS_PER_RANGE:
            self.problems.append(text)
        else:
            self.omitted += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "rows": self.rows,
            "subtrees": [[level, h.hex()] for level, h in self.subtrees],
            "folds": [[size, h.hex()] for size, h in self.folds.items()],
            "stored": [[size, h.hex()] for size, h in self.stored.items()],
            "problems": self.problems,
            "omitted": self.omitted,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RangeResult:
        return cls(
            position=data["position"],
            rows=data["rows"],
            subtrees=[(level, bytes.fromhex(h)) for level, h in data["subtrees"]],
            folds={size: bytes.fromhex(h) for size, h in data["folds"]},
            stored={size: bytes.fromhex(h) for size, h in data["stored"]},
            problems=data["problems"],
            omitted=data["omitted"],
        )


def scan_range(source: Source, job: Job) -> RangeResult:
    with collector_paused():
        return _scan(source, job)


def _scan(source: Source, job: Job) -> RangeResult:
    result = RangeResult(job.position)
    span = (job.position, job.position + job.high - job.low)
    for size, root, note in source.checkpoints(*span):
        result.stored[size] = root
        if not note.startswith(Checkpoint(job.origin, size, root).body() + "\n"):
            result.problem(f"checkpoint {size}: its note does not state its root")
    sizes = sorted(set(result.stored) | {s for s in job.extra if span[0] < s <= span[1]})
    tree = CompactTree()  # this range's own, from its first position
    expected = job.low
    columns = ("" if job.whole else "idx, ") + "entry, leaf_hash"
    columns += ", subject_index" if job.subjects else ""
    for rows in source.rows(columns, job.low, job.high):
        values = tuple(zip(*rows, strict=True))
        indexes: Sequence[int]
        if job.whole:
            indexes = range(expected, expected + len(rows))
            expected += len(rows)
        else:
            indexes, values = values[0], values[1:]
            expected = _check_order(result, indexes, expected)
        hashes = _leaf_hashes(result, indexes, values[0], values[1])
        if job.subjects:
            _check_subjects(result, indexes, values[0], values[2])
        # Every CHUNK but the last is full, so each starts aligned: its perfect subtrees
        # are the tree's, and the root at a checkpoint inside it is a fold of what came
        # before and the chunk's subtrees up to the checkpoint.
        levels = _levels(hashes)
        before = tree.stack
        while sizes and sizes[0] - job.position <= tree.size + len(hashes):
            offset = sizes[0] - job.position - tree.size
            result.folds[sizes.pop(0)] = fold(before + _prefix(levels, offset))
        whole_chunk = zip(_set_bits(len(hashes)), _prefix(levels, len(hashes)), strict=True)
        for level, subtree in whole_chunk:
            tree.push(level, subtree)
    result.rows = tree.size
    result.subtrees = tree.subtrees()
    return result


def _check_order(result: RangeResult, indexes: Sequence[int], expected: int) -> int:
    """Report indexes missing before or among these; the index expected next."""
    if tuple(indexes) == tuple(range(expected, expected + len(indexes))):
        return expected + len(indexes)
    for index in indexes:
        if index == expected + 1:
            result.problem(f"entry {expected} is missing")
        elif index != expected:
            result.problem(f"entries {expected}..{index - 1} are missing")
        expected = index + 1
    return expected


def _leaf_hashes(
    result: RangeResult, indexes: Sequence[int], entries: tuple[Any, ...], stored: tuple[Any, ...]
) -> list[bytes]:
    """SHA-256(0x00 ‖ entry) of each entry, each held to the leaf hash stored beside it."""
    try:
        hashes = [sha256(b"\x00" + entry).digest() for entry in entries]
    except TypeError:  # an entry edited into another type
        hashes = [sha256(b"\x00" + _blob(entry)).digest() for entry in entries]
    if list(stored) != hashes:
        for index, kept, computed in zip(indexes, stored, hashes, strict=True):
            if _blob(kept) != computed:
                result.problem(f"entry {index}: its stored leaf hash is not its entry's")
    return hashes


def _check_subjects(
    result: RangeResult,
    indexes: Sequence[int],
    entries: tuple[Any, ...],
    subjects: tuple[Any, ...],
) -> None:
    """Each entry's `subject` field and its subject index column name the same subject (or
    neither names one): else a subject's history could be edited without touching a hash.

    A quick look first (sorted keys put `subject` near the end, so search from there);
    an entry that fails it is parsed, to be sure.
    """
    try:
        doubtful = [
            (index, entry, subject)
            for index, entry, subject in zip(indexes, entries, subjects, strict=True)
            if (
                _FIELD in entry
                if subject is None
                else entry.rfind(_FIELD + hexlify(subject) + b'"') < 0
            )
        ]
    except TypeError:  # a value edited into another type: parse every entry
        doubtful = list(zip(indexes, entries, subjects, strict=True))
    for index, entry, subject in doubtful:
        if _named_subject(entry) != (None if subject is None else _blob(subject).hex()):
            result.problem(f"entry {index}: its subject index column is not its entry's")


def _named_subject(entry: object) -> object:
    try:
        decoded = json.loads(_blob(entry))
    except ValueError:
        return None
    return decoded.get("subject") if isinstance(decoded, dict) else None


def _levels(hashes: list[bytes]) -> list[list[bytes]]:
    """levels[k][i]: the perfect subtree of leaves [i * 2**k, (i + 1) * 2**k), where whole."""
    levels = [hashes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        even = len(below) - len(below) % 2
        lefts, rights = below[0:even:2], below[1:even:2]
        levels.append(
            [sha256(b"\x01" + a + b).digest() for a, b in zip(lefts, rights, strict=True)]
        )
    return levels


def _set_bits(count: int) -> list[int]:
    """The levels of the perfect subtrees that make up `count` leaves, largest first."""
    return [level for level in range(count.bit_length() - 1, -1, -1) if count >> level & 1]


def _prefix(levels: list[list[bytes]], count: int) -> list[bytes]:
    """The perfect subtrees that make up the first `count` leaves, largest first."""
    return [levels[level][count >> level & ~1] for level in _set_bits(count)]


def _blob(value: object) -> bytes:
    """A column's value as bytes: SQLite keeps whatever type was written, edits included."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def main() -> None:
    """Worker: {"backend", "dsn"} on the first line of stdin, then one Job per line."""
    database = json.loads(sys.stdin.readline())
    source = connect(database["backend"], database["dsn"], CHUNK)
    try:
        for line in sys.stdin:
            result = scan_range(source, Job.from_json(json.loads(line)))
            sys.stdout.write(json.dumps(result.as_json()) + "\n")
            sys.stdout.flush()
    finally:
        source.raw.close()


if __name__ == "__main__":
    main()
