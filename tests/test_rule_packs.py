"""Rule packs are data: a schema checks them, and a new pack needs no engine change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from veil.records.catalogue import Catalogue
from veil.sealing.compile import changes_sql
from veil.sealing.pack import (
    PackError,
    RuleSet,
    json_schema,
    load_pack,
    load_ruleset,
    shipped_pack_paths,
)

from .sealing_helpers import D, decide, rec

CLEAN_SLATE = Path(__file__).parent / "packs" / "clean-slate-7y.yaml"


@pytest.fixture(scope="module")
def clean_slate(catalogue: Catalogue):  # type: ignore[no-untyped-def]
    return load_ruleset(catalogue, [CLEAN_SLATE])


def test_shipped_packs_cite_a_statute_and_article_for_every_rule_and_parameter(
    catalogue: Catalogue,
) -> None:
    for path in shipped_pack_paths():
        pack = load_pack(path, catalogue)
        assert pack.rules
        for rule in pack.rules:
            assert rule.article and rule.statute_zh and rule.statute_en
            assert rule.explanation_zh and rule.explanation_en
        assert all(p.article for p in pack.spec.parameters.values())


def test_clean_slate_seals_a_lesser_conviction_after_seven_years(
    clean_slate, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    theft = rec(1, sentence_months=24, completion_date=D("2018-01-10"))
    assert decide(clean_slate, [theft], D("2025-01-09"), tmp_path)[1].state == "open"
    decision = decide(clean_slate, [theft], D("2025-01-10"), tmp_path)[1]
    assert (decision.state, decision.rule_id) == ("sealed", "test-clean-slate-seal")


def test_clean_slate_leaves_excluded_categories_and_longer_sentences_open(
    clean_slate, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    records = [
        rec(1, offence_code="CL-237-INDECENT-ASSAULT", completion_date=D("2010-01-01")),
        rec(2, person=2, offence_code="CL-240-TRAFFICKING", completion_date=D("2010-01-01")),
        rec(3, person=3, sentence_months=37, completion_date=D("2010-01-01")),
    ]
    decisions = decide(clean_slate, records, D("2026-11-24"), tmp_path)
    assert {d.state for d in decisions.values()} == {"open"}


def test_clean_slate_is_blocked_by_a_new_conviction_or_an_outstanding_fine(
    clean_slate, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    old = rec(1, completion_date=D("2012-01-01"))
    new_conviction = rec(
        2,
        offence_code="CL-292-AFFRAY",
        offence_date=D("2020-01-01"),
        decision_date=D("2020-06-01"),
        completion_date=D("2020-12-01"),
    )
    decisions = decide(clean_slate, [old, new_conviction], D("2026-11-24"), tmp_path)
    assert decisions[1].state == "open"
    unpaid = rec(
        3,
        person=2,
        kind="admin_violation",
        offence_code="PSAPL-49-THEFT",
        disposition="fine",
        sentence_months=None,
        fine_yuan=300,
        completion_date=None,
        offence_date=D("2019-01-01"),
        decision_date=D("2019-02-01"),
    )
    decisions = decide(
        clean_slate,
        [rec(4, person=2, completion_date=D("2012-01-01")), unpaid],
        D("2025-12-31"),
        tmp_path,
    )
    assert decisions[4].state == "open"


def test_higher_precedence_pack_rule_wins_over_the_clean_slate(clean_slate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A minor's record unsealed under Measures art. 18 stays unsealed after seven years.
    sealed = rec(1, age_at_offence=16, sentence_months=30, completion_date=D("2012-01-01"))
    retrial = rec(
        2,
        age_at_offence=16,
        sentence_months=70,
        decision_date=D("2016-01-01"),
        completion_date=D("2017-01-01"),
    )
    decisions = decide(clean_slate, [sealed, retrial], D("2026-11-24"), tmp_path)
    assert decisions[1].rule_id == "cpl-286-unseal-retrial"


def _write(tmp_path: Path, pack: dict[str, object]) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(pack, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _pack(**changes: object) -> dict[str, object]:
    pack = yaml.safe_load(CLEAN_SLATE.read_text(encoding="utf-8"))
    pack.update(changes)
    return pack


def _rule(when: str, **changes: object) -> list[dict[str, object]]:
    rule = _pack()["rules"][0]  # type: ignore[index]
    return [{**rule, "when": when, **changes}]


def test_a_rule_reading_only_a_person_fact_is_swept_as_the_row_evaluator_decides(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """With no other test to narrow them, every effective record is a candidate for the
    person facts: the compiled sweep then joins them onto every record (the path that
    `_Compiler.decide` takes apart from the narrowed one)."""
    pack = _pack(rules=_rule("record.convicted_since"))
    ruleset = load_ruleset(catalogue, [_write(tmp_path, pack)])
    first = rec(1, completion_date=D("2012-01-01"))
    later = rec(2, offence_code="CL-292-AFFRAY", decision_date=D("2020-06-01"))
    revoked = rec(3, status="revoked", decision_date=D("2010-01-01"))
    decisions = decide(ruleset, [first, later, revoked], D("2026-11-24"), tmp_path)
    assert decisions[1].rule_id == "test-clean-slate-seal"
    assert decisions[2].state == "open"
    assert decisions[3].state == "purged"


def _swept_apart_by_kind(ruleset: RuleSet) -> bool:
    """Whether DuckDB's compiled sweep decides the kinds no candidate has on their own."""
    return '"kind" IS NULL' in changes_sql(ruleset, D("2026-11-24"), "duckdb", compact=True)


