"""A screening unit's staff due for their periodic re-check (e.g. Minors Protection Law
art. 62: yearly), from the unit's own allowed checks in the ledger.

The ledger names each person by a keyed blind index only, so the list shows what the unit
itself gave with each check: its consent reference and the post. No records are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from veil.disclosure.catalogue import Regulation
from veil.ledger.access import entry_time, newest_first


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year + years, day=28)


def due_for_recheck(
    conn: Connection,
    organisation: str,
    regulations: Mapping[str, Regulation],
    today: dt.date,
    soon: int = 30,
) -> list[dict[str, Any]]:
    """Each person the unit last checked under a regulation with a re-check period, with
    when that check was and when the next is due; soonest first. `due` is "overdue",
    "soon" (within `soon` days) or "later"."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for _, entry in newest_first(conn):
        if (
            entry.get("kind") == "disclosure"
            and entry.get("purpose") == "statutory_screening"
            and entry.get("organisation") == organisation
            and entry.get("decision") == "allow"
        ):
            last.setdefault((entry.get("subject", ""), entry.get("regulation", "")), entry)
    rows = []
    for entry in last.values():
        regulation = regulations.get(entry.get("regulation", ""))
        checked = entry_time(entry)
        if regulation is None or regulation.rescreen_years is None or checked is None:
            continue
        due_on = _years_after(checked.date(), regulation.rescreen_years)
        rows.append(
            {
                "consent_ref": entry.get("consent_ref", ""),
                "post": entry.get("post", ""),
                "regulation": regulation.id,
                "checked_on": checked.date(),
                "due_on": due_on,
                "due": "overdue"
                if due_on <= today
                else ("soon" if (due_on - today).days <= soon else "later"),
            }
        )
    return sorted(rows, key=lambda r: (r["due_on"], r["consent_ref"]))
