"""The web pages' foundation (issue 6): language, sign-in, CSRF, keyboard and accessibility,
in Debian's Chromium against a live server; catalogue completeness without a browser."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from starlette.requests import Request
from starlette.responses import Response

from veil.api import create_app
from veil.disclosure.identity import DemoIdentity
from veil.home import Home
from veil.records.catalogue import CATEGORIES, load_catalogue
from veil.web import labels, language
from veil.web.site import SignedIn, Site

from .browser_helpers import axe_violations, csrf_token, screenshot, sign_in_with_token
from .disclosure_helpers import OPEN, Installation

ROOT = Path(__file__).resolve().parent.parent
MAIN_PAGES = {"landing": "/", "login": "/login", "rules": "/rules"}


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


# --- language ------------------------------------------------------------------------


def test_pages_are_chinese_by_default_even_for_an_english_browser(page: Page) -> None:
    page.goto("/")
    assert html_lang(page) == "zh-CN"
    expect(page.locator("h1")).to_have_text("记录封存，只依法提供")


def test_english_is_one_click_away_and_remembered_across_pages(page: Page) -> None:
    page.goto("/rules")
    switch = page.get_by_role("link", name="English")
    assert switch.get_attribute("href") == "/rules?lang=en"
    assert switch.get_attribute("lang") == "en"
    switch.click()
    assert html_lang(page) == "en"
    expect(page.locator("h1")).to_have_text("Sealing rules and regulations")
    page.goto("/login")  # no ?lang: the cookie remembers
    assert html_lang(page) == "en"
    expect(page.locator("h1")).to_have_text("Sign in")
    page.get_by_role("link", name="中文").click()
    assert html_lang(page) == "zh-CN"
    page.goto("/")
    assert html_lang(page) == "zh-CN"


def test_lang_in_the_query_chooses_on_any_page_and_sets_a_lax_cookie(page: Page) -> None:
    page.goto("/login?lang=en&next=%2Frules")
    assert html_lang(page) == "en"
    # The switch keeps the path and the rest of the query.
    switch = page.get_by_role("link", name="中文").get_attribute("href")
    assert switch == "/login?next=%2Frules&lang=zh"
    (cookie,) = [c for c in page.context.cookies() if c["name"] == language.COOKIE]
    assert cookie["value"] == "en"
    assert cookie["sameSite"] == "Lax"
    page.goto("/rules")
    assert html_lang(page) == "en"


def test_dates_are_formatted_for_the_language(page: Page) -> None:
    page.goto("/rules?lang=zh")
    expect(page.locator("time[datetime='2026-01-01']")).to_have_text("2026年1月1日")
    page.goto("/rules?lang=en")
    expect(page.locator("time[datetime='2026-01-01']")).to_have_text("1 January 2026")


# --- signing in ------------------------------------------------------------------------


def test_an_organisation_token_signs_in_to_the_role_home(
    page: Page, live_site: Installation
) -> None:
    sign_in_with_token(page, live_site.tokens["school"])
    assert page.url == live_site.url + "/screening"  # the screening unit's home
    page.goto("/")
    expect(page.locator(".signed-in")).to_have_text("已登录：A school")
    expect(page.locator("#your-role + p")).to_contain_text("入职查询单位")
    expect(page.locator(".role-current h3")).to_contain_text("您的角色")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "veil_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="退出登录").click()
    assert page.url == live_site.url + "/"
    expect(page.get_by_role("link", name="登录").first).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "veil_session"]


def test_a_bad_token_is_refused_beside_the_field_and_the_page_stays_accessible(
    page: Page,
) -> None:
    page.goto("/login")
    page.locator("#token").fill("veil_tok-000000000000_not-a-token")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("form:has(#token) button[type=submit]").click()
    assert posted.value.status == 401
    field = page.locator("#token")
    assert field.get_attribute("aria-invalid") == "true"
    assert "token-error" in (field.get_attribute("aria-describedby") or "")
    # The message sits in the field's own group, before the input, with a word, not a colour.
    error = page.locator(".field:has(#token) #token-error")
    expect(error).to_have_text(re.compile(r"^错误：\s*该令牌未被接受"))
    expect(page.locator(".field:has(#identity) .field-error")).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "login-error")


def test_a_revoked_token_gets_the_message_an_unknown_one_gets(
    page: Page, live_site: Installation
) -> None:
    made = live_site.home.organisations.create("A revoked court", "court")
    live_site.home.organisations.revoke(made["id"])
    messages = []
    for token in (made["token"], "veil_tok-000000000000_unknown"):
        sign_in_with_token(page, token)
        messages.append(page.locator("#token-error").inner_text())
    assert messages[0] == messages[1]


def test_the_subject_signs_in_through_the_identity_check(
    page: Page, live_site: Installation
) -> None:
    page.goto("/login?lang=en")
    page.locator("#identity").fill(DemoIdentity(live_site.home.keys).credential(OPEN))
    page.get_by_role("button", name="Sign in with the identity check").click()
    assert page.url == live_site.url + "/me"  # the person's home: their records
    page.goto("/")
    expect(page.locator(".signed-in")).to_have_text("Signed in: you, identity checked")
    expect(page.locator(".role-current h3")).to_contain_text("The person concerned")


def test_each_form_signs_in_only_its_own_kind(page: Page, live_site: Installation) -> None:
    page.goto("/login?lang=en")
    page.locator("#identity").fill(live_site.tokens["court"])
    page.get_by_role("button", name="Sign in with the identity check").click()
    expect(page.locator("#identity-error")).to_contain_text("did not accept")
    assert not [c for c in page.context.cookies() if c["name"] == "veil_session"]


# --- keyboard and accessibility -------------------------------------------------------


def test_the_first_tab_stop_is_the_skip_link_with_a_visible_focus(page: Page) -> None:
    page.goto("/rules")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
            const el = document.activeElement, style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {cls: el.className, href: el.getAttribute('href'), top: box.top,
                    outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                    visible: el.matches(':focus-visible')};
        }"""
    )
    assert focused["cls"] == "skip-link"
    assert focused["href"] == "#main"
    assert focused["visible"] and focused["outline"] != "none" and focused["width"] >= 2
    assert focused["top"] >= 0  # moved on screen when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("name", MAIN_PAGES)
