"""Procuratorial oversight's pages (issue 6), in Debian's Chromium against a live server:
the ledger's state, verifying it now, an inclusion proof, and the access log filtered by
organisation, purpose and period. Only the procuratorate may look, and every look is in the
ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from veil.disclosure.door import DisclosureRequest, Refused
from veil.ledger.access import newest_first
from veil.ledger.proofs import InclusionProof

from .browser_helpers import axe_violations, screenshot
from .disclosure_helpers import ABSENT, OPEN, SEALED, Installation, served


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    """The shared population, looked at by a court, a school, and refused once."""
    with served(tmp_path_factory.mktemp("web-oversight")) as setup:
        home = setup.home
        court = home.authenticator.requester(setup.tokens["court"])
        school = home.authenticator.requester(setup.tokens["school"])
        assert court is not None and school is not None
        home.door.disclose(
            court,
            DisclosureRequest(SEALED, "case_handling", case_number="K-7", legal_basis="CPL 286"),
            "court-looked",
        )
        screening = DisclosureRequest(
            OPEN,
            "statutory_screening",
            regulation="cn-minors-protection-62",
            consent_ref="CONSENT-9",
            post="teacher",
        )
        home.door.disclose(school, screening, "school-looked")
        with pytest.raises(Refused):
            home.door.disclose(school, DisclosureRequest(ABSENT, "case_handling"), "school-refused")
        yield setup


def sign_in(page: Page, live_site: Installation, org_type: str) -> None:
    page.goto("/login")
    page.locator("#token").fill(live_site.tokens[org_type])
    page.locator("form:has(#token) button[type=submit]").click()


def newest(live_site: Installation) -> dict[str, object]:
    with live_site.home.engine.connect() as conn:
        return next(newest_first(conn))[1]


def organisation_id(live_site: Installation, org_type: str) -> str:
    (found,) = [o["id"] for o in live_site.home.organisations.list() if o["type"] == org_type]
    return str(found)


def test_the_procuratorate_sees_the_ledger_verifies_it_and_fetches_a_proof(
    page: Page, live_site: Installation, tmp_path: Path
) -> None:
    sign_in(page, live_site, "procuratorate")
    page.goto("/")  # the landing offers the procuratorate its oversight
    page.locator(".role-current").get_by_role(
        "link", name="查询记录和审计账本的监督（人民检察院）"
    ).click()
    expect(page.locator("h1")).to_have_text("监督：审计账本")
    # The signed checkpoint as the page shows it: it verifies, and its root is the one shown.
    note = page.locator("pre").inner_text().rstrip("\n") + "\n"
    shown = live_site.home.ledger.verifier.open_checkpoint(note)
    expect(page.locator("#checkpoint + dl")).to_contain_text(shown.root.hex())
    expect(page.locator("#checkpoint + dl dd").first).to_have_text(f"{shown.size}")
    expect(page.locator("#last-verification + .notice")).to_contain_text("从未校验")
    assert newest(live_site)["what"] == "status"  # the look itself is in the ledger

    page.get_by_role("button", name="立即校验账本").click()
    expect(page.locator(".result .verdict")).to_have_text("账本校验通过")
    expect(page.locator("#last-verification + dl")).to_contain_text("A procuratorate")
    expect(page.locator("#last-verification + dl")).to_contain_text("校验通过")

    page.locator("#index").fill("2")
    page.get_by_role("button", name="获取证明").click()
    proof = page.locator("section.result:has(#proof-result)")
    expect(proof.locator("h3")).to_contain_text("条目 2")
    assert proof.locator("ol.hashes li").count() >= 1
    assert axe_violations(page) == []
    screenshot(page, "oversight-status")

    with page.expect_download() as download:
        proof.get_by_role("link", name="下载证明（JSON）").click()
    saved = tmp_path / "proof.json"
    download.value.save_as(saved)
    api = page.request.get(proof.get_by_role("link").get_attribute("href") or "")
    assert saved.read_bytes() == api.body()  # the API's own answer
    InclusionProof.from_json(json.loads(saved.read_bytes())).verify()

    page.goto("/oversight?index=999999&size=x&lang=en")
    expect(page.locator(".field:has(#size) #size-error")).to_contain_text("a whole number")
    page.goto("/oversight?index=999999&lang=en")
    expect(page.locator(".field:has(#index) #index-error")).to_contain_text("no such entry")
    assert axe_violations(page) == []


def test_the_procuratorate_filters_the_access_log(page: Page, live_site: Installation) -> None:
    sign_in(page, live_site, "procuratorate")
    page.goto("/oversight/access")
    expect(page.locator("h1")).to_have_text("监督：查询记录")
    rows = page.locator("table.access-log tbody tr")
    expect(rows.filter(has_text="school-refused")).to_contain_text("无策略准予")

    page.locator("#organisation").select_option(organisation_id(live_site, "court"))
    page.get_by_role("button", name="显示").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("A court")
    expect(rows).to_contain_text("人民法院")
    expect(rows).to_contain_text("案件 K-7")
    expect(rows).to_contain_text("case-handling")  # the policy that decided
    assert axe_violations(page) == []
    screenshot(page, "oversight-access")

    page.goto("/oversight/access?purpose=statutory_screening&lang=en")
    expect(page.locator("#purpose")).to_have_value("statutory_screening")
    expect(rows).to_have_count(1)
    for words in ("A school", "School", "statutory screening", "Allowed", "CONSENT-9"):
        expect(rows).to_contain_text(words)
    assert axe_violations(page) == []
    screenshot(page, "oversight-access-en")

    page.locator("#purpose").select_option("")
    page.locator("#from").fill("2001-01-01")
    page.locator("#to").fill("2001-01-31")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(0)
    expect(page.locator(".notice")).to_contain_text("Nothing in the ledger matches")
    look = newest(live_site)
    assert (look["what"], look["since"], look["shown"]) == (
        "access_log",
        "2001-01-01T00:00:00+00:00",
        0,
    )

    page.goto("/oversight/access?from=2026-02-30&to=2026-01-01&lang=en")
    expect(page.locator(".field:has(#from) #from-error")).to_contain_text("year-month-day")
    assert page.locator("#from").get_attribute("aria-invalid") == "true"
    page.goto("/oversight/access?from=2026-02-01&to=2026-01-01&lang=en")
    expect(page.locator(".field:has(#to) #to-error")).to_contain_text("before its start")
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ["/oversight", "/oversight/access"])
def test_a_school_is_refused_and_the_refusal_is_in_the_ledger(
    page: Page, live_site: Installation, path: str
) -> None:
    sign_in(page, live_site, "school")
    answer = page.goto(path)
    assert answer is not None and answer.status == 403
    expect(page.locator("h1")).to_have_text("不予准许")
    expect(page.locator("main")).not_to_contain_text("检查点")  # nothing of the ledger's state
    refusal = newest(live_site)
    assert (refusal["action"], refusal["decision"]) == ("review_access", "deny")
    assert axe_violations(page) == []
