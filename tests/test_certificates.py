"""Certificates (SPEC section 5; MPS Provisions on criminal record inquiries (2021)).

A criminal record is an effective court judgment of guilt (art. 2): administrative
violations, non-prosecution and sealed juvenile records never count, and a person whose
only records are sealed gets exactly what a person with no record gets.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text

from veil.api import create_app
from veil.certificates.document import Content, public_key_of, render, sign, verify
from veil.certificates.issue import Issued, issue, issue_letter
from veil.disclosure.door import DisclosureRequest, Refused, Requester
from veil.disclosure.identity import DemoIdentity
from veil.disclosure.organisations import org_entity
from veil.disclosure.pdp import Entity
from veil.ledger.log import LedgerUnavailable
from veil.records.idnumber import with_check_digit

from .cli_helpers import veil
from .disclosure_helpers import ABSENT, OPEN, OTHER, SEALED, Installation, installation
from .factories import good_row

NON_PROSECUTED = with_check_digit("11010519750606001")
ADMIN_ONLY = with_check_digit("11010519760707001")
NAME = "王芳"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    extra = [
        good_row(
            record_id="N-1",
            id_number=NON_PROSECUTED,
            birth_date="1975-06-06",
            kind="criminal",
            offence_code="CL-264-THEFT",
            disposition="non_prosecution",
            detention_days="",
        ),
        # An administrative violation from 2024: a record, but not a criminal one.
        good_row(record_id="A-1", id_number=ADMIN_ONLY, birth_date="1976-07-07"),
    ]
    installed = installation(tmp_path_factory.mktemp("certificates"), extra)
    yield installed
    installed.home.ledger.close()


def counter(id_number: str) -> Requester:
    """The records bureau's counter, whose clerk checked the applicant's identity card."""
    return Requester(
        entity=org_entity("records_bureau", "counter", "records_bureau", False),
        org_id="counter",
        org_type="records_bureau",
        verified_id=id_number,
    )


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        (ABSENT, "no_record_certificate"),
        (SEALED, "no_record_certificate"),  # sealed juvenile conviction: art. 6, CPL 286
        (NON_PROSECUTED, "no_record_certificate"),  # not a judgment of guilt: art. 2
        (ADMIN_ONLY, "no_record_certificate"),  # administrative violation: art. 2
        (OPEN, "cannot_issue_notice"),  # an effective judgment of guilt
        (OTHER, "cannot_issue_notice"),
    ],
)
def test_what_is_issued(setup: Installation, subject: str, kind: str) -> None:
    issued = issue(setup.home, counter(subject), subject, NAME, "zh", "t")
    assert issued.content.kind == kind
    assert verify(issued.pdf, public_key_of(setup.home.keys.certificate_signing_key())).genuine


def _text_without_fields(pdf: bytes, content: Content) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    # Whitespace first: a long line wraps, and a field may wrap with it.
    page_text = re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))
    for field in (
        content.id_number,
        content.serial,
        content.code,
        content.issued_at,
        content.valid_until,
    ):
        page_text = page_text.replace(re.sub(r"\s+", "", field), "<field>")
    return page_text


def _structure(pdf: bytes) -> tuple[object, ...]:
    reader = PdfReader(io.BytesIO(pdf))
    fonts = [
        sorted(str(f["/BaseFont"]) for f in page["/Resources"]["/Font"].values())
        for page in reader.pages
    ]
    return len(reader.pages), reader.trailer["/Size"], fonts


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sealed_only_looks_exactly_like_no_record(setup: Installation, lang: str) -> None:
    sealed = issue(setup.home, counter(SEALED), SEALED, NAME, lang, "t")
    absent = issue(setup.home, counter(ABSENT), ABSENT, NAME, lang, "t")
    assert _text_without_fields(sealed.pdf, sealed.content) == _text_without_fields(
        absent.pdf, absent.content
    )
    assert _structure(sealed.pdf) == _structure(absent.pdf)


def test_chinese_text_is_in_the_text_layer_and_renders(setup: Installation, tmp_path: Path) -> None:
    issued = issue(setup.home, counter(ABSENT), ABSENT, NAME, "zh", "t")
    page_text = PdfReader(io.BytesIO(issued.pdf)).pages[0].extract_text()
    assert "无犯罪记录证明" in page_text and NAME in page_text
    assert "本文书仅反映出具之时的记录情况" in page_text  # as of its issue time (SPEC 5)
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils is installed by `make test-deps`"
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(issued.pdf)
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-singlefile", str(pdf), str(tmp_path / "c")], check=True
    )
    png = (tmp_path / "c.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_any_change_makes_it_not_genuine(setup: Installation) -> None:
    key = setup.home.keys.certificate_signing_key()
    public = public_key_of(key)
    issued = issue(setup.home, counter(OPEN), OPEN, NAME, "en", "t")
    assert verify(issued.pdf, public).genuine
    # The visible text changed, the embedded content and signature kept.
    edited = issued.pdf.replace(b"cannot be issued", b"can now be issued")
    assert edited != issued.pdf and not verify(edited, public).genuine
    # The content changed and rendered again, the old signature kept.
    forged = replace(issued.content, kind="no_record_certificate")
    assert not verify(render(forged, sign(issued.content, key)), public).genuine
    # Signed by someone else.
    assert not verify(issued.pdf, public_key_of(b"\x01" * 32)).genuine
    # Not a certificate at all, or truncated.
    assert not verify(b"%PDF-1.4 nothing", public).genuine
    assert not verify(issued.pdf[: len(issued.pdf) // 2], public).genuine


def test_only_the_subject_or_the_bureau_counter_obtains_it(setup: Installation) -> None:
    own = Requester(entity=Entity("Subject", "x"), verified_id=OPEN)
    own = replace(
        own,
        entity=Entity("Subject", setup.home.door._audit_index.of(OPEN).hex()),
    )
    assert issue(setup.home, own, OPEN, NAME, "zh", "t").content.kind == "cannot_issue_notice"
    with pytest.raises(Refused):  # someone else's certificate with my identity
        issue(setup.home, own, SEALED, NAME, "zh", "t")
    employer = Requester(
        entity=org_entity("employer", "e", "employer", False), org_id="e", org_type="employer"
    )
    with pytest.raises(Refused):  # an employer learns only by verifying what it is given
        issue(setup.home, employer, SEALED, NAME, "zh", "t")
    with pytest.raises(Refused):  # the counter must have checked this applicant's card
        issue(setup.home, counter(OPEN), SEALED, NAME, "zh", "t")


def test_nothing_is_issued_when_the_ledger_cannot_record_it(
    setup: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write-ahead audit (SPEC 4 and 6): no durable entry, no certificate and no letter, and
    no code that would check as genuine."""

    def unwritable(*_: object, **__: object) -> int:
        raise LedgerUnavailable("the audit ledger could not be written: test")

    with setup.home.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM certificates")).scalar_one()
    monkeypatch.setattr(setup.home.ledger, "append", unwritable)
    with pytest.raises(LedgerUnavailable):
        issue(setup.home, counter(ABSENT), ABSENT, NAME, "zh", "t")
    with pytest.raises(LedgerUnavailable):
        letter(setup, "school", OPEN)
    with setup.home.engine.connect() as conn:
        after = conn.execute(text("SELECT count(*) FROM certificates")).scalar_one()
    assert after == before


