"""The command-line contracts of the audit ledger: `veil audit ...` (SPEC section 6).

The main path runs the real `veil` executable; error cases run in process (Typer's runner).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from veil.cli import app
from veil.home import Home
from veil.ledger.checkpoint import Verifier

from .cli_helpers import VEIL, veil, veil_json

PROOF_KEYS = {"leafIdx", "treeSize", "root", "leafHash", "proof"}
CONSISTENCY_KEYS = {"size1", "size2", "root1", "root2", "proof"}


def reference_root(entries: list[bytes]) -> bytes:
    """RFC 6962 MTH, written out plainly: what any third party would compute."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < len(entries):
        k *= 2
    left, right = reference_root(entries[:k]), reference_root(entries[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def logged(count: int) -> Home:
    """An initialised home whose ledger holds `count` entries."""
    home = Home()
    home.init()
    for n in range(count):
        subject = hashlib.sha256(str(n % 3).encode()).digest()
        home.ledger.append({"kind": "test", "n": n, "note": "查询"}, subject)
    home.ledger.close()
    return home


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["audit", *args])


def tamper(home: Home, sql: str) -> None:
    db = sqlite3.connect(home.settings.home / "veil.db")
    with db:
        db.execute(sql)
    db.close()


def test_verify_checkpoint_export_and_proofs_end_to_end(veil_home: Path, tmp_path: Path) -> None:
    logged(21)
    verified = veil_json("audit", "verify")
    assert set(verified) == {"ok", "size", "root", "problems"}
    assert (verified["ok"], verified["size"], verified["problems"]) == (True, 21, [])

    checkpoint = veil_json("audit", "checkpoint")
    assert set(checkpoint) == {"size", "root", "note", "verifier_key"}
    assert (checkpoint["size"], checkpoint["root"]) == (21, verified["root"])
    opened = Verifier.parse(checkpoint["verifier_key"]).open_checkpoint(checkpoint["note"])
    assert (opened.size, opened.root.hex()) == (21, verified["root"])
    assert veil("audit", "checkpoint", check=True).stdout == checkpoint["note"]

    exported = veil_json("audit", "export")
    assert set(exported) == {"entries"}
    entries = [base64.b64decode(e) for e in exported["entries"]]
    assert reference_root(entries).hex() == checkpoint["root"]
    assert json.loads(entries[4]) == json.loads(entries[4].decode())
    assert json.loads(entries[4])["n"] == 4

    proof = json.loads(veil("audit", "proof", "--index", "7", check=True).stdout)
    assert set(proof) == PROOF_KEYS and (proof["leafIdx"], proof["treeSize"]) == (7, 21)
    assert base64.b64decode(proof["root"]).hex() == checkpoint["root"]
    good = tmp_path / "inclusion.json"
    good.write_text(json.dumps(proof))
    assert veil("audit", "check-inclusion", str(good)).returncode == 0
    bad = tmp_path / "inclusion-tampered.json"
    bad.write_text(json.dumps({**proof, "leafIdx": 6}))
    assert veil("audit", "check-inclusion", str(bad)).returncode == 1

    # Straight from one command into the other, as `... | veil audit check-consistency -`.
    made = subprocess.run(
        [VEIL, "audit", "consistency", "--from", "5", "--to", "21"],
        capture_output=True,
        check=True,
    )
    checked = subprocess.run(
        [VEIL, "audit", "check-consistency", "-", "--json"],
        input=made.stdout,
        capture_output=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {"ok": True, "problems": []}


def test_proofs_have_the_conformance_shape_and_feed_the_checkers(
    veil_home: Path, tmp_path: Path
) -> None:
    logged(9)
    consistency = json.loads(run("consistency", "--from", "3", "--to", "9").stdout)
    assert set(consistency) == CONSISTENCY_KEYS
    assert (consistency["size1"], consistency["size2"]) == (3, 9)
    path = tmp_path / "consistency.json"
    path.write_text(json.dumps(consistency))
    assert run("check-consistency", str(path)).exit_code == 0
    path.write_text(json.dumps({**consistency, "root1": consistency["root2"]}))
    result = run("check-consistency", str(path), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "ok": False,
        "problems": ["the proof does not lead to root1"],
    }
    default = json.loads(run("proof", "--index", "0").stdout)
    assert default["treeSize"] == 9  # the latest checkpoint's size


def test_export_without_json_prints_each_entrys_exact_bytes_on_a_line(veil_home: Path) -> None:
    logged(4)
    lines = run("export").stdout_bytes.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 5
    entries = [base64.b64decode(e) for e in json.loads(run("export", "--json").stdout)["entries"]]
    assert lines[:-1] == entries
    assert "查询".encode() in entries[0]  # UTF-8, not \\u escapes


def test_verify_exits_1_and_names_the_modified_entry(veil_home: Path) -> None:
    home = logged(6)
    # SQLite's replace() turns the blob into text: verify must cope with that too.
    tamper(
        home, """UPDATE audit_entries SET entry = replace(entry, '"n":2', '"n":9') WHERE idx = 2"""
    )
    result = run("verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"ok", "size", "root", "problems"} and report["ok"] is False
    assert "entry 2: its stored leaf hash is not its entry's" in report["problems"]
    text = run("verify")
    assert text.exit_code == 1 and "does NOT verify" in text.stdout and "entry 2" in text.stdout


def test_verify_subjects_holds_the_subject_index_column_to_the_entries(veil_home: Path) -> None:
    home = logged(6)
    tamper(home, "UPDATE audit_entries SET subject_index = NULL WHERE idx = 4")
    assert run("verify").exit_code == 0
    result = run("verify", "--subjects", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"] == [
        "entry 4: its subject index column is not its entry's"
    ]


def test_verify_against_a_checkpoint_kept_from_before_finds_removed_entries(
    veil_home: Path, tmp_path: Path
) -> None:
    home = logged(5)
    kept = tmp_path / "checkpoint.txt"
    kept.write_text(run("checkpoint").stdout)
    tamper(home, "DELETE FROM audit_entries WHERE idx = 4")
    tamper(home, "DELETE FROM audit_checkpoints WHERE size = 5")
    assert run("verify").exit_code == 0  # the shorter log is whole in itself
    result = run("verify", "--against", str(kept), "--json")
    assert result.exit_code == 1
    assert "entries were removed" in json.loads(result.stdout)["problems"][0]
    kept.write_text("not a note\n")
    assert run("verify", "--against", str(kept)).exit_code == 2


def test_an_empty_log_verifies_and_has_a_checkpoint_of_size_zero(veil_home: Path) -> None:
    logged(0)
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert json.loads(run("verify", "--json").stdout) == {
        "ok": True,
        "size": 0,
        "root": empty,
        "problems": [],
    }
    assert json.loads(run("checkpoint", "--json").stdout)["root"] == empty
    assert json.loads(run("export", "--json").stdout) == {"entries": []}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "a proof is a JSON object"),
        ('{"treeSize": 1, "root": "", "leafHash": "", "proof": []}', "leafIdx"),
        ('{"leafIdx": 0, "treeSize": 1, "root": "*", "leafHash": "", "proof": []}', "base64"),
        ('{"leafIdx": -1, "treeSize": 1, "root": "", "leafHash": "", "proof": []}', "leafIdx"),
        ('{"leafIdx": 0, "treeSize": 1, "root": "", "leafHash": "", "proof": 7}', "proof"),
    ],
)
def test_malformed_proof_files_get_a_clear_error_and_exit_2(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "proof.json"
    path.write_text(content)
    result = run("check-inclusion", str(path))
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # error lines wrap at the console's width
    assert message in output and "Traceback" not in output
    as_json = run("check-inclusion", str(path), "--json")
    assert as_json.exit_code == 2 and message in json.loads(as_json.stdout)["error"]


def test_a_malformed_proof_file_gives_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    path = tmp_path / "proof.json"
    path.write_text("{not json")
    result = veil("audit", "check-consistency", str(path))
    assert result.returncode == 2
    assert "is not JSON" in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert veil("audit", "check-consistency", str(tmp_path / "missing.json")).returncode == 2


def test_proofs_the_log_cannot_give_are_refused(veil_home: Path) -> None:
    logged(3)
    assert run("proof", "--index", "3").exit_code == 2
    assert run("proof", "--index", "0", "--size", "4").exit_code == 2
    assert run("consistency", "--from", "3", "--to", "2").exit_code == 2
    assert run("consistency", "--from", "0").exit_code == 2


def test_audit_commands_need_an_initialised_home(veil_home: Path) -> None:
    result = run("verify", "--json")
    assert result.exit_code == 2 and "veil init" in json.loads(result.stdout)["error"]
    assert run("checkpoint").exit_code == 2
