"""The screening unit's and the case-handling organ's pages (issue 6), in Debian's Chromium
against a live server: a consented check under a regulation and its answer, the query
letter, the re-check list, a court's reading of a sealed subject's records; refusals; and
every check made through the pages in the ledger (SPEC sections 4 and 6)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from veil.certificates.document import public_key_of, verify
from veil.ledger.access import entry_time
from veil.ledger.log import LedgerUnavailable

from .browser_helpers import (
    axe_violations,
    entries_since,
    field_error,
    last_index,
    screenshot,
    sign_in_with_token,
)
from .disclosure_helpers import ABSENT, OPEN, OTHER, SEALED, Installation

MINORS = "cn-minors-protection-62"
TEACHERS = "cn-teacher-entry-query-2020"


# --- helpers ----------------------------------------------------------------------------


def fill_check(page: Page, id_number: str, consent: str, post: str, regulation: str) -> None:
    page.locator("#id_number").fill(id_number)
    page.select_option("#regulation", regulation)
    page.locator("#consent_ref").fill(consent)
    page.locator("#post").fill(post)


def check(
    page: Page,
    id_number: str,
    *,
    consent: str = "CONSENT-2026-0001",
    post: str = "primary school teacher",
    regulation: str = MINORS,
    lang: str = "zh",
) -> int:
    """Submits the screening form; the response's status."""
    page.goto(f"/screening?lang={lang}")
    fill_check(page, id_number, consent, post, regulation)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("form[action='/screening'] button[type=submit]").click()
    return posted.value.status


def ask_case(page: Page, id_number: str, case_number: str, legal_basis: str) -> int:
    page.locator("#id_number").fill(id_number)
    page.locator("#case_number").fill(case_number)
    page.locator("#legal_basis").fill(legal_basis)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("form[action='/case'] button[type=submit]").click()
    return posted.value.status


# --- screening units ------------------------------------------------------------------


def test_a_school_checks_a_consenting_person_and_reads_a_match_with_offence_names_minors_62(
    page: Page, live_site: Installation
) -> None:
    home = live_site.home
    sign_in_with_token(page, live_site.tokens["school"])
    assert page.url == live_site.url + "/screening"  # the unit's home
    # Only the regulations that list a school, by title.
    options = page.locator("#regulation option:not([value=''])")
    expect(options).to_have_count(2)
    expect(page.locator(f"#regulation option[value='{MINORS}']")).to_have_text(
        home.disclosure.regulations[MINORS].title_zh
    )
    assert axe_violations(page) == []
    screenshot(page, "screening-check")

    mark = last_index(home)
    assert check(page, OPEN, consent="CONSENT-2026-0001") == 200
    answer = page.locator("#answer")
    expect(answer.locator(".verdict")).to_have_text(re.compile(r"^⚠\s*有匹配"))
    expect(answer).to_contain_text("强奸罪")
    expect(answer).to_contain_text("第 62 条")
    today = home.door.today()
    expect(answer.locator(f"time[datetime='{today.isoformat()}']")).to_have_text(
        f"{today.year}年{today.month}月{today.day}日"
    )
    assert axe_violations(page) == []
    screenshot(page, "screening-answer")

    (entry,) = entries_since(home, mark)
    assert entry["purpose"] == "statutory_screening"
    assert entry["decision"] == "allow"
    assert entry["organisation_name"] == "A school"
    assert (entry["regulation"], entry["consent_ref"], entry["post"]) == (
        MINORS,
        "CONSENT-2026-0001",
        "primary school teacher",
    )
    assert entry["disclosed"] == {"outcome": "match"}

    assert check(page, OPEN, lang="en") == 200
    expect(page.locator("#answer .verdict")).to_have_text(re.compile(r"^⚠\s*Match"))
    expect(page.locator("#answer")).to_contain_text("Rape")
    expect(page.locator("#answer")).to_contain_text(f"{today.day} {today:%B} {today.year}")
    assert axe_violations(page) == []
    screenshot(page, "screening-answer-en")


