"""What server processes and the ledger writer process say to each other over their socket.

A request is one entry to append: a 4-byte big-endian length, then a flag byte (1 when a
subject index follows), the 32-byte subject index if so, and the entry's exact bytes
(`encode_entry`'s canonical JSON). An answer comes for every request, in the order the
requests were sent: an 8-byte big-endian signed index, the entry's place in the log once
it and its checkpoint are committed; or -1, a 4-byte length and the reason it could not
be written (UTF-8).

A hand-made format rather than a library's: it is two messages of fixed shape, and every
byte of it is spent per disclosure on the server's one interpreter lock.
"""

from __future__ import annotations

import struct

LENGTH = struct.Struct(">I")
INDEX = struct.Struct(">q")
SUBJECT_BYTES = 32
MAX_ENTRY = 1 << 20  # an entry is a few hundred bytes; a larger frame is not one of ours
FAILED = -1


class WireError(ValueError):
    """Bytes that are not a request or answer of this format."""


def request(entry: bytes, subject: bytes | None) -> bytes:
    """The request that appends `entry` (naming `subject`, its 32-byte index, if given)."""
    if subject is None:
        return LENGTH.pack(len(entry) + 1) + b"\x00" + entry
    if len(subject) != SUBJECT_BYTES:
        raise ValueError("a subject index is 32 bytes (HMAC-SHA256)")
    return LENGTH.pack(len(entry) + 1 + SUBJECT_BYTES) + b"\x01" + subject + entry


def answer(index: int | None, reason: str = "") -> bytes:
    """The answer to a request: its log index, or (index None) the reason it failed."""
    if index is not None:
        return INDEX.pack(index)
    text = reason.encode("utf-8", "replace")
    return INDEX.pack(FAILED) + LENGTH.pack(len(text)) + text


class Requests:
    """Splits the bytes a server process sends into (entry, subject index) requests."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes | None]]:
        """The requests completed by `data`; WireError for bytes that are not requests."""
        buffer = self._buffer
        buffer += data
        done: list[tuple[bytes, bytes | None]] = []
        start = 0
        while len(buffer) - start >= LENGTH.size:
            (length,) = LENGTH.unpack_from(buffer, start)
            if not 1 <= length <= MAX_ENTRY + 1 + SUBJECT_BYTES:
                raise WireError(f"a request of {length} bytes")
            end = start + LENGTH.size + length
            if len(buffer) < end:
                break
            flag, body = buffer[start + LENGTH.size], start + LENGTH.size + 1
            if flag == 0:
                done.append((bytes(buffer[body:end]), None))
            elif flag == 1 and length > 1 + SUBJECT_BYTES:
                cut = body + SUBJECT_BYTES
                done.append((bytes(buffer[cut:end]), bytes(buffer[body:cut])))
            else:
                raise WireError("a request with an unknown flag or no entry")
            start = end
        del buffer[:start]
        return done


class Answers:
    """Splits the bytes the writer process sends back into indexes and failure reasons."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[int | str]:
        """The answers completed by `data`: an index (int), or the reason it failed (str)."""
        buffer = self._buffer
        buffer += data
        done: list[int | str] = []
        start = 0
        while len(buffer) - start >= INDEX.size:
            (index,) = INDEX.unpack_from(buffer, start)
            if index >= 0:
                done.append(index)
                start += INDEX.size
                continue
            if index != FAILED:
                raise WireError(f"an answer of index {index}")
            head = start + INDEX.size
            if len(buffer) - head < LENGTH.size:
                break
            (length,) = LENGTH.unpack_from(buffer, head)
            if length > MAX_ENTRY:
                raise WireError(f"a failure reason of {length} bytes")
            end = head + LENGTH.size + length
            if len(buffer) < end:
                break
            done.append(bytes(buffer[head + LENGTH.size : end]).decode("utf-8", "replace"))
            start = end
        del buffer[:start]
        return done
