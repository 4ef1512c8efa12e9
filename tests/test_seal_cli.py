"""The command-line contracts of the sealing issue: `veil seal` and `veil rules`."""

from __future__ import annotations

import json
from pathlib import Path

from .cli_helpers import veil, veil_json
from .factories import good_row
from .test_cli import write_csv

CLEAN_SLATE = Path(__file__).parent / "packs" / "clean-slate-7y.yaml"


def _loaded(tmp_path: Path) -> None:
    veil("init", check=True)
    rows = [good_row(), good_row(record_id="2024-0002", status="revoked")]
    veil("ingest", str(write_csv(tmp_path / "r.csv", rows)), check=True)


def test_seal_sweep_json_has_the_named_fields(veil_home: Path, tmp_path: Path) -> None:
    _loaded(tmp_path)
    result = veil_json("seal", "sweep", "--as-of", "2025-12-31")
    assert result == {
        "as_of": "2025-12-31",
        "evaluated": 2,
        "changes": {"open": 1},
        "incremental": False,
    }
    again = veil_json("seal", "sweep", "--as-of", "2026-01-01", "--engine", "duckdb")
    assert again == {
        "as_of": "2026-01-01",
        "evaluated": 2,
        "changes": {"psapl-136-seal": 1},
        "incremental": False,
    }
    # From there the date moves on without crossing a pack's date: the sweep continues.
    today = veil_json("seal", "sweep", "--engine", "sqlite")
    assert today["changes"] == {} and today["evaluated"] == 2 and today["incremental"] is True
    forced = veil_json("seal", "sweep", "--engine", "sqlite", "--full")
    assert forced["changes"] == {} and forced["evaluated"] == 2 and forced["incremental"] is False
    text = veil("seal", "sweep", "--as-of", "2025-06-01", check=True).stdout
    assert "Full sweep:" in text and "before the last sweep" in text


def test_seal_sweep_refuses_an_engine_the_store_is_not(veil_home: Path, tmp_path: Path) -> None:
    _loaded(tmp_path)
    result = veil_json("seal", "sweep", "--engine", "postgresql", expect=2)
    assert "the store is sqlite" in result["error"]
    assert veil("seal", "sweep", "--as-of", "2026-02-30").returncode == 2


def test_seal_explain_json_has_the_named_fields(veil_home: Path, tmp_path: Path) -> None:
    _loaded(tmp_path)
    veil("seal", "sweep", "--as-of", "2025-12-31", check=True)
    veil("seal", "sweep", "--as-of", "2026-11-24", check=True)
    result = veil_json("seal", "explain", "110105-PSB:2024-0001")
    assert {"state", "rule", "statute", "article", "explanation", "history"} <= set(result)
    assert (result["state"], result["rule"], result["article"]) == (
        "sealed",
        "psapl-136-seal",
        "136",
    )
    assert [h["state"] for h in result["history"]] == ["sealed", "open", "sealed"]
    assert [h["trigger"] for h in result["history"]] == ["ingest", "sweep", "sweep"]
    zh = veil_json("seal", "explain", "110105-PSB:2024-0001", "--lang", "zh")
    assert zh["statute"] == "中华人民共和国治安管理处罚法（2025年修订）"
    assert "封存" in zh["explanation"]
    assert result["today"] is None
    veil("seal", "sweep", "--as-of", "2025-12-31", check=True)
    due = veil_json("seal", "explain", "110105-PSB:2024-0001")
    assert due["state"] == "open" and due["today"] == {"state": "sealed", "rule": "psapl-136-seal"}
    purged = veil_json("seal", "explain", "110105-PSB:2024-0002")
    assert (purged["state"], purged["rule"]) == ("purged", "revoked")


def test_seal_explain_text_is_one_line_with_the_article_then_the_history(
    veil_home: Path, tmp_path: Path
) -> None:
    _loaded(tmp_path)
    out = veil("seal", "explain", "110105-PSB:2024-0001", check=True).stdout
    first = out.splitlines()[0]
    assert "sealed" in first and "psapl-136-seal" in first and "art. 136" in first
    assert "History" in out


def test_seal_explain_unknown_or_malformed_record(veil_home: Path, tmp_path: Path) -> None:
    _loaded(tmp_path)
    assert "no record" in veil_json("seal", "explain", "110105-PSB:nope", expect=1)["error"]
    assert veil_json("seal", "explain", "no-colon", expect=2)["error"]
    assert veil("seal", "explain", "110105-PSB:2024-0001", "--lang", "fr").returncode == 2


def test_rules_list_and_show_print_citations(veil_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    packs = veil_json("rules", "list")
    assert [p["id"] for p in packs] == ["cn-psapl-2025", "cn-cpl-286-minors"]
    rule = veil_json("rules", "show", "cpl-286-seal")
    assert rule["article"] == "286" and rule["statute_zh"] == "中华人民共和国刑事诉讼法"
    assert rule["explanation_en"] and rule["when"]
    pack = veil_json("rules", "show", "cn-cpl-286-minors")
    assert pack["parameters"]["max_months"] == {
        "value": 60,
        "article": "CPL art. 286 (被判处五年有期徒刑以下刑罚)",
    }
    assert veil_json("rules", "show", "nope", expect=1)["error"]
    text = veil("rules", "show", "psapl-136-seal", check=True).stdout
    assert "第136条" in text and "art. 136" in text
    assert json.loads(veil("rules", "schema", check=True).stdout)["title"] == "PackSpec"
    monkeypatch.setenv("VEIL_RULE_PACKS", str(CLEAN_SLATE))
    assert "test-clean-slate-7y" in [p["id"] for p in veil_json("rules", "list")]