def test_a_sealed_persons_answer_reads_word_for_word_as_one_with_no_record_minors_62(
    page: Page, live_site: Installation
) -> None:
    """SPEC 4, indistinguishability and purpose limitation: SEALED's sealed indecent assault
    and OTHER's theft (out of scope) both answer exactly as ABSENT's nothing does."""
    sign_in_with_token(page, live_site.tokens["kindergarten"])
    answers = {}
    for name, id_number in (("sealed", SEALED), ("other", OTHER), ("absent", ABSENT)):
        assert check(page, id_number, consent=f"C-{name}") == 200
        answers[name] = page.locator("#answer").inner_text()
    assert answers["sealed"] == answers["absent"] == answers["other"]
    assert re.search(r"○\s*无匹配", answers["absent"])
    # Offence names appear only where the answer has them.
    assert "罪" not in answers["sealed"]


def test_a_check_without_consent_gets_the_error_beside_the_field_and_asks_nothing(
    page: Page, live_site: Installation
) -> None:
    home = live_site.home
    sign_in_with_token(page, live_site.tokens["school"])
    mark = last_index(home)
    assert check(page, OPEN, consent="") == 422
    assert field_error(page, "consent_ref").startswith("错误：")
    assert "同意" in field_error(page, "consent_ref")
    expect(page.locator(".error-summary a[href='#consent_ref']")).to_be_visible()
    assert page.locator("#id_number").input_value() == OPEN  # kept for the correction
    assert axe_violations(page) == []
    # A malformed ID number: the API's pattern, the same words in English.
    page.goto("/screening?lang=en")
    fill_check(page, "11010 5198", "C-1", "teacher", MINORS)
    page.locator("form[action='/screening'] button[type=submit]").click()
    assert "6 to 64 letters, digits or hyphens" in field_error(page, "id_number")
    assert entries_since(home, mark) == []  # nothing was asked of the door


def test_a_crafted_check_under_a_regulation_that_does_not_list_the_unit_is_refused(
    page: Page, live_site: Installation
) -> None:
    """Child care may ask under art. 62 only, not the teachers' entry query: the form does
    not offer it, and a crafted request is refused by the door, in the ledger, the same
    page whatever the person has."""
    home = live_site.home
    sign_in_with_token(page, live_site.tokens["child_care"])
    expect(page.locator(f"#regulation option[value='{TEACHERS}']")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.input_value()
    mark = last_index(home)
    bodies = []
    for id_number in (SEALED, ABSENT):
        response = page.request.post(
            "/screening",
            form={
                "csrf_token": token,
                "id_number": id_number,
                "regulation": TEACHERS,
                "consent_ref": "C-1",
                "post": "carer",
            },
        )
        assert response.status == 403
        bodies.append(response.body())
    assert bodies[0] == bodies[1]
    assert "不予准许" in bodies[0].decode()
    decisions = [(e["purpose"], e["decision"]) for e in entries_since(home, mark)]
    assert decisions == [("statutory_screening", "deny")] * 2


def test_the_recheck_list_shows_the_checks_made_due_a_year_later_minors_62_para_2(
    page: Page, live_site: Installation
) -> None:
    home = live_site.home
    sign_in_with_token(page, live_site.tokens["training_institution"])
    page.goto("/screening/rechecks")
    expect(page.locator(".notice")).to_contain_text("没有需要复查的人员")  # nothing checked yet
    mark = last_index(home)
    for consent, id_number in (("RECHECK-A", OPEN), ("RECHECK-B", ABSENT)):
        assert check(page, id_number, consent=consent, post="tutor") == 200
    checked = [entry_time(e) for e in entries_since(home, mark)]
    page.get_by_role("link", name="应当复查的员工").first.click()
    assert page.url == live_site.url + "/screening/rechecks"
    rows = page.locator("table.rechecks tbody tr")
    expect(rows).to_have_count(2)
    for row, consent, when in zip(rows.all(), ("RECHECK-A", "RECHECK-B"), checked, strict=True):
        assert when is not None
        day = when.date()
        due = day.replace(year=day.year + 1)
        expect(row.locator("th")).to_have_text(consent)
        expect(row.locator(f"time[datetime='{day.isoformat()}']")).to_have_text(
            f"{day.year}年{day.month}月{day.day}日"
        )
        expect(row.locator(f"time[datetime='{due.isoformat()}']")).to_have_text(
            f"{due.year}年{due.month}月{due.day}日"
        )
        expect(row.locator(".due-status")).to_have_text(re.compile(r"✓\s*尚未到期"))
    assert page.locator("table.rechecks caption").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "screening-rechecks")
    # "Check again" carries the check's details back into the form; the ID is asked anew.
    rows.first.get_by_role("link").click()
    assert page.locator("#consent_ref").input_value() == "RECHECK-A"
    assert page.locator("#regulation").input_value() == MINORS
    assert page.locator("#id_number").input_value() == ""


