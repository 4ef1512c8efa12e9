"""Envelope encryption (AES-256-GCM under per-person data keys) and keyed indexes (SPEC 7)."""

from __future__ import annotations

import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class DataKey:
    """One person's data key: seals and opens that person's identifying fields."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @staticmethod
    def generate() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """nonce ‖ ciphertext ‖ tag; `aad` binds the ciphertext to the row it belongs to."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)


class BlindIndex:
    """HMAC-SHA256 of a normalised identifier: equality look-ups without the clear value."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    @staticmethod
    def normalise(identifier: str) -> str:
        return identifier.strip().upper()

    def of(self, identifier: str) -> bytes:
        return hmac.digest(self._key, self.normalise(identifier).encode(), "sha256")


class ContentMac:
    """Keyed digest of a record's content, so re-ingest can compare rows without decrypting.

    Keyed because an unkeyed hash of (name, ID number, ...) could be brute-forced from the
    small space of valid ID numbers.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, content: bytes) -> bytes:
        return hmac.digest(self._key, content, "sha256")