def test_every_issue_is_in_the_ledger_without_the_id_number(setup: Installation) -> None:
    issued = issue(setup.home, counter(SEALED), SEALED, NAME, "zh", "t")
    with setup.home.engine.connect() as conn:
        last = bytes(
            conn.execute(
                text("SELECT entry FROM audit_entries ORDER BY idx DESC LIMIT 1")
            ).scalar_one()
        ).decode()
    assert issued.content.code in last and '"purpose":"certificate"' in last
    assert SEALED not in last and NAME not in last


def test_cli_issues_and_verifies_offline_with_the_public_key_alone(
    veil_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    veil("init", check=True)
    out = tmp_path / "cert.pdf"
    issued = veil(
        "certificate", "issue", "--subject", ABSENT, "--name", NAME, "--out", str(out), "--json"
    )
    assert issued.returncode == 0, issued.stderr
    key = veil("certificate", "key").stdout.strip()
    assert len(base64.b64decode(key)) == 32
    # Elsewhere: no installation, only the file and the published key.
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "elsewhere"))
    genuine = veil("certificate", "verify", str(out), "--key", key, "--json")
    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert '"genuine": true' in genuine.stdout
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(out.read_bytes().replace(b"/Author (Veil)", b"/Author (Evil)"))
    result = veil("certificate", "verify", str(tampered), "--key", key, "--json")
    assert result.returncode == 1 and result.stdout.strip() == '{\n  "genuine": false\n}'


