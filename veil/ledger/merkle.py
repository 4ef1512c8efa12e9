"""RFC 6962 Merkle tree hashing: leaves, nodes, roots, proofs, and the compact tree of a log.

leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right), and the root of the empty
tree is SHA-256 of nothing (RFC 6962 section 2.1, unchanged in RFC 9162 section 2.1.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    return [sha256(b"\x00" + entry).digest() for entry in entries]


def root_of(hashes: Sequence[bytes]) -> bytes:
    """MTH over the leaf hashes given, level by level.

    Pairing neighbours and letting an odd last node rise unchanged builds the same tree as
    RFC 6962's split at the largest power of two below n, without recursion.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        odd = len(level) % 2
        lefts, rights = level[: len(level) - odd : 2], level[1::2]
        paired = [sha256(b"\x01" + a + b).digest() for a, b in zip(lefts, rights, strict=True)]
        if odd:
            paired.append(level[-1])
        level = paired
    return level[0]


def fold(stack: Sequence[bytes], right: bytes | None = None) -> bytes:
    """The root over perfect subtrees given largest first, with `right` after the last."""
    if right is None:
        if not stack:
            return EMPTY_ROOT
        stack, right = stack[:-1], stack[-1]
    for subtree in reversed(stack):
        right = sha256(b"\x01" + subtree + right).digest()  # node_hash, inlined: verify folds a lot
    return right


def split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactTree:
    """A log of `size` leaves as its perfect subtrees, largest first: one hash per set bit.

    Appending costs O(1) hashes amortised and never rereads earlier leaves; the root is a
    fold of at most log2(size) hashes.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def copy(self) -> CompactTree:
        other = CompactTree()
        other.size, other._stack = self.size, list(self._stack)
        return other

    @property
    def stack(self) -> list[bytes]:
        return list(self._stack)

    def subtrees(self) -> list[tuple[int, bytes]]:
        """(level, hash) of each perfect subtree, largest first; level k holds 2**k leaves."""
        levels = [bit for bit in range(self.size.bit_length() - 1, -1, -1) if self.size >> bit & 1]
        return list(zip(levels, self._stack, strict=True))

    def push(self, level: int, subtree: bytes) -> None:
        """Append a perfect subtree of 2**level leaves; the size must be a multiple of it."""
        if self.size % (1 << level):
            raise ValueError(f"a subtree of 2**{level} leaves cannot follow {self.size} leaves")
        carry = self.size >> level
        while carry & 1:
            subtree = node_hash(self._stack.pop(), subtree)
            carry >>= 1
        self._stack.append(subtree)
        self.size += 1 << level

    def extend(self, hashes: Sequence[bytes]) -> None:
        """Append leaf hashes, hashing each whole aligned run at once rather than leaf by leaf."""
        done, count = 0, len(hashes)
        while done < count:
            aligned = (self.size & -self.size).bit_length() - 1 if self.size else 63
            level = min(aligned, (count - done).bit_length() - 1)
            width = 1 << level
            self.push(level, root_of(hashes[done : done + width]))
            done += width

    def root(self) -> bytes:
        return fold(self._stack)


# A function giving MTH(D[start:end]) of the log a proof is drawn from.
RangeHash = Callable[[int, int], bytes]


def inclusion_path(index: int, size: int, subtree: RangeHash) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 section 2.1.1, from the leaf's sibling upwards."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + split(end - start)
        if index < middle:
            path.append(subtree(middle, end))
            end = middle
        else:
            path.append(subtree(start, middle))
            start = middle
    path.reverse()
    return path


def consistency_path(first: int, second: int, subtree: RangeHash) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 6962 section 2.1.2 (SUBPROOF with b = true)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    path: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        middle = start + split(end - start)
        if m <= middle - start:
            path.append(subtree(middle, end))
            end = middle
        else:
            path.append(subtree(start, middle))
            m -= middle - start
            start, whole = middle, False
    if not whole:
        path.append(subtree(start, end))
    path.reverse()
    return path
