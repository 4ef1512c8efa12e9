"""One pass over a range of the stored log: every leaf hash recomputed from the entry bytes.

A range starts at a position aligned to a power of two at least its length, so its perfect
subtrees are subtrees of the whole tree: ranges scanned apart (in worker processes, as
`python -m veil.ledger.scan`) combine into the root without rehashing anything.
"""

from __future__ import annotations

import json
import sys
from binascii import hexlify
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from itertools import repeat
from typing import Any

from veil.ledger.merkle import CompactTree, fold
from veil.ledger.stream import collector_paused, connect, stream

# Rows of the given columns for low <= idx < high, in index order, a chunk at a time.
RowSource = Callable[[str, int, int], Iterator[list[Any]]]

CHUNK = 1 << 14
PROBLEMS_PER_RANGE = 20
_COLUMNS = "entry, leaf_hash, subject_index"
_FIELD = b'"subject":"'
_NO_INDEX = bytes(32)  # no HMAC-SHA256 is all zeros
_NO_INDEX_HEX = hexlify(_NO_INDEX)


@dataclass(frozen=True)
class Job:
    low: int  # entries with low <= idx < high ...
    high: int
    position: int  # ... stand at positions position, position + 1, ... of the log
    sizes: tuple[int, ...] = ()  # checkpoint sizes in (position, position + high - low]
    # Whether every index in [low, high) is known to be there (from the count, lowest and
    # highest of a primary key): then indexes need not be read, nor checked one by one.
    whole: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "position": self.position,
            "sizes": self.sizes,
            "whole": self.whole,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        sizes = tuple(data["sizes"])
        return cls(data["low"], data["high"], data["position"], sizes, data["whole"])


@dataclass
class RangeResult:
    position: int
    rows: int = 0
    subtrees: list[tuple[int, bytes]] = field(default_factory=list)  # (level, hash), largest first
    folds: dict[int, bytes] = field(default_factory=dict)  # size -> root of this range's part
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
            problems=data["problems"],
            omitted=data["omitted"],
        )


def scan_range(rows: RowSource, job: Job) -> RangeResult:
    with collector_paused():
        return _scan(rows, job)


def _scan(source: RowSource, job: Job) -> RangeResult:
    result = RangeResult(job.position)
    tree = CompactTree()  # this range's own, from its first position
    sizes = sorted(job.sizes)
    expected = job.low
    columns = _COLUMNS if job.whole else "idx, " + _COLUMNS
    for rows in source(columns, job.low, job.high):
        indexes: Sequence[int]
        if job.whole:
            entries, stored, subjects = zip(*rows, strict=True)
            indexes = range(expected, expected + len(entries))
            expected += len(entries)
        else:
            indexes, entries, stored, subjects = zip(*rows, strict=True)
            expected = _check_order(result, indexes, expected)
        hashes = _leaf_hashes(result, indexes, entries, stored)
        _check_subjects(result, indexes, entries, subjects)
        # Every CHUNK but the last is full, so each starts aligned: its perfect subtrees
        # are the tree's, and the root at a checkpoint inside it is a fold of what came
        # before and the chunk's subtrees up to the checkpoint.
        levels = _levels(hashes)
        while sizes and sizes[0] - job.position <= tree.size + len(hashes):
            offset = sizes[0] - job.position - tree.size
            inside = [subtree for _, subtree in _prefix(levels, offset)]
            result.folds[sizes.pop(0)] = fold(tree.stack + inside)
        for level, subtree in _prefix(levels, len(hashes)):
            tree.push(level, subtree)
    result.rows = tree.size
    result.subtrees = tree.subtrees()
    return result


def _check_order(result: RangeResult, indexes: tuple[int, ...], expected: int) -> int:
    """Report indexes missing before or among these; the index expected next."""
    if indexes == tuple(range(expected, expected + len(indexes))):
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

    Compared for a whole chunk at once: the column's values in hex, all joined, against
    the 64 characters after the last `"subject":"` of each entry (sorted keys put it near
    the end). Only where the two differ is an entry parsed, to be sure.
    """
    try:
        column = hexlify(b"".join([subject or _NO_INDEX for subject in subjects]))
        found = list(map(bytes.rfind, entries, repeat(_FIELD)))
        stated = b"".join(
            [
                entry[at + len(_FIELD) : at + len(_FIELD) + 64] if at >= 0 else _NO_INDEX_HEX
                for entry, at in zip(entries, found, strict=True)
            ]
        )
        if stated == column:
            return
    except TypeError:  # a value edited into another type: look at each row
        pass
    for index, entry, subject in zip(indexes, entries, subjects, strict=True):
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


def _prefix(levels: list[list[bytes]], count: int) -> list[tuple[int, bytes]]:
    """(level, hash) of the perfect subtrees that make up the first `count` leaves."""
    found = []
    for level in range(count.bit_length() - 1, -1, -1):
        if count >> level & 1:
            start = count >> (level + 1) << (level + 1)
            found.append((level, levels[level][start >> level]))
    return found


def _blob(value: object) -> bytes:
    """A column's value as bytes: SQLite keeps whatever type was written, edits included."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def main() -> None:
    """Worker: {"backend", "dsn"} on the first line of stdin, then one Job per line."""
    source = json.loads(sys.stdin.readline())
    backend = source["backend"]
    raw = connect(backend, source["dsn"])
    try:
        for line in sys.stdin:
            job = Job.from_json(json.loads(line))
            result = scan_range(
                lambda columns, low, high: stream(raw, backend, columns, low, high, CHUNK), job
            )
            sys.stdout.write(json.dumps(result.as_json()) + "\n")
            sys.stdout.flush()
    finally:
        raw.close()


if __name__ == "__main__":
    main()