def test_anyone_checks_a_code_online_and_learns_only_genuine_and_dates(
    setup: Installation,
) -> None:
    client = TestClient(create_app(setup.home))
    issued = issue(setup.home, counter(OPEN), OPEN, NAME, "zh", "t")
    answer = client.get(f"/api/v1/certificates/{issued.content.code}").json()
    assert answer == {
        "genuine": True,
        "issued_on": issued.content.issued_at[:10],
        "valid_until": issued.content.valid_until,
        "expired": False,
    }  # not the kind (a notice), not the name, not the ID number
    assert client.get("/api/v1/certificates/AAAA-BBBB-CCCC-DDDD").json() == {
        "genuine": False,
        "issued_on": None,
        "valid_until": None,
        "expired": None,
    }
    key = client.get("/api/v1/certificates/key").json()["public_key"]
    assert verify(issued.pdf, base64.b64decode(key)).genuine
    page = client.get("/certificates/verify", params={"code": issued.content.code, "lang": "en"})
    assert "Genuine" in page.text and NAME not in page.text
    hostile = client.get(
        "/certificates/verify", params={"code": "<script>x</script>", "lang": "en"}
    ).text
    assert "<script>x" not in hostile and "Not genuine" in hostile
    with setup.home.engine.connect() as conn:
        checks = [
            bytes(r[0]).decode()
            for r in conn.execute(text("SELECT entry FROM audit_entries ORDER BY idx"))
            if b'"certificate_check"' in bytes(r[0])
        ]
    assert len(checks) == 4  # every check, by API or page, is in the ledger


# --- unit query letters (MPS Provisions (2021) art. 7; Minors Protection Law art. 62) -----

LAWFUL = {
    "regulation": "cn-minors-protection-62",
    "consent_ref": "CONSENT-2026-0001",
    "post": "primary school teacher",
}


def unit(setup: Installation, org_type: str) -> Requester:
    found = setup.home.authenticator.requester(setup.tokens[org_type])
    assert found is not None
    return found


def letter(
    setup: Installation, org_type: str, subject: str, lang: str = "zh", **fields: str
) -> Issued:
    request = DisclosureRequest(id_number=subject, purpose="unit_letter", **{**LAWFUL, **fields})
    return issue_letter(setup.home, unit(setup, org_type), request, NAME, lang, "t")


@pytest.mark.parametrize(
    ("subject", "finding"),
    [
        (ABSENT, "none_found"),
        (SEALED, "none_found"),  # sealed juvenile records never appear: CPL art. 286
        (NON_PROSECUTED, "none_found"),  # art. 2: not a judgment of guilt
        (ADMIN_ONLY, "none_found"),  # art. 2: an administrative violation
        (OPEN, "found"),
        (OTHER, "found"),  # a letter counts every conviction, not the regulation's categories
    ],
)
def test_a_unit_with_a_lawful_basis_gets_a_letter(
    setup: Installation, subject: str, finding: str
) -> None:
    issued = letter(setup, "school", subject)
    assert (issued.content.kind, issued.content.finding) == ("unit_letter", finding)
    assert issued.content.unit == "A school" and issued.content.name == NAME
    assert verify(issued.pdf, public_key_of(setup.home.keys.certificate_signing_key())).genuine
    page_text = PdfReader(io.BytesIO(issued.pdf)).pages[0].extract_text()
    assert "犯罪记录查询告知函" in page_text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_letter_about_sealed_only_looks_exactly_like_one_about_no_record(
    setup: Installation, lang: str
) -> None:
    sealed = letter(setup, "kindergarten", SEALED, lang)
    absent = letter(setup, "kindergarten", ABSENT, lang)
    assert _text_without_fields(sealed.pdf, sealed.content) == _text_without_fields(
        absent.pdf, absent.content
    )
    assert _structure(sealed.pdf) == _structure(absent.pdf)


@pytest.mark.parametrize(
    ("org_type", "fields"),
    [
        ("employer", {}),  # no statutory basis to ask
        ("security_company", {}),  # a screening unit no regulation names
        ("public_security", {}),  # a case-handling organ asks through case_handling
        ("records_bureau", {}),
        ("school", {"consent_ref": ""}),  # without the person's consent
        ("school", {"post": " "}),  # without the post
        ("school", {"regulation": "no-such-regulation"}),
        ("training_institution", {"regulation": "cn-teacher-entry-query-2020"}),
    ],
)
def test_a_unit_without_a_lawful_basis_is_refused_and_the_refusal_is_in_the_ledger(
    setup: Installation, org_type: str, fields: dict[str, str]
) -> None:
    with setup.home.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one()
    for subject in (OPEN, ABSENT):
        with pytest.raises(Refused):
            letter(setup, org_type, subject, **fields)
    with setup.home.engine.connect() as conn:
        entries = [
            bytes(r[0]).decode()
            for r in conn.execute(
                text("SELECT entry FROM audit_entries WHERE idx >= :n ORDER BY idx"), {"n": before}
            )
        ]
    assert len(entries) == 2
    assert all('"decision":"deny"' in e and '"purpose":"unit_letter"' in e for e in entries)


