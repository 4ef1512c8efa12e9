"""The person's own pages and the certificate check (issue 6), in Debian's Chromium against
a live server: my records with their seal state and why, who looked at them, my certificate;
anyone verifying a certificate by code or by file. Each is a ledger entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.dates import format_date
from playwright.sync_api import Page, expect

from veil.certificates.document import verify
from veil.certificates.issue import issue, public_key
from veil.disclosure.door import DisclosureRequest
from veil.disclosure.identity import DemoIdentity
from veil.ledger.access import newest_first
from veil.ledger.log import LedgerUnavailable

from .browser_helpers import axe_violations, screenshot
from .disclosure_helpers import ABSENT, OPEN, SEALED, Installation, served

CASE = "（2026）京0105刑初123号"


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    """The shared population, and a court that read SEALED's records for a case."""
    with served(tmp_path_factory.mktemp("web-subject")) as setup:
        court = setup.home.authenticator.requester(setup.tokens["court"])
        assert court is not None
        asked = DisclosureRequest(SEALED, "case_handling", case_number=CASE, legal_basis="CPL 286")
        setup.home.door.disclose(court, asked, "court-looked")
        yield setup


def sign_in(page: Page, field: str, credential: str) -> None:
    page.goto("/login")
    page.locator(f"#{field}").fill(credential)
    page.locator(f"form:has(#{field}) button[type=submit]").click()


def sign_in_as(page: Page, live_site: Installation, id_number: str) -> None:
    sign_in(page, "identity", DemoIdentity(live_site.home.keys).credential(id_number))


def ledger(live_site: Installation, kind: str = "disclosure") -> list[dict[str, object]]:
    """The ledger's entries of `kind`, newest first."""
    with live_site.home.engine.connect() as conn:
        return [entry for _, entry in newest_first(conn) if entry.get("kind") == kind]


def day(iso: str, locale: str) -> str:
    return format_date(dt.date.fromisoformat(iso), "long", locale=locale)


# --- my records ------------------------------------------------------------------------


def test_the_person_sees_sealed_records_with_their_reasons_and_the_court_that_looked(
    page: Page, live_site: Installation
) -> None:
    sign_in_as(page, live_site, SEALED)
    assert page.url == live_site.url + "/me"  # the subject's home
    expect(page.locator("h1")).to_have_text("我的记录")
    records = page.locator("section.record")
    expect(records).to_have_count(2)
    expect(records.locator(".seal-state")).to_have_text(["已封存", "已封存"])
    expect(records.first).to_contain_text("犯罪时不满十八周岁")  # CPL art. 286, in Chinese
    expect(records.first.locator("time[datetime='2022-09-01']")).to_have_text("2022年9月1日")
    looked = page.locator("#history ~ table tbody tr").filter(has_text="A court")
    expect(looked).to_have_count(1)
    for words in ("人民法院", "办案", "准予", CASE):
        expect(looked).to_contain_text(words)
    assert axe_violations(page) == []
    screenshot(page, "subject-records")

    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("My records")
    expect(records.locator(".seal-state")).to_have_text(["Sealed", "Sealed"])
    expect(records.first).to_contain_text("Committed under 18")
    expect(records.first.locator("time[datetime='2022-09-01']")).to_have_text("1 September 2022")
    for words in ("People's court", "case handling", "Allowed", CASE):
        expect(looked).to_contain_text(words)
    assert axe_violations(page) == []
    screenshot(page, "subject-records-en")
    # Each look at my records is a self-inquiry through the door, in the ledger.
    mine = [e for e in ledger(live_site) if e["purpose"] == "self_inquiry"]
    assert len(mine) == 2 and all(e["decision"] == "allow" for e in mine)
    assert SEALED not in str(mine)


def test_open_records_say_so_and_a_person_with_none_is_told_clearly(
    page: Page, live_site: Installation
) -> None:
    sign_in_as(page, live_site, OPEN)
    page.goto("/me?lang=en")
    expect(page.locator("section.record .seal-state")).to_have_text(["Not sealed"])
    expect(page.locator("section.record h3")).to_have_text(["Rape"])
    expect(page.locator("#history ~ .notice")).to_contain_text("No organisation has asked")
    page.context.clear_cookies()
    sign_in_as(page, live_site, ABSENT)
    expect(page.locator("section.record")).to_have_count(0)
    expect(page.locator("#records + .notice")).to_contain_text("档案部门没有保存关于您的任何记录")


def test_a_bad_credential_is_refused_at_sign_in(page: Page, live_site: Installation) -> None:
    forged = DemoIdentity(live_site.home.keys).credential(SEALED)[:-4] + "0000"
    sign_in(page, "identity", forged)
    expect(page.locator("#identity-error")).to_contain_text("身份核验未接受")
    page.goto("/me")
    assert page.url.startswith(live_site.url + "/login?next=")


def test_an_organisation_is_not_the_person_concerned(page: Page, live_site: Installation) -> None:
    sign_in(page, "token", live_site.tokens["court"])
    for path in ("/me", "/me/certificate"):
        answer = page.goto(path + "?lang=en")
        assert answer is not None and answer.status == 403
        expect(page.locator("h1")).to_have_text("Not permitted")


# --- my certificate --------------------------------------------------------------------


