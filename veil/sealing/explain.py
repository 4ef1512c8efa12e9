"""Why a record is in its state: one or two lines with the article, then the history.

Built from the record's stored events and the rule packs' own texts, so the explanation
and the engine never drift apart (STYLE: rules carry their law).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from veil.sealing.pack import REVOKED, RuleSet

LANGS = ("zh", "en")
_FIXED = {
    REVOKED: {
        "zh": "原决定已被撤销，该记录不再用于任何目的。",
        "en": "The decision was revoked: the record no longer exists for any purpose.",
    },
    None: {
        "zh": "没有适用的封存规则，记录未封存。",
        "en": "No sealing rule applies: the record is open.",
    },
    "unevaluated": {
        "zh": "尚未评估；请运行 veil seal sweep。",
        "en": "Not evaluated yet; run `veil seal sweep`.",
    },
}


def explain(
    events: Sequence[Mapping[str, Any]], ruleset: RuleSet, lang: str = "en"
) -> dict[str, Any]:
    """The `veil seal explain --json` object for a record with these events (oldest first)."""
    history = [_entry(event, ruleset, lang) for event in events]
    if not history:
        return {
            "state": "open",
            "rule": None,
            "statute": None,
            "article": None,
            "explanation": _FIXED["unevaluated"][lang],
            "facts": {},
            "as_of": None,
            "history": [],
        }
    latest = history[-1]
    return {**{k: v for k, v in latest.items() if k != "recorded_at"}, "history": history}


def _entry(event: Mapping[str, Any], ruleset: RuleSet, lang: str) -> dict[str, Any]:
    rule_id = event["rule_id"]
    statute, explanation = event["statute"], None
    if rule_id in _FIXED:
        explanation = _FIXED[rule_id][lang]
    else:
        try:
            rule = ruleset.rule(rule_id)
        except KeyError:
            # A rule no longer in force: the event keeps the citation it was made under.
            explanation = f"{rule_id} ({event['statute']}, art. {event['article']})"
        else:
            statute, explanation = rule.statute(lang), rule.explanation(lang)
    as_of = event["as_of"]
    return {
        "state": event["state"],
        "rule": rule_id,
        "statute": statute,
        "article": event["article"],
        "explanation": explanation,
        "facts": json.loads(event["facts"]),
        "as_of": as_of if isinstance(as_of, str) else as_of.isoformat(),
        "trigger": event["trigger"],
        "recorded_at": _iso(event["started_at"]),
    }


def _iso(value: Any) -> str:
    if isinstance(value, str):
        return value
    text: str = value.isoformat()
    return text


def one_line(summary: Mapping[str, Any], lang: str) -> str:
    """`state — rule (statute, art. N), as of D.` for the text output."""
    state = str(summary["state"])
    if summary["rule"] in (None, REVOKED):
        head = state
    else:
        art = "第{}条".format(summary["article"]) if lang == "zh" else f"art. {summary['article']}"
        head = f"{state} — {summary['rule']} ({summary['statute']}, {art})"
    if summary["as_of"]:
        head += f", as of {summary['as_of']}"
    return head


def facts_line(facts: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={json.dumps(value)}" for name, value in facts.items())
