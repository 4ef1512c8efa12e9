"""The ledger as a monitor reads it: the latest signed checkpoint, proofs, a subject's entries.

Proofs are drawn from the stored leaf hashes. A perfect subtree never changes once the log
has grown past it, so those of TILE leaves and more are kept once computed: the first proof
over a large log reads it once, later ones read a few hundred leaf hashes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from veil.keys import KeyProvider
from veil.ledger.checkpoint import Checkpoint, Signer, Verifier
from veil.ledger.merkle import (
    EMPTY_ROOT,
    consistency_path,
    inclusion_path,
    node_hash,
    root_of,
    split,
)
from veil.ledger.proofs import ConsistencyProof, InclusionProof
from veil.ledger.sql import (
    StoredCheckpoint,
    entries_of_subject,
    latest_checkpoint,
    leaf_hash_at,
    leaf_hash_chunks,
    stored_size,
)

TILE = 256


class LedgerDamaged(RuntimeError):
    """The stored log is missing entries a proof needs (`veil audit verify` says more)."""


class LedgerReader:
    """Read-only access to the ledger of the database behind `engine`, signed as `origin`."""

    def __init__(self, engine: Engine, keys: KeyProvider, origin: str) -> None:
        self._engine = engine
        self._signer = Signer(origin, keys.audit_signing_key())
        self.origin = origin
        self._subtrees: dict[tuple[int, int], bytes] = {}

    @property
    def verifier(self) -> Verifier:
        return self._signer.verifier

    def verifier_key(self) -> str:
        """The key monitors check checkpoints with: name+hex(key id)+base64(0x01 ‖ key)."""
        return str(self.verifier)

    def checkpoint(self) -> StoredCheckpoint:
        """The latest signed checkpoint; for an empty log, the empty tree's, signed now."""
        with self._engine.connect() as conn:
            stored = latest_checkpoint(conn)
        if stored is not None:
            return stored
        # Ed25519 signatures are deterministic: every call gives the same note.
        note = self._signer.sign_checkpoint(Checkpoint(self.origin, 0, EMPTY_ROOT))
        return StoredCheckpoint(0, EMPTY_ROOT, note)

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """Proof that entry `index` is in the tree of `size` entries (default: the latest
        checkpoint's). ValueError for an index or size the log does not have."""
        with self._engine.connect() as conn:
            size = self._size(conn, size)
            if not 0 <= index < size:
                raise ValueError(f"entry {index} is not in a tree of {size} entries")
            leaf = leaf_hash_at(conn, index)
            if leaf is None:
                raise LedgerDamaged(f"entry {index} is missing from the stored log")
            path = inclusion_path(index, size, lambda a, b: self._range(conn, a, b))
            root = self._range(conn, 0, size)
        return InclusionProof(index, size, root, leaf, tuple(path))

    def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        """Proof that the tree of `second` entries (default: the latest checkpoint's)
        extends the tree of `first`. ValueError for sizes the log does not have."""
        with self._engine.connect() as conn:
            second = self._size(conn, second)
            if not 0 < first <= second:
                raise ValueError(f"no consistency proof from {first} to {second} entries")
            path = consistency_path(first, second, lambda a, b: self._range(conn, a, b))
            roots = self._range(conn, 0, first), self._range(conn, 0, second)
        return ConsistencyProof(first, second, *roots, tuple(path))

    def entries_for_subject(self, conn: Connection, subject_index: bytes) -> list[dict[str, Any]]:
        """The decoded entries naming the subject, in log order: who looked, and why."""
        return [entry for _, entry in entries_of_subject(conn, subject_index)]

    # --- subtree hashes -------------------------------------------------------------------

    def _size(self, conn: Connection, size: int | None) -> int:
        if size is None:
            latest = latest_checkpoint(conn)
            return 0 if latest is None else latest.size
        stored = stored_size(conn)
        if not 0 <= size <= stored:
            raise ValueError(f"the log has {stored} entries, not {size}")
        return size

    def _range(self, conn: Connection, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a node of the tree: `start` is aligned to the left part."""
        width = end - start
        if width & (width - 1) == 0:
            return self._perfect(conn, start, width)
        middle = start + split(width)
        return node_hash(self._range(conn, start, middle), self._range(conn, middle, end))

    def _perfect(self, conn: Connection, start: int, width: int) -> bytes:
        cached = self._subtrees.get((start, width))
        if cached is not None:
            return cached
        if width <= TILE:
            chunks = leaf_hash_chunks(conn, start, start + width, TILE)
            hashes = [h for chunk in chunks for h in chunk]
            if len(hashes) != width:
                raise LedgerDamaged(f"entries between {start} and {start + width} are missing")
            value = root_of(hashes)
        else:
            if (start, TILE) not in self._subtrees:
                self._fill_tiles(conn, start, start + width)
            half = width // 2
            value = node_hash(
                self._perfect(conn, start, half), self._perfect(conn, start + half, half)
            )
        if width >= TILE:
            self._subtrees[(start, width)] = value
        return value

    def _fill_tiles(self, conn: Connection, start: int, end: int) -> None:
        """Hash every TILE-leaf subtree of [start, end) in one read of the leaf hashes."""
        position = start
        for hashes in leaf_hash_chunks(conn, start, end, TILE):
            if len(hashes) != TILE:
                break
            self._subtrees[(position, TILE)] = root_of(hashes)
            position += TILE
        if position != end:
            raise LedgerDamaged(f"entries between {start} and {end} are missing")
