"""How a subject proves who they are for self-inquiry: a pluggable identity check.

A deployment plugs in its real method (the national e-ID, a counter clerk's check of the
identity card) by implementing `IdentityCheck`. `DemoIdentity` exists for local use only:
anyone holding the installation's keys can mint its credentials, so it proves nothing
about a real person. It is enabled only by VEIL_IDENTITY_CHECK=demo.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod

from veil.config import ConfigError
from veil.keys import BlindIndex, KeyProvider


class IdentityCheck(ABC):
    method: str

    @abstractmethod
    def verify(self, credential: str) -> str | None:
        """The normalised ID number the credential proves, or None."""


class NoIdentityCheck(IdentityCheck):
    """No method configured: nobody can prove an identity, so self-inquiry is refused."""

    method = "none"

    def verify(self, credential: str) -> str | None:
        return None


class DemoIdentity(IdentityCheck):
    """DEMONSTRATION ONLY. A credential is `veil-demo-identity.<id>.<tag>` with a keyed tag."""

    method = "demo"
    PREFIX = "veil-demo-identity."

    def __init__(self, keys: KeyProvider) -> None:
        self._key = hmac.new(keys.blind_index_key(), b"veil-demo-identity", hashlib.sha256).digest()

    def _tag(self, id_number: str) -> str:
        return hmac.new(self._key, id_number.encode(), hashlib.sha256).hexdigest()[:32]

    def credential(self, id_number: str) -> str:
        normalised = BlindIndex.normalise(id_number)
        return f"{self.PREFIX}{normalised}.{self._tag(normalised)}"

    def verify(self, credential: str) -> str | None:
        if not credential.startswith(self.PREFIX):
            return None
        id_number, _, tag = credential[len(self.PREFIX) :].rpartition(".")
        if not id_number or not hmac.compare_digest(tag, self._tag(id_number)):
            return None
        return id_number


def identity_check(method: str, keys: KeyProvider) -> IdentityCheck:
    if method == "demo":
        return DemoIdentity(keys)
    if method in ("", "none"):
        return NoIdentityCheck()
    raise ConfigError(f"unknown identity check {method!r} (VEIL_IDENTITY_CHECK: demo or none)")
