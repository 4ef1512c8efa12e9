"""The command-line contracts named in the foundation issue: commands, flags, JSON, exit codes."""

from __future__ import annotations

import collections
import csv
import json
from pathlib import Path

import pytest

from .cli_helpers import veil, veil_json
from .factories import good_row

OFFENCE_FIELDS = {"code", "kind", "name_zh", "name_en", "statute", "article", "categories"}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(good_row()))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_offences_list_json_has_the_named_fields() -> None:
    offences = veil_json("offences", "list")
    assert len(offences) >= 40
    assert all(set(o) == OFFENCE_FIELDS for o in offences)
    assert {o["kind"] for o in offences} == {"admin_violation", "criminal"}
    names = " ".join(o["name_en"].lower() for o in offences)
    for needed in (
        "indecen",
        "rape",
        "indecent assault",
        "child molestation",
        "abuse",
        "trafficking",
        "intentional injury",
        "beating",
        "affray",
        "theft",
        "fraud",
        "gambling",
        "prostitution",
        "taking or injecting drugs",
        "possession",
        "dangerous driving",
    ):
        assert needed in names, needed


def test_ingest_json_reports_counts_and_exit_codes(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    clean = write_csv(tmp_path / "clean.csv", [good_row(record_id="A"), good_row(record_id="B")])
    assert veil_json("ingest", str(clean)) == {
        "accepted": 2,
        "unchanged": 0,
        "rejected": 0,
        "rejections": [],
    }
    dirty = write_csv(
        tmp_path / "dirty.csv", [good_row(record_id="A"), good_row(record_id="C", sex="F")]
    )
    report = veil_json("ingest", str(dirty), expect=1)
    assert report == {
        "accepted": 0,
        "unchanged": 1,
        "rejected": 1,
        "rejections": [
            {"line": 3, "column": "sex", "reason": "disagrees with the ID number's sequence code"}
        ],
    }


def test_init_is_idempotent(veil_home: Path) -> None:
    first = veil_json("init")
    second = veil_json("init")
    assert first["created_keys"] is True and second["created_keys"] is False
    assert second["revision"] == first["revision"]


def test_ingest_before_init_says_what_to_do(veil_home: Path, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "a.csv", [good_row()])
    result = veil("ingest", str(data))
    assert result.returncode == 2
    assert "veil init" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", "hello", "unknown file type"),
        ("missing.csv", None, "no such file"),
        ("short.csv", "source,record_id\n1,2\n", "missing columns"),
        ("empty.csv", "", "empty"),
        ("bad.parquet", "not parquet", "not a readable Parquet file"),
    ],
)
def test_unreadable_files_are_refused_whole_with_exit_2(
    veil_home: Path, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    veil("init", check=True)
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = veil("ingest", str(path), "--json")
    assert result.returncode == 2
    assert message in json.loads(result.stdout)["error"]
    assert veil_json("ingest", str(write_csv(tmp_path / "ok.csv", [good_row()])))["accepted"] == 1


def test_malformed_lines_are_rejected_with_their_line(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    path = tmp_path / "rows.jsonl"
    good = json.dumps(good_row(), ensure_ascii=False)
    other = json.dumps({**good_row(record_id="B"), "fine_yuan": None}, ensure_ascii=False)
    path.write_text(f"{good}\n{{not json\n[1, 2]\n{other}\n" + json.dumps({"x": 1}) + "\n")
    report = veil_json("ingest", str(path), expect=1)
    assert report["accepted"] == 2
    assert [(r["line"], r["column"]) for r in report["rejections"]] == [(2, ""), (3, ""), (5, "x")]
    csv_path = tmp_path / "rows.csv"
    write_csv(csv_path, [good_row(record_id="Z")])
    with csv_path.open("a", encoding="utf-8") as handle:
        handle.write("only,three,fields\n")
    report = veil_json("ingest", str(csv_path), expect=1)
    assert report["rejections"] == [
        {"line": 3, "column": "", "reason": "has 3 fields where the header has 17"}
    ]


def test_synth_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in ("a.csv", "b.csv", "c.csv"))
    for path, seed in ((a, "5"), (b, "5"), (c, "6")):
        veil("synth", "--persons", "30000", "--seed", seed, "--out", str(path), check=True)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_the_three_formats_carry_the_same_records(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    reports = []
    for suffix in ("csv", "jsonl", "parquet"):
        path = tmp_path / f"s.{suffix}"
        veil(
            "synth",
            "--persons",
            "30000",
            "--seed",
            "3",
            "--bad-rows",
            "0.05",
            "--out",
            str(path),
            check=True,
        )
        reports.append(veil_json("ingest", str(path), expect=1))
    csv_report, jsonl_report, parquet_report = reports
    assert csv_report["accepted"] > 1000
    # The second and third files hold the same records: nothing new, the same rejections.
    for later in (jsonl_report, parquet_report):
        assert later["accepted"] == 0
        assert later["unchanged"] == csv_report["accepted"]
        assert [r["column"] for r in later["rejections"]] == [
            r["column"] for r in csv_report["rejections"]
        ]


def test_every_deliberately_broken_row_is_rejected(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    path = tmp_path / "broken.csv"
    veil(
        "synth",
        "--persons",
        "20000",
        "--seed",
        "4",
        "--bad-rows",
        "1",
        "--out",
        str(path),
        check=True,
    )
    report = veil_json("ingest", str(path), expect=1)
    assert report["accepted"] == 0 and report["rejected"] > 500
    columns = {r["column"] for r in report["rejections"]}
    assert columns >= {
        "id_number",
        "birth_date",
        "sex",
        "offence_code",
        "decision_date",
        "completion_date",
        "offence_date",
        "detention_days",
        "fine_yuan",
        "disposition",
        "name",
        "alt_id",
        "status",
    }


def test_synthetic_population_follows_the_national_figures(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    persons = 1_000_000
    veil("synth", "--persons", str(persons), "--seed", "11", "--out", str(path), check=True)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    people = collections.Counter(r["id_number"] or r["alt_id"] for r in rows)
    share = len(people) / persons
    assert 0.027 < share < 0.033  # about 3% with some record (seed essay)
    drug_people = {
        r["id_number"]
        for r in rows
        if r["kind"] == "drug_registration" and r["decision_date"] >= "2023-07-01"
    }
    assert 3 / 10_000 < len(drug_people) / persons < 9 / 10_000  # ~5.4 current users per 10,000
    minors = sum(1 for r in rows if int(r["offence_date"][:4]) - int(r["birth_date"][:4]) < 18)
    assert minors / len(rows) > 0.02
    assert sum(1 for n in people.values() if n > 1) / len(people) > 0.15
    kinds = collections.Counter(r["kind"] for r in rows)
    assert set(kinds) == {"admin_violation", "criminal", "drug_registration"}