def test_a_school_downloads_a_signed_query_letter_for_the_person_it_checked(
    page: Page, live_site: Installation
) -> None:
    home = live_site.home
    sign_in_with_token(page, live_site.tokens["school"])
    assert check(page, OPEN, consent="LETTER-1") == 200
    # Without the name: the letter form again, the error beside the name.
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="下载告知函（PDF）").click()
    assert posted.value.status == 422
    assert "姓名" in field_error(page, "name")
    assert page.locator("#consent_ref").input_value() == "LETTER-1"
    assert axe_violations(page) == []

    mark = last_index(home)
    page.locator("#name").fill("王强")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="下载告知函（PDF）").click()
    download = downloading.value
    path = download.path()
    assert path is not None
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert re.fullmatch(r"veil-\d{4}-\d{10}\.pdf", download.suggested_filename)
    verdict = verify(pdf, public_key_of(home.keys.certificate_signing_key()))
    assert verdict.genuine
    assert verdict.content is not None
    assert (verdict.content.kind, verdict.content.name, verdict.content.unit) == (
        "unit_letter",
        "王强",
        "A school",
    )
    assert verdict.content.finding == "found"  # an effective rape conviction
    (entry,) = entries_since(home, mark)
    assert (entry["purpose"], entry["decision"]) == ("unit_letter", "allow")
    assert entry["certificate"]["code"] == verdict.content.code


def test_a_security_company_is_told_no_regulation_lets_it_ask(
    page: Page, live_site: Installation
) -> None:
    sign_in_with_token(page, live_site.tokens["security_company"])
    assert page.url == live_site.url + "/screening"
    expect(page.locator("h2", has_text="没有法规允许贵单位查询")).to_be_visible()
    expect(page.locator("main")).to_contain_text("保安服务公司")
    expect(page.locator("#id_number")).to_have_count(0)
    assert axe_violations(page) == []


def test_an_employer_opening_the_screening_or_case_pages_is_refused(
    page: Page, live_site: Installation
) -> None:
    sign_in_with_token(page, live_site.tokens["employer"])
    for path in ("/screening", "/screening/rechecks", "/case"):
        response = page.goto(path)
        assert response is not None and response.status == 403
        expect(page.locator("h1")).to_have_text("不予准许")
    page.goto("/screening?lang=en")
    expect(page.locator("h1")).to_have_text("Not permitted")


# --- case-handling organs -------------------------------------------------------------


