"""Seal runs against the ledger: the history of each recorded run is still what it was.

Every seal run (a sweep, or the decisions of an ingest batch) is recorded in the ledger
with the count and SHA-256 of its events (`veil.store.seals.events_digest`). Recomputing
them finds any event of a recorded run modified, deleted or added since.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection

from veil.ledger.sql import entry_chunks
from veil.store.seals import events_digest

MARK = b'"seal_run":'
CHUNK = 10_000


def seal_run_problems(conn: Connection, size: int) -> tuple[int, list[str]]:
    """(runs checked, problems) for every ledger entry among the first `size` that records
    a seal run."""
    checked, problems, index = 0, [], 0
    for chunk in entry_chunks(conn, 0, size, CHUNK):
        for data in chunk:
            if MARK in data:
                run = json.loads(data).get("seal_run")
                if isinstance(run, dict):
                    checked += 1
                    count, digest = events_digest(conn, int(run["id"]))
                    if (count, digest) != (run.get("events"), run.get("sha256")):
                        problems.append(
                            f"entry {index}: seal run {run['id']} now has {count} events "
                            f"(sha256 {digest}); the ledger recorded {run.get('events')} "
                            f"(sha256 {run.get('sha256')})"
                        )
            index += 1
    return checked, problems
