"""RFC 6962 hashing, proofs and C2SP checkpoints, held to independent references (SPEC 6).

The references here are written plainly from the RFC's definitions, and the published
vectors come from certificate-transparency-go / transparency-dev/merkle and
golang.org/x/mod/sumdb/note.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from veil.cli import app
from veil.ledger.checkpoint import Checkpoint, NoteError, Signer, Verifier
from veil.ledger.merkle import (
    EMPTY_ROOT,
    CompactTree,
    consistency_path,
    inclusion_path,
    leaf_hashes,
    root_of,
)
from veil.ledger.proofs import ConsistencyProof, InclusionProof, ProofError

CONFORMANCE = Path("/work/shared/conformance/rfc6962")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def reference_root(entries: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 section 2.1 defines it, recursively."""
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + reference_root(entries[:k]) + reference_root(entries[k:]))


def entries_of(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


# --- roots ---------------------------------------------------------------------------------

# certificate-transparency-go merkle testdata (also transparency-dev/merkle testonly).
RFC6962_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_one_to_eight_leaves_are_the_published_rfc6962_vectors(size: int) -> None:
    leaves = [bytes.fromhex(h) for h in RFC6962_LEAVES[:size]]
    expected = bytes.fromhex(RFC6962_ROOTS[size - 1])
    assert reference_root(leaves) == expected
    assert root_of(leaf_hashes(leaves)) == expected
    tree = CompactTree()
    for leaf in leaf_hashes(leaves):
        tree.extend([leaf])
    assert tree.root() == expected


def test_the_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == CompactTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(71))
def test_every_way_of_computing_a_root_agrees_with_the_rfc_definition(size: int) -> None:
    entries = entries_of(size)
    expected = reference_root(entries)
    hashes = leaf_hashes(entries)
    assert root_of(hashes) == expected
    one_by_one, in_bulk = CompactTree(), CompactTree()
    for leaf in hashes:
        one_by_one.extend([leaf])
    in_bulk.extend(hashes)
    assert one_by_one.root() == in_bulk.root() == expected
    assert one_by_one.size == in_bulk.size == size


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=12))
def test_the_compact_tree_grown_in_any_batches_has_the_reference_root(batches: list[int]) -> None:
    entries = entries_of(sum(batches))
    hashes = leaf_hashes(entries)
    tree, done = CompactTree(), 0
    for batch in batches:
        tree.extend(hashes[done : done + batch])
        done += batch
        assert tree.root() == reference_root(entries[:done])
    assert len(tree.subtrees()) == bin(done).count("1")


# --- proofs --------------------------------------------------------------------------------


def subtree_of(hashes: list[bytes]) -> Callable[[int, int], bytes]:
    return lambda start, end: root_of(hashes[start:end])


def inclusion(hashes: list[bytes], index: int, size: int) -> InclusionProof:
    path = inclusion_path(index, size, subtree_of(hashes))
    return InclusionProof(index, size, root_of(hashes[:size]), hashes[index], tuple(path))


def consistency(hashes: list[bytes], first: int, second: int) -> ConsistencyProof:
    path = consistency_path(first, second, subtree_of(hashes))
    roots = root_of(hashes[:first]), root_of(hashes[:second])
    return ConsistencyProof(first, second, *roots, tuple(path))


@pytest.mark.parametrize("size", range(1, 34))
def test_every_generated_proof_verifies(size: int) -> None:
    hashes = leaf_hashes(entries_of(size))
    for index in range(size):
        inclusion(hashes, index, size).verify()
    for first in range(1, size + 1):
        consistency(hashes, first, size).verify()


