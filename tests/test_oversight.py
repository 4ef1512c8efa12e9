"""Services behind the role pages: the bureau's record explanation, procuratorial
oversight of the access log (SPEC sections 1 and 6), and a unit's re-check list (Law on the
Protection of Minors art. 62: staff are re-checked every year). Each is decided by the
policies, and each look is in the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from veil.disclosure.door import DisclosureRequest, Refused, Requester
from veil.disclosure.rescreening import due_for_recheck
from veil.ledger.access import AccessFilter, newest_first
from veil.ledger.log import LedgerUnavailable

from .disclosure_helpers import ABSENT, OPEN, SEALED, Installation, installation

SCREENING = {
    "purpose": "statutory_screening",
    "regulation": "cn-minors-protection-62",
    "post": "teacher",
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    installed = installation(tmp_path_factory.mktemp("oversight"))
    yield installed
    installed.home.ledger.close()


def who(setup: Installation, org_type: str) -> Requester:
    found = setup.home.authenticator.requester(setup.tokens[org_type])
    assert found is not None
    return found


def newest(setup: Installation) -> dict[str, object]:
    with setup.home.engine.connect() as conn:
        return next(newest_first(conn))[1]


def test_the_bureau_reads_a_records_explanation_and_the_look_is_in_the_ledger(
    setup: Installation,
) -> None:
    """CPL art. 286: the sealed minor's record, explained with its article."""
    door = setup.home.door
    found = door.explain_record(who(setup, "records_bureau"), "110105-PSB", "S-1", "en", "r1")
    assert found is not None and found["state"] == "sealed" and found["article"]
    assert "name" not in str(found) and SEALED not in str(found)  # facts only
    entry = newest(setup)
    assert (entry["purpose"], entry["record"], entry["decision"]) == (
        "explain_record",
        "110105-PSB:S-1",
        "allow",
    )
    assert door.explain_record(who(setup, "records_bureau"), "x", "nope", "en", "r2") is None
    for org_type in ("school", "court", "procuratorate", "employer"):
        with pytest.raises(Refused):
            door.explain_record(who(setup, org_type), "110105-PSB", "S-1", "en", "r3")
        assert newest(setup)["decision"] == "deny"


def test_oversight_filters_the_access_log_and_is_itself_overseen(setup: Installation) -> None:
    door, oversight = setup.home.door, setup.home.oversight
    school, court = who(setup, "school"), who(setup, "court")
    door.disclose(school, DisclosureRequest(OPEN, consent_ref="C-1", **SCREENING), "look-school")
    door.disclose(
        court,
        DisclosureRequest(SEALED, "case_handling", case_number="K-1", legal_basis="CPL 286"),
        "look-court",
    )
    with pytest.raises(Refused):
        door.disclose(school, DisclosureRequest(ABSENT, "case_handling"), "look-refused")
    prosecutor = who(setup, "procuratorate")
    everything = oversight.access_log(prosecutor, AccessFilter(), "o1")
    assert {"look-school", "look-court", "look-refused"} <= {e["request_id"] for e in everything}
    assert newest(setup)["action"] == "review_access"
    by_school = oversight.access_log(prosecutor, AccessFilter(organisation=school.org_id), "o2")
    assert {e["request_id"] for e in by_school} >= {"look-school", "look-refused"}
    assert {e["organisation"] for e in by_school} == {school.org_id}
    assert "look-court" not in {e["request_id"] for e in by_school}
    refused_reason = next(e for e in by_school if e["request_id"] == "look-refused")
    assert (refused_reason["decision"], refused_reason["policies"]) == ("deny", [])
    cases = oversight.access_log(prosecutor, AccessFilter(purpose="case_handling"), "o3")
    assert {e["request_id"] for e in cases} >= {"look-court", "look-refused"}
    assert all(e["purpose"] == "case_handling" for e in cases)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert oversight.access_log(prosecutor, AccessFilter(since=later), "o4") == []
    assert oversight.access_log(prosecutor, AccessFilter(until=later, limit=1), "o5")
    for org_type in ("school", "court", "records_bureau", "public_security"):
        with pytest.raises(Refused):  # oversight is the procuratorate's
            oversight.access_log(who(setup, org_type), AccessFilter(), "o6")
        assert newest(setup)["decision"] == "deny"


def test_ledger_status_shows_the_last_verification(setup: Installation) -> None:
    oversight, prosecutor = setup.home.oversight, who(setup, "procuratorate")
    report = oversight.verify(prosecutor, "v1")
    assert report.ok
    status = oversight.status(prosecutor, "s1")
    last = status["last_verification"]
    assert last is not None and (last["ok"], last["size"]) == (True, report.size)
    assert status["size"] > report.size and status["checkpoint"].startswith("veil.local/audit")
    with pytest.raises(Refused):
        oversight.status(who(setup, "school"), "s2")


def test_a_unit_sees_whom_it_must_re_check_each_year(setup: Installation) -> None:
    """Law on the Protection of Minors art. 62: yearly re-checks (rescreen_years: 1)."""
    kindergarten = who(setup, "kindergarten")
    for consent, subject in (("K-CONSENT-1", OPEN), ("K-CONSENT-2", ABSENT)):
        setup.home.door.disclose(
            kindergarten, DisclosureRequest(subject, consent_ref=consent, **SCREENING), "k"
        )
    regulations = setup.home.disclosure.regulations
    today = dt.date.today()
    with setup.home.engine.connect() as conn:
        now = due_for_recheck(conn, kindergarten.org_id or "", regulations, today)
        next_year = due_for_recheck(
            conn, kindergarten.org_id or "", regulations, today + dt.timedelta(days=366)
        )
        other = due_for_recheck(conn, who(setup, "school").org_id or "", regulations, today)
    assert [r["consent_ref"] for r in now] == ["K-CONSENT-1", "K-CONSENT-2"]
    assert {r["due"] for r in now} == {"later"}
    assert now[0]["due_on"] - now[0]["checked_on"] in (
        dt.timedelta(days=365),
        dt.timedelta(days=366),
    )
    assert {r["due"] for r in next_year} == {"overdue"}
    assert "K-CONSENT-1" not in {r["consent_ref"] for r in other}


def test_nothing_is_shown_when_the_ledger_cannot_record_the_look(
    setup: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write-ahead audit (SPEC 6): a record explanation and a look at the access log each
    fail closed when their entry cannot be written."""

    def unwritable(*_: object, **__: object) -> int:
        raise LedgerUnavailable("the audit ledger could not be written: test")

    monkeypatch.setattr(setup.home.ledger, "append", unwritable)
    with pytest.raises(LedgerUnavailable):
        setup.home.door.explain_record(
            who(setup, "records_bureau"), "110105-PSB", "S-1", "en", "w1"
        )
    with pytest.raises(LedgerUnavailable):
        setup.home.oversight.access_log(who(setup, "procuratorate"), AccessFilter(), "w2")
    with pytest.raises(LedgerUnavailable):
        setup.home.oversight.status(who(setup, "procuratorate"), "w3")
