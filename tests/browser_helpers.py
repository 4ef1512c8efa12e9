"""Real-browser tests: Debian's Chromium, driven by Playwright, against a live Veil server.

Registered as a plugin in conftest.py, so any test module can ask for:
- `live_site` (module scope): the population of disclosure_helpers, one organisation of
  every type, served by uvicorn on a loopback port; `.url`, `.tokens`, `.home`;
- `browser` (module scope): headless Chromium (`make test-deps` installs it);
- `page`: a fresh browser context (no cookies) at 1280x900 whose relative URLs go to
  `live_site`.
A module that needs other data overrides `live_site` with its own fixture of that name
(`with served(path, extra_rows) as setup: yield setup`).
Playwright never downloads a browser here: it launches /usr/bin/chromium.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright

from veil.home import Home
from veil.ledger.access import newest_first

from .disclosure_helpers import Installation, served

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# The machine has no internet: without these flags Chromium waits on network look-ups.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    with served(tmp_path_factory.mktemp("web")) as setup:
        yield setup


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test-deps`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@contextmanager
def browsing(browser: Browser, url: str) -> Iterator[Page]:
    """One tab in a fresh browser context (no cookies) at 1280x900 whose relative URLs go
    to `url`. One tab per context: in headless Chromium a tab that is not the context's
    only one may get no animation frames, and then whatever waits for one waits forever.
    """
    # An English-speaking browser: the pages are still Chinese until asked otherwise.
    # bypass_csp lets axe_violations inject axe-core past the pages' no-script policy.
    context = browser.new_context(
        base_url=url,
        viewport=VIEWPORT,  # type: ignore[arg-type]
        locale="en-GB",
        timezone_id="Asia/Shanghai",
        bypass_csp=True,
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, live_site: Installation) -> Iterator[Page]:
    with browsing(browser, live_site.url) as opened:
        yield opened


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make test-deps`")
    page.add_script_tag(path=str(AXE))
    # page.evaluate has no timeout of its own: a run that never ends fails the test instead.
    results = page.evaluate(
        """async () => await Promise.race([
            axe.run(document, {resultTypes: ['violations']}),
            new Promise((_, fail) => setTimeout(() => fail(new Error('axe ran 60 s')), 60000)),
        ])"""
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "where": [node["target"] for node in violation["nodes"]],
        }
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


def screenshot(page: Page, name: str) -> Path:
    """The whole page as docs/screenshots/NAME.png (the README links these)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


# --- shared by the pages' tests ------------------------------------------------------


def last_index(home: Home) -> int:
    with home.engine.connect() as conn:
        return next((idx for idx, _ in newest_first(conn, chunk=1)), -1)


def entries_since(home: Home, mark: int) -> list[dict[str, Any]]:
    """The ledger's entries after index `mark`, oldest first."""
    with home.engine.connect() as conn:
        newer = itertools.takewhile(lambda item: item[0] > mark, newest_first(conn))
        return [entry for _, entry in reversed(list(newer))]


def field_error(page: Page, field: str) -> str:
    """The error in the field's own group, tied to the field, with a word (not a colour)."""
    control = page.locator(f"#{field}")
    assert control.get_attribute("aria-invalid") == "true"
    assert f"{field}-error" in (control.get_attribute("aria-describedby") or "")
    return page.locator(f".field:has(#{field}) #{field}-error").inner_text()


def sign_in_with_token(page: Page, token: str) -> None:
    page.goto("/login")
    page.locator("#token").fill(token)
    page.locator("form:has(#token) button[type=submit]").click()


def csrf_token(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)