def test_generated_proofs_are_the_published_ones() -> None:
    # inclusion/1 and consistency/2 happy paths of the transparency-dev/merkle test data.
    hashes = leaf_hashes([bytes.fromhex(h) for h in RFC6962_LEAVES])
    for name, proof in (
        ("inclusion/1/happy-path.json", inclusion(hashes, 0, 8)),
        ("inclusion/2/happy-path.json", inclusion(hashes, 5, 8)),
        ("consistency/2/happy-path.json", consistency(hashes, 6, 8)),
        ("consistency/3/happy-path.json", consistency(hashes, 2, 5)),
    ):
        published = json.loads((CONFORMANCE / name).read_text())
        assert {k: published[k] for k in proof.as_json()} == proof.as_json()


def flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    return data[: bit // 8] + bytes([data[bit // 8] ^ (1 << bit % 8)]) + data[bit // 8 + 1 :]


def mutated_path(
    path: tuple[bytes, ...], mutation: str, where: int, hashes: list[bytes]
) -> tuple[bytes, ...]:
    changed = list(path)
    if mutation == "path bit":
        changed[where % len(path)] = flip(path[where % len(path)], where)
    elif mutation == "drop":
        del changed[where % len(path)]
    elif mutation == "append":
        changed.append(hashes[where % len(hashes)])
    else:  # prepend
        changed.insert(0, hashes[where % len(hashes)])
    return tuple(changed)


# Mutations that must break any proof. The tree size is not among them for inclusion: a
# path fits every size whose tree has the same shape along it, so a proof binds the size
# only through the root, and the root is bound to its size by the signed checkpoint.
INCLUSION_MUTATIONS = ("path bit", "leaf bit", "root bit", "index", "drop", "append", "prepend")
CONSISTENCY_MUTATIONS = ("path bit", "root1 bit", "root2 bit", "drop", "append", "prepend")


@given(
    size=st.integers(min_value=2, max_value=70),
    index=st.integers(min_value=0, max_value=69),
    mutation=st.sampled_from(INCLUSION_MUTATIONS),
    where=st.integers(min_value=0, max_value=10_000),
)
def test_any_mutated_inclusion_proof_fails(
    size: int, index: int, mutation: str, where: int
) -> None:
    hashes = leaf_hashes(entries_of(size))
    good = inclusion(hashes, index % size, size)
    good.verify()
    changes: dict[str, Any] = {
        "leaf bit": {"leaf_hash": flip(good.leaf_hash, where)},
        "root bit": {"root": flip(good.root, where)},
        "index": {"leaf_index": (good.leaf_index + 1 + where % (size - 1)) % size},
    }.get(mutation, {"path": mutated_path(good.path, mutation, where, hashes)})
    bad = dataclasses.replace(good, **changes)
    with pytest.raises(ProofError):
        bad.verify()


@given(
    size=st.integers(min_value=2, max_value=70),
    first=st.integers(min_value=1, max_value=69),
    mutation=st.sampled_from(CONSISTENCY_MUTATIONS),
    where=st.integers(min_value=0, max_value=10_000),
)
def test_any_mutated_consistency_proof_fails(
    size: int, first: int, mutation: str, where: int
) -> None:
    hashes = leaf_hashes(entries_of(size))
    good = consistency(hashes, 1 + first % (size - 1), size)  # 0 < first < size: a real proof
    good.verify()
    changes: dict[str, Any] = {
        "root1 bit": {"root1": flip(good.root1, where)},
        "root2 bit": {"root2": flip(good.root2, where)},
    }.get(mutation, {"path": mutated_path(good.path, mutation, where, hashes)})
    bad = dataclasses.replace(good, **changes)
    with pytest.raises(ProofError):
        bad.verify()


# --- the published conformance cases, through the offline checker ---------------------------

# The one case the README marks as either way: equal sizes with 12-byte placeholder roots.
# Veil rejects it, as it rejects anything as a root or hash that is not 32 bytes long: a
# checker that took a 12-byte string for a SHA-256 root would bless a note no log can sign.
QUIRK = "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"
CASES = sorted(str(p.relative_to(CONFORMANCE)) for p in CONFORMANCE.rglob("*.json"))


def test_the_conformance_cases_are_all_there() -> None:
    assert len(CASES) > 150
    assert QUIRK in CASES


@pytest.mark.parametrize("case", CASES)
def test_offline_checker_gives_each_published_case_its_expected_answer(case: str) -> None:
    data = json.loads((CONFORMANCE / case).read_text())
    valid = not data["wantErr"] and case != QUIRK
    command = "check-inclusion" if case.startswith("inclusion/") else "check-consistency"
    result = CliRunner().invoke(app, ["audit", command, str(CONFORMANCE / case), "--json"])
    assert result.exit_code == (0 if valid else 1), result.output
    assert json.loads(result.output)["ok"] is valid


# --- checkpoints ---------------------------------------------------------------------------

# golang.org/x/mod/sumdb/note: its example key, text and signed note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_notes_are_signed_and_opened_byte_for_byte_as_the_go_reference_does() -> None:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])[1:]
    signer = Signer("PeterNeumann", seed)
    assert str(signer.verifier) == GO_VERIFIER
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert Verifier.parse(GO_VERIFIER).open(GO_NOTE) == GO_TEXT


def test_key_id_is_the_first_four_bytes_of_sha256_of_name_newline_type_and_key() -> None:
    signer = Signer("veil.test/audit", bytes(range(32)))
    public = signer.verifier.public_key
    expected = sha256(b"veil.test/audit\n\x01" + public)[:4]
    assert signer.verifier.key_id == expected
    name, key_hash, key = str(signer.verifier).split("+", 2)
    assert (name, key_hash, base64.b64decode(key)) == (
        "veil.test/audit",
        expected.hex(),
        b"\x01" + public,
    )


def signed_checkpoint() -> tuple[Signer, str]:
    signer = Signer("veil.test/audit", bytes(range(32)))
    root = bytes.fromhex(RFC6962_ROOTS[-1])
    return signer, signer.sign_checkpoint(Checkpoint("veil.test/audit", 8, root))


def test_a_checkpoint_round_trips_through_its_signed_note() -> None:
    signer, note = signed_checkpoint()
    root = base64.b64encode(bytes.fromhex(RFC6962_ROOTS[-1])).decode()
    text, signature_line = note.split("\n\n")
    assert text == f"veil.test/audit\n8\n{root}"
    assert signature_line.startswith("— veil.test/audit ")
    signature = base64.b64decode(signature_line.split(" ")[2])
    assert len(signature) == 4 + 64 and signature[:4] == signer.verifier.key_id
    checkpoint = signer.verifier.open_checkpoint(note)
    assert checkpoint == Checkpoint("veil.test/audit", 8, bytes.fromhex(RFC6962_ROOTS[-1]))
    assert Verifier.parse(str(signer.verifier)).open_checkpoint(note) == checkpoint


@pytest.mark.parametrize(
    "tamper",
    [
        lambda n: n.replace("\n8\n", "\n9\n"),
        lambda n: n.replace("veil.test/audit\n", "veil.test/other\n", 1),
        lambda n: n.replace("XcnaeacG", "XcnaeacH"),
        lambda n: n[:-10] + ("A" if n[-10] != "A" else "B") + n[-9:],
        lambda n: n.replace("\n\n", "\nextension\n\n"),
        lambda n: n.split("\n\n")[0] + "\n",
        lambda n: n.replace("— veil.test/audit", "— veil.test/other"),
        lambda n: n.replace("\n", "\r\n"),
    ],
    ids=["size", "origin", "root", "signature", "extra line", "unsigned", "key name", "CRLF"],
)
def test_a_tampered_checkpoint_note_is_rejected(tamper: Callable[[str], str]) -> None:
    signer, note = signed_checkpoint()
    with pytest.raises(NoteError):
        signer.verifier.open_checkpoint(tamper(note))


def test_a_note_signed_by_another_key_is_rejected() -> None:
    _, note = signed_checkpoint()
    stranger = Signer("veil.test/audit", bytes(32))
    with pytest.raises(NoteError):
        stranger.verifier.open_checkpoint(note)
