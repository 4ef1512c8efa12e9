"""Certificates (SPEC section 5; MPS Provisions on criminal record inquiries (2021)).

A criminal record is an effective court judgment of guilt (art. 2): administrative
violations, non-prosecution and sealed juvenile records never count, and a person whose
only records are sealed gets exactly what a person with no record gets.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from veil.certificates.document import Content, public_key_of, render, sign, verify
from veil.certificates.issue import issue
from veil.disclosure.door import Refused, Requester
from veil.disclosure.organisations import org_entity
from veil.disclosure.pdp import Entity
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
    page_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for field in (
        content.id_number,
        content.serial,
        content.code,
        content.issued_at,
        content.valid_until,
    ):
        page_text = page_text.replace(field, "<field>")
    return re.sub(r"\s+", "", page_text)


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
    from fastapi.testclient import TestClient

    from veil.api import create_app

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
    page = client.get("/certificates/verify", params={"code": issued.content.code}).text
    assert "Genuine" in page and NAME not in page
    hostile = client.get("/certificates/verify", params={"code": "<script>x</script>"}).text
    assert "<script>x" not in hostile and "Not genuine" in hostile
    with setup.home.engine.connect() as conn:
        checks = [
            bytes(r[0]).decode()
            for r in conn.execute(text("SELECT entry FROM audit_entries ORDER BY idx"))
            if b'"certificate_check"' in bytes(r[0])
        ]
    assert len(checks) == 4  # every check, by API or page, is in the ledger