def test_cli_issues_a_unit_letter_only_with_a_lawful_basis(veil_home: Path, tmp_path: Path) -> None:
    veil("init", check=True)
    school = veil("org", "create", "--name", "海淀一小", "--type", "school", "--json")
    employer = veil("org", "create", "--name", "某公司", "--type", "employer", "--json")
    out = tmp_path / "letter.pdf"
    args = ["certificate", "letter", "--subject", ABSENT, "--name", NAME, "--out", str(out)]
    lawful = [
        "--regulation", LAWFUL["regulation"],
        "--consent-ref", LAWFUL["consent_ref"],
        "--post", LAWFUL["post"],
    ]  # fmt: skip
    token = json.loads(school.stdout)["token"]
    issued = veil(*args, *lawful, "--token", token, "--json")
    assert issued.returncode == 0, issued.stderr
    assert json.loads(issued.stdout)["kind"] == "unit_letter"
    assert veil("certificate", "verify", str(out)).returncode == 0
    refused = veil(*args, *lawful, "--token", json.loads(employer.stdout)["token"])
    assert refused.returncode == 1 and "not permitted" in refused.stderr
    forged = veil(*args, *lawful, "--token", "veil_nobody_secret")
    assert forged.returncode == 1 and "not authenticated" in forged.stderr


# --- issuing over HTTP --------------------------------------------------------------------


def test_a_person_obtains_their_own_certificate_over_the_api(setup: Installation) -> None:
    client = TestClient(create_app(setup.home))
    identity = DemoIdentity(setup.home.keys)
    public = public_key_of(setup.home.keys.certificate_signing_key())
    documents = {}
    for subject in (SEALED, ABSENT):
        answer = client.post(
            "/api/v1/certificates",
            json={"subject": {"id_number": subject}, "name": NAME, "lang": "en"},
            headers={"Authorization": f"Bearer {identity.credential(subject)}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        verdict = verify(answer.content, public)
        assert verdict.genuine and verdict.content is not None
        assert verdict.content.code == answer.headers["veil-certificate-code"]
        documents[subject] = verdict.content
    assert documents[SEALED].kind == documents[ABSENT].kind == "no_record_certificate"
    # Someone else's, with my identity; no identity; an organisation's token.
    body = {"subject": {"id_number": OPEN}, "name": NAME}
    mine = {"Authorization": f"Bearer {identity.credential(ABSENT)}"}
    refused = client.post("/api/v1/certificates", json=body, headers=mine)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "This request is not permitted for certificate."
    assert client.post("/api/v1/certificates", json=body).status_code == 401
    bureau = {"Authorization": f"Bearer {setup.tokens['records_bureau']}"}
    assert client.post("/api/v1/certificates", json=body, headers=bureau).status_code == 403
    # A malformed body names the field, never echoes the value.
    bad = client.post(
        "/api/v1/certificates",
        json={"subject": {"id_number": "<script>"}, "name": ""},
        headers=mine,
    )
    assert bad.status_code == 422 and "<script>" not in bad.text
    assert "subject.id_number" in bad.json()["detail"] and "name" in bad.json()["detail"]


def test_a_unit_obtains_a_letter_over_the_api_only_with_a_lawful_basis(
    setup: Installation,
) -> None:
    client = TestClient(create_app(setup.home))
    body = {"subject": {"id_number": OPEN}, "name": NAME, **LAWFUL}
    school = {"Authorization": f"Bearer {setup.tokens['school']}"}
    answer = client.post("/api/v1/certificates/letters", json=body, headers=school)
    assert answer.status_code == 200, answer.text
    verdict = verify(answer.content, public_key_of(setup.home.keys.certificate_signing_key()))
    assert verdict.content is not None and verdict.content.finding == "found"
    employer = {"Authorization": f"Bearer {setup.tokens['employer']}"}
    refusals = [
        client.post("/api/v1/certificates/letters", json=body, headers=employer),
        client.post(
            "/api/v1/certificates/letters",
            json={**body, "subject": {"id_number": ABSENT}},
            headers=employer,
        ),
        client.post(
            "/api/v1/certificates/letters", json={**body, "consent_ref": ""}, headers=school
        ),
    ]
    assert {r.status_code for r in refusals} == {403}
    assert len({r.content for r in refusals}) == 1  # the same bytes whoever the subject is
    assert client.post("/api/v1/certificates/letters", json=body).status_code == 401
