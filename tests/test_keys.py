"""Envelope encryption and keyed digests (SPEC section 7), one at a time and in bulk."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from veil.keys import BlindIndex, ContentMac, DataKey, LocalKeyFile
from veil.keys.envelope import NONCE_BYTES


@pytest.fixture
def provider(tmp_path: Path) -> LocalKeyFile:
    LocalKeyFile.create(tmp_path / "master.json")
    return LocalKeyFile(tmp_path / "master.json")


@pytest.mark.parametrize("message", [b"", b"x", b"110105199003070015", bytes(range(256)) * 3])
def test_keyed_digests_are_hmac_sha256(message: bytes) -> None:
    key = bytes(range(32))
    expected = hmac.digest(key, message, "sha256")
    assert ContentMac(key).of(message) == expected
    assert BlindIndex(key).of(" 11010519900307001x ") == hmac.digest(
        key, b"11010519900307001X", "sha256"
    )


def test_bulk_sealing_opens_with_each_key_and_aad_and_never_repeats_a_nonce() -> None:
    keys = [DataKey(k) for k in DataKey.generate_many(50)]
    items = [(keys[i % 50], f"identity {i}".encode(), f"row {i}".encode()) for i in range(200)]
    sealed = DataKey.seal_many(items)
    assert len({s[:NONCE_BYTES] for s in sealed}) == 200
    for (key, plaintext, aad), box in zip(items, sealed, strict=True):
        assert key.open(box, aad) == plaintext
        with pytest.raises(InvalidTag):
            key.open(box, aad + b"moved")


def test_generated_data_keys_are_distinct_256_bit_keys() -> None:
    keys = DataKey.generate_many(1000)
    assert {len(k) for k in keys} == {32}
    assert len(set(keys)) == 1000
    assert DataKey.generate_many(0) == []


def test_bulk_wrapping_unwraps_under_the_active_master_key(provider: LocalKeyFile) -> None:
    items = [(k, f"person {i}".encode()) for i, k in enumerate(DataKey.generate_many(20))]
    wrapped = provider.wrap_many(items)
    assert len({w[:NONCE_BYTES] for _, w in wrapped}) == 20
    for (data_key, aad), (key_id, box) in zip(items, wrapped, strict=True):
        assert provider.unwrap(key_id, box, aad) == data_key
    one_id, one = provider.wrap(items[0][0], items[0][1])
    assert provider.unwrap(one_id, one, items[0][1]) == items[0][0]
