"""Keys: the pluggable master-key provider, envelope encryption and blind indexes."""

from veil.keys.envelope import BlindIndex, ContentMac, DataKey
from veil.keys.provider import KeyProvider, KeysMissingError, LocalKeyFile

__all__ = ["BlindIndex", "ContentMac", "DataKey", "KeyProvider", "KeysMissingError", "LocalKeyFile"]
