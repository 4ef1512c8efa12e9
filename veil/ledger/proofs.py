"""Inclusion and consistency proofs: their JSON form and their offline verification.

The JSON shapes are those of the transparency-dev/merkle test data (values in base64), so
that a proof Veil prints can be checked by any RFC 6962 tool and the published vectors can
be checked by Veil. Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 exactly.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from veil.ledger.merkle import EMPTY_ROOT, HASH_SIZE, node_hash


class ProofError(ValueError):
    """A proof that does not verify; the message says which check failed."""


class ProofFormatError(ValueError):
    """A proof document that is not of the expected shape (missing field, not base64...)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check_sizes(**hashes: bytes) -> None:
    # A SHA-256 root or leaf hash is 32 bytes. The reference verifier skips this check when
    # two equal-size trees have equal roots, and so accepts 12-byte placeholder "roots";
    # Veil refuses them: nothing that is not a hash can be the root of this log.
    for name, value in hashes.items():
        if len(value) != HASH_SIZE:
            raise ProofError(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    root: bytes
    leaf_hash: bytes
    path: tuple[bytes, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "leafIdx": self.leaf_index,
            "treeSize": self.tree_size,
            "root": _b64(self.root),
            "leafHash": _b64(self.leaf_hash),
            "proof": [_b64(p) for p in self.path],
        }

    @classmethod
    def from_json(cls, data: object) -> InclusionProof:
        fields = _object(data)
        return cls(
            leaf_index=_count(fields, "leafIdx"),
            tree_size=_count(fields, "treeSize"),
            root=_hash(fields, "root"),
            leaf_hash=_hash(fields, "leafHash"),
            path=_path(fields),
        )

    def verify(self) -> None:
        """RFC 9162 section 2.1.3.2; raises ProofError unless the leaf is in the tree."""
        _check_sizes(root=self.root, leafHash=self.leaf_hash)
        for position, element in enumerate(self.path):
            _check_sizes(**{f"proof[{position}]": element})
        if self.leaf_index >= self.tree_size:
            raise ProofError(f"leaf {self.leaf_index} is not in a tree of {self.tree_size}")
        fn, sn = self.leaf_index, self.tree_size - 1
        r = self.leaf_hash
        for p in self.path:
            if sn == 0:
                raise ProofError("the proof is longer than the path to the root")
            if fn & 1 or fn == sn:
                r = node_hash(p, r)
                while not fn & 1 and fn:
                    fn, sn = fn >> 1, sn >> 1
            else:
                r = node_hash(r, p)
            fn, sn = fn >> 1, sn >> 1
        if sn != 0:
            raise ProofError("the proof is shorter than the path to the root")
        if r != self.root:
            raise ProofError("the path does not lead to the root")


@dataclass(frozen=True)
class ConsistencyProof:
    size1: int
    size2: int
    root1: bytes
    root2: bytes
    path: tuple[bytes, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "size1": self.size1,
            "size2": self.size2,
            "root1": _b64(self.root1),
            "root2": _b64(self.root2),
            "proof": [_b64(p) for p in self.path],
        }

    @classmethod
    def from_json(cls, data: object) -> ConsistencyProof:
        fields = _object(data)
        return cls(
            size1=_count(fields, "size1"),
            size2=_count(fields, "size2"),
            root1=_hash(fields, "root1"),
            root2=_hash(fields, "root2"),
            path=_path(fields),
        )

    def verify(self) -> None:
        """RFC 9162 section 2.1.4.2; raises ProofError unless tree 2 extends tree 1."""
        _check_sizes(root1=self.root1, root2=self.root2)
        for position, element in enumerate(self.path):
            _check_sizes(**{f"proof[{position}]": element})
        first, second = self.size1, self.size2
        if first > second:
            raise ProofError(f"size1 {first} is larger than size2 {second}")
        if first == second:
            # Outside RFC 9162's algorithm (it assumes 0 < size1 < size2): the same tree.
            if self.path:
                raise ProofError("equal sizes need an empty proof")
            if self.root1 != self.root2:
                raise ProofError("equal sizes but different roots")
            if first == 0 and self.root1 != EMPTY_ROOT:
                raise ProofError("the root of the empty tree is SHA-256 of nothing")
            return
        if first == 0:
            raise ProofError("every tree extends the empty tree: there is nothing to prove")
        if not self.path:
            raise ProofError("the proof is empty")
        path: Sequence[bytes] = self.path
        if first & (first - 1) == 0:
            path = (self.root1, *path)
        fn, sn = first - 1, second - 1
        while fn & 1:
            fn, sn = fn >> 1, sn >> 1
        fr = sr = path[0]
        for c in path[1:]:
            if sn == 0:
                raise ProofError("the proof is longer than the path to the root")
            if fn & 1 or fn == sn:
                fr, sr = node_hash(c, fr), node_hash(c, sr)
                while not fn & 1 and fn:
                    fn, sn = fn >> 1, sn >> 1
            else:
                sr = node_hash(sr, c)
            fn, sn = fn >> 1, sn >> 1
        if sn != 0:
            raise ProofError("the proof is shorter than the path to the root")
        if fr != self.root1:
            raise ProofError("the proof does not lead to root1")
        if sr != self.root2:
            raise ProofError("the proof does not lead to root2")


# --- reading the JSON form ------------------------------------------------------------------


def _object(data: object) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProofFormatError("a proof is a JSON object")
    return data


def _count(fields: Mapping[str, Any], name: str) -> int:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofFormatError(f"{name} must be a whole number of 0 or more")
    return value


def _base64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise ProofFormatError(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ProofFormatError(f"{name} is not base64") from None


def _hash(fields: Mapping[str, Any], name: str) -> bytes:
    if name not in fields:
        raise ProofFormatError(f"{name} is missing")
    return _base64(fields[name], name)


def _path(fields: Mapping[str, Any]) -> tuple[bytes, ...]:
    if "proof" not in fields:
        raise ProofFormatError("proof is missing")
    value = fields["proof"]
    if value is None:  # the Go test data writes an empty proof as null
        return ()
    if not isinstance(value, list):
        raise ProofFormatError("proof must be a list of base64 strings")
    return tuple(_base64(p, f"proof[{i}]") for i, p in enumerate(value))