def test_candidates_of_a_kind_leave_the_other_kinds_to_the_one_pass(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """A rule reading a person fact for administrative violations only (`record.kind ==`
    among its tests): on DuckDB the records of every other kind skip its guard."""
    when = (
        "record.kind == 'admin_violation' and record.age_at_offence < 18"
        " and not record.convicted_since"
    )
    # Above PSAPL art. 136's seal (precedence 100), which would decide these records first.
    pack = _pack(rules=_rule(when, precedence=150))
    ruleset = load_ruleset(catalogue, [_write(tmp_path, pack)])
    assert _swept_apart_by_kind(ruleset)
    young = {"kind": "admin_violation", "offence_code": "PSAPL-49-THEFT", "disposition": "fine"}
    records = [
        rec(1, age_at_offence=16, sentence_months=None, fine_yuan=200, **young),
        rec(2, person=2, age_at_offence=16, sentence_months=None, fine_yuan=200, **young),
        rec(3, person=2, offence_code="CL-292-AFFRAY", decision_date=D("2021-06-01")),
        rec(
            4,
            person=3,
            kind="drug_registration",
            offence_code="ADL-62-DRUG-USE",
            disposition="registration",
        ),
    ]
    decisions = decide(ruleset, records, D("2026-11-24"), tmp_path)
    assert decisions[1].rule_id == "test-clean-slate-seal"
    assert decisions[2].rule_id != "test-clean-slate-seal"  # a later conviction


def test_candidates_of_any_kind_are_decided_in_one_pass_with_the_guard(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """Without `record.kind ==` among the rule's tests, any kind may be a candidate: the
    one pass asks the guard of every record."""
    when = "record.age_at_offence < 18 and not record.convicted_since"
    ruleset = load_ruleset(catalogue, [_write(tmp_path, _pack(rules=_rule(when, precedence=150)))])
    assert not _swept_apart_by_kind(ruleset)
    assert _swept_apart_by_kind(load_ruleset(catalogue))  # the shipped packs': crimes only
    records = [
        rec(
            1,
            kind="admin_violation",
            offence_code="PSAPL-49-THEFT",
            disposition="fine",
            sentence_months=None,
            fine_yuan=200,
            age_at_offence=16,
        ),
        rec(2, person=2, age_at_offence=16, sentence_months=6),
    ]
    decisions = decide(ruleset, records, D("2026-11-24"), tmp_path)
    assert decisions[1].rule_id == "test-clean-slate-seal"


@pytest.mark.parametrize(
    ("pack", "message"),
    [
        (_pack(rules=[]), "rule pack schema"),
        (_pack(surprise=1), "rule pack schema"),
        (_pack(rules=_rule("record.kind == 'criminal'", effect="delete")), "rule pack schema"),
        (_pack(rules=_rule("record.kind == 'criminal'", id="Bad Id")), "rule pack schema"),
        (_pack(rules=_rule("record.name == 'x'")), "unknown field record.name"),
        (_pack(rules=_rule("__import__('os').system('true')")), "unsupported"),
        (_pack(rules=_rule("record.kind.__class__ == 1")), "unsupported attribute"),
        (_pack(rules=_rule("other.kind == 'criminal'")), "inside sum() or any()"),
        (_pack(rules=_rule("record.kind ==")), "not a valid expression"),
        (_pack(rules=_rule("'nope' in record.categories")), "unknown category"),
        (_pack(rules=_rule("record.offence_date < date('2026-13-01')")), "bad date"),
        (_pack(rules=_rule("sum(other.term for other in others) > 1")), "person_facts"),
        (_pack(rules=_rule("record.kind == 'criminal'", precedence=100)), "share a precedence"),
        (_pack(pack="cn-psapl-2025"), "loaded twice"),
    ],
)
def test_bad_packs_are_refused_with_a_reason(
    catalogue: Catalogue, tmp_path: Path, pack: dict[str, object], message: str
) -> None:
    with pytest.raises(PackError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_ruleset(catalogue, [_write(tmp_path, pack)])


def test_unreadable_pack_file_is_refused(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_bytes(b"\xff\xfe: [")
    with pytest.raises(PackError, match="cannot be read"):
        load_ruleset(catalogue, [path])


def test_json_schema_describes_the_pack_file() -> None:
    schema = json_schema()
    assert set(schema["required"]) >= {"pack", "version", "statute", "statutes", "rules"}
    json.dumps(schema)


def test_spark_is_one_more_dialect_of_the_same_compiled_sweep(clean_slate) -> None:  # type: ignore[no-untyped-def]
    """No Spark engine is wired in yet; the query it would run already compiles."""
    from veil.sealing.compile import DIALECTS, changes_sql

    assert "pyspark" in DIALECTS
    sql = changes_sql(clean_slate, D("2026-11-24"), "pyspark")
    assert "`records`" in sql and "`seal_states`" in sql