def test_the_person_downloads_a_certificate_that_verifies(
    page: Page, live_site: Installation, tmp_path: Path
) -> None:
    sign_in_as(page, live_site, SEALED)
    page.get_by_role("link", name="开具我的证明").click()
    expect(page.locator("h1")).to_have_text("我的证明")
    expect(page.locator("#what-it-says + ul")).to_contain_text("与没有任何记录的人完全相同")
    assert axe_violations(page) == []
    screenshot(page, "subject-certificate")

    page.get_by_role("button", name="下载我的证明（PDF）").click()  # no name: refused beside it
    expect(page.locator(".field:has(#name) #name-error")).to_contain_text("与身份证一致的姓名")
    assert page.locator("#name").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []

    page.locator("#name").fill("李明")
    page.get_by_label("English").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载我的证明（PDF）").click()
    saved = tmp_path / "certificate.pdf"
    download.value.save_as(saved)
    assert re.fullmatch(r"veil-\d{4}-\d{10}\.pdf", download.value.suggested_filename)
    verdict = verify(saved.read_bytes(), public_key(live_site.home))
    assert verdict.genuine and verdict.content is not None
    # Only sealed records: the certificate a person with none gets.
    assert (verdict.content.kind, verdict.content.lang) == ("no_record_certificate", "en")
    assert verdict.content.name == "李明"
    issued = ledger(live_site)[0]
    assert (issued["purpose"], issued["decision"]) == ("certificate", "allow")


# --- anyone verifies a certificate -----------------------------------------------------


@pytest.fixture(scope="module")
def certificate(live_site: Installation) -> bytes:
    """OPEN's own certificate (a notice: an effective conviction), as the API issues it."""
    home = live_site.home
    person = home.authenticator.requester(DemoIdentity(home.keys).credential(OPEN))
    assert person is not None
    return issue(home, person, OPEN, "王强", "zh", "issued-for-the-test").pdf


def code_of(pdf: bytes, live_site: Installation) -> tuple[str, str, str]:
    verdict = verify(pdf, public_key(live_site.home))
    assert verdict.content is not None
    content = verdict.content
    return content.code, content.issued_at[:10], content.valid_until


def test_anyone_verifies_a_code_and_learns_only_genuine_and_the_dates(
    page: Page, live_site: Installation, certificate: bytes
) -> None:
    code, issued_on, valid_until = code_of(certificate, live_site)
    page.goto("/certificates/verify")
    page.locator("#code").fill(code.lower())  # typed as it comes
    page.get_by_role("button", name="核验验证码").click()
    result = page.locator(".result")
    expect(result.locator(".verdict")).to_have_text("真实")
    expect(result).to_contain_text(
        f"出具于 {day(issued_on, 'zh_Hans_CN')}，有效期至 {day(valid_until, 'zh_Hans_CN')}"
    )
    expect(result).not_to_contain_text("王强")  # nor the kind: this one is a notice
    assert axe_violations(page) == []
    screenshot(page, "verify-genuine")
    page.goto(f"/certificates/verify?code={code}&lang=en")
    expect(result).to_contain_text(
        f"Issued on {day(issued_on, 'en_GB')}, valid until {day(valid_until, 'en_GB')}, "
        "for the person named on it."
    )
    expect(page.locator("pre")).to_contain_text("veil certificate verify FILE --key ")

    page.goto("/certificates/verify?lang=zh")
    page.locator("#code").fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_role("button", name="核验验证码").click()
    expect(result.locator(".verdict")).to_have_text("不是真实证明")
    expect(result).not_to_contain_text("出具于")
    assert axe_violations(page) == []
    screenshot(page, "verify-not-genuine")
    checks = ledger(live_site, "certificate_check")[:3]
    assert [(c["code"], c["genuine"]) for c in checks] == [
        ("AAAA-BBBB-CCCC-DDDD", False),
        (code, True),
        (code, True),
    ]


@pytest.mark.parametrize(
    ("name", "change", "genuine"),
    [
        ("as issued", lambda pdf: pdf, True),
        ("tampered", lambda pdf: pdf.replace(b"/Author (Veil)", b"/Author (Evil)"), False),
        ("garbage", lambda pdf: b"%PDF-1.7\nnot a certificate at all\n%%EOF", False),
        ("not a PDF", lambda pdf: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, False),
    ],
)
def test_anyone_verifies_an_uploaded_file(
    page: Page,
    live_site: Installation,
    certificate: bytes,
    name: str,
    change: object,
    genuine: bool,
) -> None:
    assert callable(change)
    data: bytes = change(certificate)
    page.goto("/certificates/verify?lang=en")
    page.locator("#certificate").set_input_files(
        files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": data}]
    )
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Check the file").click()
    assert posted.value.status == 200
    verdict = page.locator(".result .verdict")
    expect(verdict).to_have_text("Genuine" if genuine else "Not genuine")
    entry = ledger(live_site, "certificate_check")[0]
    assert (entry["method"], entry["genuine"]) == ("file", genuine)


def test_an_upload_without_a_file_is_an_error_beside_the_field(
    page: Page, live_site: Installation
) -> None:
    page.goto("/certificates/verify?lang=en")
    before = len(ledger(live_site, "certificate_check"))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Check the file").click()
    assert posted.value.status == 422
    expect(page.locator(".field:has(#certificate) #certificate-error")).to_have_text(
        "Error: Choose the certificate's PDF file."
    )
    assert page.locator("#certificate").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []
    assert len(ledger(live_site, "certificate_check")) == before  # nothing was checked


def test_nothing_is_shown_when_the_ledger_cannot_record_it(
    page: Page, live_site: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_as(page, live_site, SEALED)

    def unwritable(*_: object, **__: object) -> int:
        raise LedgerUnavailable("the audit ledger could not be written: test")

    monkeypatch.setattr(live_site.home.ledger, "append", unwritable)
    for path in ("/me?lang=en", "/certificates/verify?code=AAAA-BBBB-CCCC-DDDD"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 503
        expect(page.locator("main")).not_to_contain_text("Committed under 18")
    expect(page.locator("h1")).to_have_text("Temporarily unavailable")
