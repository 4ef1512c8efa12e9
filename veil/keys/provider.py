"""Master-key providers. The local key file is the default; a KMS implements the same ABC."""

from __future__ import annotations

import base64
import json
import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from veil.keys.envelope import NONCE_BYTES, random_blocks


class KeysMissingError(RuntimeError):
    """No key material where it was expected (run `veil init`)."""


class KeyProvider(ABC):
    """Holds the master keys; data keys never leave it in the clear except to their user."""

    @abstractmethod
    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        """Encrypt a data key under the active master key: (master key id, wrapped key)."""

    def wrap_many(self, items: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, bytes]]:
        """`wrap` for many (data key, aad) pairs; providers may do it in one round."""
        return [self.wrap(data_key, aad) for data_key, aad in items]

    @abstractmethod
    def unwrap(self, key_id: str, wrapped: bytes, aad: bytes) -> bytes:
        """Recover a data key wrapped by `wrap` (under any master key still held)."""

    @abstractmethod
    def blind_index_key(self) -> bytes:
        """The key of the blind index over identifiers (kept apart from the master keys)."""

    @abstractmethod
    def content_mac_key(self) -> bytes:
        """The key of the content digest used to recognise re-ingested rows."""

    @abstractmethod
    def audit_signing_key(self) -> bytes:
        """The 32-byte Ed25519 private key that signs the audit ledger's checkpoints."""

    @abstractmethod
    def certificate_signing_key(self) -> bytes:
        """The 32-byte Ed25519 private key that signs certificates (SPEC section 5)."""

    @abstractmethod
    def audit_subject_key(self) -> bytes:
        """The key of the blind index by which audit entries name a subject.

        Kept apart from the records' blind-index key, so that the exported ledger cannot be
        joined to the persons table.
        """


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class LocalKeyFile(KeyProvider):
    """Keys in one JSON file, readable by its owner only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise KeysMissingError(f"no key file at {path}: run `veil init` first") from None
        self._masters = {k: AESGCM(base64.b64decode(v)) for k, v in data["master_keys"].items()}
        self._active = data["active"]
        self._blind = base64.b64decode(data["blind_index_key"])
        self._mac = base64.b64decode(data["content_mac_key"])
        try:
            self._audit_signing = base64.b64decode(data["audit_signing_key"])
            self._audit_subject = base64.b64decode(data["audit_subject_key"])
            self._certificate = base64.b64decode(data["certificate_signing_key"])
        except KeyError:
            raise KeysMissingError(f"{path} lacks newer keys: run `veil init`") from None

    @classmethod
    def create(cls, path: Path) -> bool:
        """Write a new key file unless one exists; True when one was written."""
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        key_id = "mk-" + secrets.token_hex(4)
        data = {
            "format": "veil-local-keys/1",
            "active": key_id,
            "master_keys": {key_id: _b64(AESGCM.generate_key(bit_length=256))},
            "blind_index_key": _b64(secrets.token_bytes(32)),
            "content_mac_key": _b64(secrets.token_bytes(32)),
            **cls._later_keys(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        return True

    @staticmethod
    def _later_keys() -> dict[str, str]:
        """Keys added after the first key-file format, made fresh."""
        return {
            "audit_signing_key": _b64(secrets.token_bytes(32)),
            "audit_subject_key": _b64(secrets.token_bytes(32)),
            "certificate_signing_key": _b64(secrets.token_bytes(32)),
        }

    @classmethod
    def upgrade(cls, path: Path) -> list[str]:
        """Add the keys a key file written by an older Veil lacks; the names added."""
        data = json.loads(path.read_text())
        missing = {k: v for k, v in cls._later_keys().items() if k not in data}
        if missing:
            data.update(missing)
            replacement = path.with_suffix(".tmp")
            fd = os.open(replacement, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2)
            os.replace(replacement, path)
        return sorted(missing)

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._masters[self._active].encrypt(nonce, data_key, aad)
        return self._active, nonce + sealed

    def wrap_many(self, items: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, bytes]]:
        master, active = self._masters[self._active], self._active
        nonces = random_blocks(NONCE_BYTES, len(items))
        return [
            (active, nonce + master.encrypt(nonce, data_key, aad))
            for nonce, (data_key, aad) in zip(nonces, items, strict=True)
        ]

    def unwrap(self, key_id: str, wrapped: bytes, aad: bytes) -> bytes:
        master = self._masters.get(key_id)
        if master is None:
            raise KeysMissingError(f"master key {key_id} is not in {self.path}")
        try:
            return master.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeysMissingError(f"a data key does not open under {key_id}") from None

    def blind_index_key(self) -> bytes:
        return self._blind

    def content_mac_key(self) -> bytes:
        return self._mac

    def audit_signing_key(self) -> bytes:
        return self._audit_signing

    def audit_subject_key(self) -> bytes:
        return self._audit_subject

    def certificate_signing_key(self) -> bytes:
        return self._certificate