def test_a_court_reads_a_sealed_subjects_records_with_the_confidentiality_notice_cpl_286(
    page: Page, live_site: Installation
) -> None:
    home = live_site.home
    notice = home.disclosure.confidentiality_notice
    sign_in_with_token(page, live_site.tokens["court"])
    assert page.url == live_site.url + "/case"
    expect(page.get_by_role("link", name="监督")).to_have_count(0)  # the procuratorate's
    mark = last_index(home)
    assert ask_case(page, SEALED, "（2026）京0105刑初1号", "刑事诉讼法第二百八十六条") == 200
    # The notice first, before the records.
    first = page.locator("main > h1 + section.confidentiality-notice")
    expect(first).to_contain_text(notice.zh)
    rows = page.locator("table.case-records tbody tr")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row.locator(".seal-state")).to_have_text("已封存")
    expect(page.locator("table.case-records")).to_contain_text("强制猥亵、侮辱罪")
    expect(page.locator("table.case-records")).to_contain_text("有期徒刑")
    expect(page.locator("time[datetime='2022-09-01']")).to_have_text("2022年9月1日")
    assert axe_violations(page) == []
    screenshot(page, "case-answer")
    (entry,) = entries_since(home, mark)
    assert (entry["purpose"], entry["decision"]) == ("case_handling", "allow")
    assert entry["case_number"] == "（2026）京0105刑初1号"
    assert entry["disclosed"] == {"records": 2, "sealed": 2, "confidentiality_obligation": True}

    page.goto("/case?lang=en")
    assert ask_case(page, SEALED, "(2026) Jing 0105 Xing Chu No. 1", "CPL art. 286") == 200
    expect(page.locator("section.confidentiality-notice")).to_contain_text(notice.en)
    expect(rows.first.locator(".seal-state")).to_have_text("Sealed")
    expect(page.locator("table.case-records")).to_contain_text("1 September 2022")
    assert axe_violations(page) == []
    screenshot(page, "case-answer-en")


def test_a_case_request_without_a_case_number_gets_the_error_beside_the_field(
    page: Page, live_site: Installation
) -> None:
    home = live_site.home
    sign_in_with_token(page, live_site.tokens["court"])
    mark = last_index(home)
    assert ask_case(page, SEALED, "", "刑事诉讼法第二百八十六条") == 422
    assert "案件编号" in field_error(page, "case_number")
    expect(page.locator(".field-error")).to_have_count(1)
    assert axe_violations(page) == []
    assert entries_since(home, mark) == []


def test_a_subject_with_no_records_reads_no_records_and_the_procuratorate_finds_oversight(
    page: Page, live_site: Installation
) -> None:
    sign_in_with_token(page, live_site.tokens["procuratorate"])
    expect(page.get_by_role("link", name="监督", exact=True)).to_have_attribute(
        "href", "/oversight"
    )
    assert ask_case(page, ABSENT, "检察-2026-7", "刑事诉讼法第二百八十六条") == 200
    expect(page.locator(".notice")).to_contain_text("无记录")
    expect(page.locator(".confidentiality-notice")).to_have_count(0)
    expect(page.locator("table.case-records")).to_have_count(0)


def test_an_open_record_is_marked_not_sealed_without_the_notice(
    page: Page, live_site: Installation
) -> None:
    sign_in_with_token(page, live_site.tokens["public_security"])
    page.goto("/case?lang=en")
    assert ask_case(page, OPEN, "K-2026-8", "CPL art. 286") == 200
    expect(page.locator(".seal-state")).to_have_text("Not sealed")
    expect(page.locator(".confidentiality-notice")).to_have_count(0)


def test_when_the_ledger_cannot_be_written_nothing_is_disclosed_spec_6(
    page: Page, live_site: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write-ahead audit (SPEC 4): no entry, no answer; the page says nothing was shown."""

    def unwritable(*_: object, **__: object) -> int:
        raise LedgerUnavailable("the audit ledger could not be written: test")

    sign_in_with_token(page, live_site.tokens["court"])
    monkeypatch.setattr(live_site.home.ledger, "append", unwritable)
    assert ask_case(page, OPEN, "K-2026-9", "CPL art. 286") == 503
    expect(page.locator("h1")).to_have_text("暂时无法使用")
    expect(page.locator("main")).not_to_contain_text("强奸罪")
    page.context.clear_cookies()
    sign_in_with_token(page, live_site.tokens["school"])
    assert check(page, OPEN) == 503
    expect(page.locator("main")).not_to_contain_text("有匹配")
