"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, signed with Ed25519.

    veil.local/audit            <- origin
    1024                        <- tree size
    nGw0...GdM=                 <- base64 of the RFC 6962 root
                                <- blank line
    — veil.local/audit AbCd...  <- base64(4-byte key id ‖ 64-byte Ed25519 signature)

The key id is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] and the verifier key
"name+hex(key id)+base64(0x01 ‖ public key)", as golang.org/x/mod/sumdb/note reads them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from veil.ledger.merkle import HASH_SIZE

ED25519 = b"\x01"  # the signed-note signature type of Ed25519
# The origin line of this installation's checkpoints: names the log (C2SP checkpoint).
LEDGER_ORIGIN = "veil.local/audit"
SIGNATURE_PREFIX = "— "  # em dash, space
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note or checkpoint that does not parse, or is not signed by the expected key."""


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """The origin, size and root of a checkpoint body (extension lines are ignored)."""
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
            raise NoteError("a checkpoint body is three or more non-empty lines")
        origin, size, root = lines[:3]
        if not _SIZE.fullmatch(size):
            raise NoteError(f"tree size {size!r} is not a decimal number")
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise NoteError("the root hash is not base64") from None
        if len(digest) != HASH_SIZE:
            raise NoteError(f"the root hash is {len(digest)} bytes, not {HASH_SIZE}")
        return cls(origin, int(size), digest)


@dataclass(frozen=True)
class Verifier:
    """A public key by the name it signs under: what a monitor needs to check checkpoints."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise NoteError(f"{self.name!r} is not a key name (non-empty, no spaces, no +)")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        name, sep1, rest = text.strip().partition("+")
        hex_id, sep2, encoded = rest.partition("+")
        try:
            key = base64.b64decode(encoded, validate=True)
            wanted = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise NoteError("a verifier key is name+hex key id+base64 key") from None
        if not (sep1 and sep2) or key[:1] != ED25519:
            raise NoteError("not an Ed25519 verifier key (name+hex key id+base64 key)")
        verifier = cls(name, key[1:])
        if verifier.key_id != wanted:
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier

    def open(self, note: str) -> str:
        """The note's text once its signature by this key verifies; NoteError otherwise."""
        text, signatures = split_note(note)
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        mine = [s for n, s in signatures if n == self.name and s[:4] == self.key_id]
        if not mine:
            raise NoteError(f"the note is not signed by {self.name}")
        for signature in mine:
            try:
                public.verify(signature[4:], text.encode())
            except InvalidSignature:
                raise NoteError(f"the signature by {self.name} does not verify") from None
        return text

    def open_checkpoint(self, note: str) -> Checkpoint:
        checkpoint = Checkpoint.parse(self.open(note))
        if checkpoint.origin != self.name:
            raise NoteError(f"the checkpoint names origin {checkpoint.origin}, not {self.name}")
        return checkpoint


class Signer:
    """Signs notes under `name` with a 32-byte Ed25519 private key."""

    def __init__(self, name: str, private_key: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, public)

    def sign(self, text: str) -> str:
        """The signed note: the text, a blank line, and one signature line."""
        if not text.endswith("\n") or _CONTROL.search(text):
            raise NoteError("note text ends in a newline and has no other control characters")
        signature = self.verifier.key_id + self._key.sign(text.encode())
        line = f"{SIGNATURE_PREFIX}{self.verifier.name} {base64.b64encode(signature).decode()}\n"
        return f"{text}\n{line}"

    def sign_checkpoint(self, checkpoint: Checkpoint) -> str:
        return self.sign(checkpoint.body())


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text and the (key name, key id ‖ signature) pairs of a signed note."""
    if _CONTROL.search(note) or not note.endswith("\n"):
        raise NoteError("a note ends in a newline and has no other control characters")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("a note has a blank line before its signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        name, space, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        if not line.startswith(SIGNATURE_PREFIX) or not space or not _valid_name(name):
            raise NoteError(f"not a signature line: {line!r}")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError(f"the signature by {name} is not base64") from None
        if len(signature) < 5:
            raise NoteError(f"the signature by {name} is too short")
        signatures.append((name, signature))
    return text, signatures
