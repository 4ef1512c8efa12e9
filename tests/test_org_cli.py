"""`veil org` and `veil disclose`: the operator's side of the door, through real processes."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from veil.api import create_app
from veil.home import Home

from .cli_helpers import veil, veil_json
from .disclosure_helpers import ABSENT


def test_org_create_prints_exactly_id_and_token(veil_home: Path) -> None:
    veil("init", check=True)
    created = veil_json("org", "create", "--name", "海淀区人民法院", "--type", "court")
    assert set(created) == {"id", "token"}
    assert created["id"].startswith("org-") and created["token"].startswith("veil_")
    listed = veil_json("org", "list")
    assert [(o["id"], o["name"], o["type"], o["revoked_at"]) for o in listed] == [
        (created["id"], "海淀区人民法院", "court", None)
    ]
    # The token is stored only as its hash.
    assert created["token"].encode() not in (veil_home / "veil.db").read_bytes()
    assert veil_json("org", "revoke", created["id"]) == {"id": created["id"], "revoked": True}
    assert veil_json("org", "revoke", created["id"], expect=1)["revoked"] is False
    assert veil_json("org", "list")[0]["revoked_at"] is not None


def test_org_create_refuses_an_unknown_type(veil_home: Path) -> None:
    veil("init", check=True)
    result = veil("org", "create", "--name", "X", "--type", "neighbour", "--json")
    assert result.returncode == 2
    assert "unknown organisation type" in json.loads(result.stdout)["error"]


def test_veil_disclose_answers_exactly_as_the_http_api(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    court = veil_json("org", "create", "--name", "A court", "--type", "court")["token"]
    employer = veil_json("org", "create", "--name", "A firm", "--type", "employer")["token"]
    request = {
        "subject": {"id_number": ABSENT},
        "purpose": "case_handling",
        "case_number": "C-1",
        "legal_basis": "CPL art. 286",
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    client = TestClient(create_app(Home()))
    for token, code in ((court, 0), (employer, 1), ("veil_forged_token", 1)):
        cli = veil("disclose", str(path), "--token", token)
        assert cli.returncode == code, cli.stderr
        http = client.post(
            "/api/v1/disclosures", json=request, headers={"Authorization": f"Bearer {token}"}
        )
        assert json.loads(cli.stdout) == http.json()
    Home().ledger.close()


def test_veil_disclose_rejects_a_malformed_request(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    path = tmp_path / "request.json"
    path.write_text('{"subject": {"id_number": "x"}, "purpose": 7, "extra": 1}')
    result = veil("disclose", str(path), "--token", "veil_x")
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert "subject.id_number" in error and "purpose" in error and "extra" in error
