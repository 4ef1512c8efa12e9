"""Reading the ledger for people: the access log oversight filters, a unit's own checks.

Entries are scanned newest first in chunks and decoded here; the filters are applied to
the decoded (hashed) entry, so nothing outside it can make an entry appear or vanish. A
period filter stops the scan once it passes the period's start: entry times rise with
their index (each is stamped as it is queued, and queued entries commit in order).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from veil.store.schema import audit_entries

CHUNK = 2_000


def newest_first(conn: Connection, chunk: int = CHUNK) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, entry) from the newest entry back to the first."""
    c = audit_entries.c
    below: int | None = None
    while True:
        query = select(c.idx, c.entry).order_by(c.idx.desc()).limit(chunk)
        if below is not None:
            query = query.where(c.idx < below)
        rows = conn.execute(query).all()
        if not rows:
            return
        for idx, data in rows:
            yield int(idx), json.loads(bytes(data))
        below = int(rows[-1][0])


def entry_time(entry: Mapping[str, Any]) -> dt.datetime | None:
    text = entry.get("time")
    if not isinstance(text, str):
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class AccessFilter:
    """Which decisions oversight wants to see; empty fields match everything."""

    organisation: str = ""  # organisation id
    purpose: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 200

    def matches(self, entry: Mapping[str, Any]) -> bool:
        if entry.get("kind") != "disclosure":
            return False
        if self.organisation and entry.get("organisation") != self.organisation:
            return False
        return not (self.purpose and entry.get("purpose") != self.purpose)


def access_log(conn: Connection, wanted: AccessFilter) -> list[dict[str, Any]]:
    """Every decision (allowed or refused) that `wanted` matches, newest first."""
    found: list[dict[str, Any]] = []
    for idx, entry in newest_first(conn):
        when = entry_time(entry)
        if wanted.since is not None and when is not None and when < wanted.since:
            break
        if wanted.until is not None and when is not None and when >= wanted.until:
            continue
        if wanted.matches(entry):
            found.append({"index": idx, **entry})
            if len(found) >= wanted.limit:
                break
    return found


def latest(conn: Connection, test: Callable[[Mapping[str, Any]], bool]) -> dict[str, Any] | None:
    """The newest entry that passes `test`, with its index."""
    for idx, entry in newest_first(conn):
        if test(entry):
            return {"index": idx, **entry}
    return None
