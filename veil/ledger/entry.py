"""What an audit entry is in bytes: canonical JSON, a UTC time, the subject's blind index."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from veil.keys import BlindIndex, KeyProvider

# The entry field naming the subject: hex of the keyed blind index, never the ID number.
SUBJECT = "subject"
TIME = "time"


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8, no NaN (RFC 8259 JSON)."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def subject_index(keys: KeyProvider, normalised_id_number: str) -> bytes:
    """HMAC-SHA256 of the ID number under the audit subject key (not the records' key)."""
    return BlindIndex(keys.audit_subject_key()).of(normalised_id_number)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def encode_entry(entry: Mapping[str, Any], subject: bytes | None = None) -> bytes:
    """The exact bytes the ledger hashes; adds `time` and `subject` if the caller did not.

    TypeError for a value JSON cannot hold; ValueError if the entry has a `subject` field
    that is not the hex of `subject`.
    """
    fields = dict(entry)
    if TIME not in fields:
        fields[TIME] = utc_now()
    if subject is not None:
        if len(subject) != 32:
            raise ValueError("a subject index is 32 bytes (HMAC-SHA256)")
        named = fields.setdefault(SUBJECT, subject.hex())
        if named != subject.hex():
            raise ValueError("the entry names a different subject than the index given")
    elif SUBJECT in fields:
        # `subject` is kept for the blind index, stored beside the entry: verify holds the two
        # to each other, and a subject's history is found by it.
        raise ValueError("an entry names a subject only with its subject index")
    return canonical_json(fields)
