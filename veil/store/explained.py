"""A record's seal state explained, as `veil seal explain` and the bureau's page show it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from veil.sealing.evaluate import Evaluator
from veil.sealing.explain import explain
from veil.sealing.pack import RuleSet
from veil.store.seals import facts_of_persons, facts_of_record, history


def explain_record(
    conn: Connection, rules: RuleSet, source: str, record_id: str, lang: str, today: dt.date
) -> dict[str, Any] | None:
    """The `veil seal explain --json` object for SOURCE:RECORD_ID, or None if not stored.

    Adds `today`: what the row evaluator decides today from the person's records as they
    stand, when that differs from the stored state (the next sweep will record it).
    """
    facts = facts_of_record(conn, source, record_id)
    if facts is None:
        return None
    summary = explain(history(conn, facts.pk), rules, lang)
    (person,) = [g for group in facts_of_persons(conn, [facts.person_id]) for g in group]
    decided = Evaluator(rules).evaluate_person(person, today).get(facts.pk)
    summary["today"] = None
    if decided is not None and (decided.state, decided.rule_id) != (
        summary["state"],
        summary["rule"],
    ):
        summary["today"] = {"state": decided.state, "rule": decided.rule_id}
    return summary