def test_main_pages_have_no_serious_accessibility_violations(page: Page, name: str) -> None:
    page.goto(MAIN_PAGES[name])
    assert axe_violations(page) == []
    screenshot(page, name)
    page.goto(MAIN_PAGES[name] + "?lang=en")
    assert axe_violations(page) == []
    screenshot(page, f"{name}-en")


# --- CSRF and sign-in redirects, without a browser -------------------------------------


@pytest.fixture(scope="module")
def client(live_site: Installation) -> Iterator[TestClient]:
    with TestClient(create_app(live_site.home)) as app_client:
        yield app_client


def test_a_form_posted_without_its_csrf_token_is_refused(
    client: TestClient, live_site: Installation
) -> None:
    good = {"kind": "token", "credential": live_site.tokens["school"]}
    token = csrf_token(client)
    for data, headers in (
        (good, {}),  # no token at all
        ({**good, "csrf_token": "0" * 64}, {}),  # a made-up token
        ({**good, "csrf_token": token}, {"sec-fetch-site": "cross-site"}),
        ({"csrf_token": token}, {"content-type": "application/json"}),
    ):
        response = client.post("/login", data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403
        assert "veil_session" not in response.headers.get("set-cookie", "")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    ok = client.post("/login", data={**good, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303


def test_a_csrf_token_is_worthless_in_another_browser(
    client: TestClient, live_site: Installation
) -> None:
    token = csrf_token(client)
    with TestClient(create_app(live_site.home)) as other:
        other.get("/login")  # its own nonce cookie
        response = other.post(
            "/login", data={"kind": "token", "credential": "x", "csrf_token": token}
        )
    assert response.status_code == 403


def test_a_page_for_signed_in_requesters_sends_others_to_login_and_back(
    live_site: Installation,
) -> None:
    """The extension point role pages use: a `who: SignedIn` parameter."""
    site = Site(live_site.home)
    pages = site.router()

    @pages.get("/private")
    def private(request: Request, who: SignedIn) -> Response:
        return site.render(request, "form_refused.html", status=200)

    app = create_app(live_site.home)
    app.include_router(pages)
    with TestClient(app) as browser:
        away = browser.get("/private?x=1", follow_redirects=False)
        assert away.status_code == 303
        assert away.headers["location"] == "/login?next=%2Fprivate%3Fx%3D1"
        form = browser.get(away.headers["location"]).text
        assert 'name="next" value="/private?x=1"' in form
        back = browser.post(
            "/login",
            data={
                "kind": "token",
                "credential": live_site.tokens["court"],
                "next": "/private?x=1",
                "csrf_token": csrf_token(browser),
            },
            follow_redirects=False,
        )
        assert back.headers["location"] == "/private?x=1"
        assert browser.get("/private?x=1", follow_redirects=False).status_code == 200


def test_revoking_a_token_signs_its_holder_out_at_once(live_site: Installation) -> None:
    made = live_site.home.organisations.create("A court soon revoked", "court")
    with TestClient(create_app(live_site.home)) as browser:
        signed = browser.post(
            "/login",
            data={"kind": "token", "credential": made["token"], "csrf_token": csrf_token(browser)},
        )
        assert "A court soon revoked" in signed.text
        live_site.home.organisations.revoke(made["id"])
        after = browser.get("/")
        assert "A court soon revoked" not in after.text
        assert 'href="/login"' in after.text


def test_without_an_identity_check_the_subject_form_says_why_it_is_missing(
    live_site: Installation,
) -> None:
    settings = dataclasses.replace(live_site.home.settings, identity_check="none")
    with TestClient(create_app(Home(settings))) as browser:
        page = browser.get("/login?lang=en").text
    assert 'id="identity"' not in page
    assert "no identity check configured" in page


@pytest.mark.parametrize("target", ["//elsewhere.example/", "https://elsewhere.example/", "/\\x"])
def test_sign_in_never_redirects_off_the_site(
    client: TestClient, live_site: Installation, target: str
) -> None:
    response = client.post(
        "/login",
        data={
            "kind": "token",
            "credential": live_site.tokens["school"],
            "next": target,
            "csrf_token": csrf_token(client),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/screening"  # the school's home, not the target


def test_pages_forbid_scripts_framing_and_caching(client: TestClient) -> None:
    response = client.get("/rules")
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text


def test_the_stylesheet_is_served_and_nothing_else_under_static(client: TestClient) -> None:
    page = client.get("/").text
    found = re.search(r'href="(/static/veil\.css\?v=[0-9a-f]{12})"', page)
    assert found is not None
    css = client.get(found.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text
    for name in ("../site.py", "nothing.css", "%2e%2e%2fsite.py"):
        assert client.get(f"/static/{name}").status_code == 404


def test_the_rules_page_shows_every_rule_and_regulation_with_its_article(
    client: TestClient, live_site: Installation
) -> None:
    home = live_site.home
    for lang in ("zh", "en"):
        text = client.get(f"/rules?lang={lang}").text
        for rule in home.ruleset.rules:
            assert f"<code>{rule.id}</code>" in text
            assert rule.statute(lang) in text.replace("&#39;", "'")
        for regulation in home.disclosure.regulations.values():
            assert getattr(regulation, f"title_{lang}") in text
            assert f"<code>{regulation.id}</code>" in text
    assert "第 286 条" in client.get("/rules?lang=zh").text
    assert "art. 286" in client.get("/rules?lang=en").text


def test_the_readme_links_every_screenshot_the_tests_save() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\(docs/screenshots/([\w-]+)\.png\)", readme))
    ours = {*MAIN_PAGES, *(f"{name}-en" for name in MAIN_PAGES), "login-error"}
    # Every screenshot the browser tests save (these and the role pages' modules'), each linked.
    saved = {path.stem for path in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert ours <= saved
    assert linked == saved


# --- the catalogues -------------------------------------------------------------------


def extracted() -> dict[str, object]:
    """Every msgid in veil/web, as `make messages` extracts them."""
    with tempfile.TemporaryDirectory() as folder:
        pot = Path(folder) / "messages.pot"
        mapping, source = ROOT / "pyproject.toml", ROOT / "veil" / "web"
        CommandLineInterface().run(
            ["pybabel", "-q", "extract", "-F", str(mapping), "-o", str(pot), str(source)]
        )
        with pot.open("rb") as handle:
            return {m.id: m for m in read_po(handle) if m.id}


def catalogue(code: str) -> dict[object, object]:
    path = ROOT / "veil" / "web" / language.catalogue_path(code)
    with path.open("rb") as handle:
        read = read_po(handle, locale=code)
    problems = [(m.id, errors) for m, errors in read.check()]
    assert problems == [], f"{path}: {problems}"
    return {m.id: m for m in read if m.id}


def test_every_string_on_the_pages_has_a_chinese_translation() -> None:
    wanted = extracted()
    zh = catalogue("zh")
    missing = sorted(str(i) for i in wanted if i not in zh)
    assert missing == [], "not in the zh catalogue (run `make messages`, then translate)"
    untranslated = sorted(
        str(i)
        for i, m in zh.items()
        if i in wanted and (getattr(m, "fuzzy", True) or not all(_strings(m)))
    )
    assert untranslated == [], "untranslated or fuzzy in the zh catalogue"


def test_the_catalogues_hold_no_stale_strings() -> None:
    wanted = set(extracted())
    for code in language.LANGUAGES:
        assert set(catalogue(code)) == wanted, f"{code}: run `make messages`"


def _strings(message: object) -> tuple[str, ...]:
    string = getattr(message, "string", "")
    return tuple(string) if isinstance(string, tuple) else (string,)


def test_every_category_and_disposition_has_words_on_the_pages() -> None:
    offences = load_catalogue()
    assert set(labels.CATEGORIES) == set(CATEGORIES)
    assert set(labels.DISPOSITIONS) == {d for (_, d) in offences.dispositions}
    zh = catalogue("zh")
    for msgid in [*labels.CATEGORIES.values(), *labels.DISPOSITIONS.values()]:
        assert msgid in zh
