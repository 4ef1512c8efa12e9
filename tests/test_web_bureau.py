"""The records bureau's pages (issue 6), in Debian's Chromium against a live server: upload a
records file and read the rejection report row by row, a bad upload refused beside its
field; a sealing sweep's live progress and summary; a record's explanation and history; the
organisations and their tokens; other roles refused; and each action in the ledger."""

from __future__ import annotations

import csv
import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from veil.api import create_app
from veil.store.schema import ingest_batches
from veil.store.sweep import SweepResult

from .browser_helpers import (
    VIEWPORT,
    axe_violations,
    browsing,
    csrf_token,
    entries_since,
    field_error,
    last_index,
    screenshot,
    sign_in_with_token,
)
from .disclosure_helpers import Installation
from .factories import good_row
from .test_cli import write_csv

BUREAU = "records_bureau"
PAGES = ("/bureau", "/bureau/ingest", "/bureau/sweep", "/bureau/records", "/bureau/organisations")


@pytest.fixture
def bureau(browser: Browser, live_site: Installation) -> Iterator[Page]:
    """The records bureau signed in, at its home in Chinese (the default)."""
    with browsing(browser, live_site.url) as opened:
        sign_in_with_token(opened, live_site.tokens[BUREAU])
        assert opened.url == live_site.url + "/bureau"  # the role's home (roles.py)
        opened.goto("/bureau?lang=zh")
        yield opened


def batches(installation: Installation) -> int:
    with installation.home.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ingest_batches)).scalar_one())


def upload(page: Page, path: Path) -> int:
    """Chooses `path` in the upload form and sends it; the response's status."""
    page.locator("#records-file").set_input_files(str(path))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=re.compile("上传并入库|Upload and ingest")).click()
    return posted.value.status


def bureau_entries(installation: Installation, mark: int) -> list[dict[str, Any]]:
    """The ledger's entries after `mark` that name the bureau's organisation as acting."""
    by = installation.home.authenticator.requester(installation.tokens[BUREAU])
    assert by is not None
    return [e for e in entries_since(installation.home, mark) if e.get("by") == f"{by.org_id}/-"]


# --- home -------------------------------------------------------------------------------


def test_the_bureau_lands_on_its_home_with_its_four_tasks(
    bureau: Page, live_site: Installation
) -> None:
    expect(bureau.locator("h1")).to_have_text("档案管理部门")
    tasks = bureau.locator(".tasks h2 a")
    expect(tasks).to_have_text(["上传记录文件", "运行封存扫描", "查找记录", "单位与令牌"])
    hrefs = [tasks.nth(i).get_attribute("href") for i in range(4)]
    assert hrefs == [p for p in PAGES if p != "/bureau"]
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-home")
    bureau.goto("/bureau?lang=en")
    expect(bureau.locator(".tasks h2 a").first).to_have_text("Upload a records file")
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-home-en")
    # The landing page offers the same tasks to the signed-in bureau.
    bureau.goto("/")
    expect(bureau.locator(".role-current .links a").first).to_have_text("Upload a records file")


# --- ingest ---------------------------------------------------------------------------


def test_an_upload_reports_each_rejected_row_and_stores_the_rest(
    bureau: Page, live_site: Installation, tmp_path: Path
) -> None:
    rows = [
        good_row(record_id="UP-1"),
        good_row(record_id="UP-2", offence_date="2024-13-01"),
        good_row(record_id="UP-3"),
        good_row(record_id="UP-4", sex="X"),
    ]
    path = write_csv(tmp_path / "haidian-2026-11.csv", rows)
    mark = last_index(live_site.home)
    bureau.goto("/bureau/ingest")
    assert upload(bureau, path) == 200
    expect(bureau.locator("#report-title")).to_have_text("“haidian-2026-11.csv”的入库报告")
    counts = bureau.locator(".report dl.facts dd")
    expect(counts).to_have_text(["2", "0", "2"])  # accepted, unchanged, rejected
    expect(bureau.locator(".report .outcome-bad")).to_contain_text("2 行被拒收")
    table = bureau.locator("table.rejections tbody tr")
    expect(table).to_have_count(2)
    expect(table.nth(0).locator("th, td")).to_have_text(
        ["3", "offence_date", "'2024-13-01' is not a date in the form YYYY-MM-DD"]
    )
    expect(table.nth(1).locator("th, td")).to_have_text(["5", "sex", "must be M or F"])
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-ingest-report")

    with bureau.expect_download() as downloaded:
        bureau.get_by_role("link", name="下载全部被拒收的行（CSV）").click()
    text = Path(downloaded.value.path()).read_text(encoding="utf-8")
    assert list(csv.reader(text.splitlines())) == [
        ["line", "column", "reason"],
        ["3", "offence_date", "'2024-13-01' is not a date in the form YYYY-MM-DD"],
        ["5", "sex", "must be M or F"],
    ]

    (entry,) = [e for e in bureau_entries(live_site, mark) if e["action"] == "ingest"]
    assert entry["file"] == "haidian-2026-11.csv"
    assert (entry["accepted"], entry["unchanged"], entry["rejected"]) == (2, 0, 2)

    # The same file again: nothing stored twice.
    bureau.goto("/bureau/ingest")
    assert upload(bureau, path) == 200
    expect(bureau.locator(".report dl.facts dd")).to_have_text(["0", "2", "2"])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("records.csv", b"\xff\xfe\x00\x81garbage\x00\x00", "无法从该文件读取记录"),
        ("records.csv", b"not,a,records,header\n1,2,3,4\n", "无法从该文件读取记录"),
        ("records.xlsx", b"PK\x03\x04 not a records file", "请选择 .csv、.jsonl 或 .parquet 文件"),
    ],
)
def test_a_bad_upload_is_refused_beside_the_field_and_stores_nothing(
    bureau: Page,
    live_site: Installation,
    tmp_path: Path,
    name: str,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before, mark = batches(live_site), last_index(live_site.home)
    bureau.goto("/bureau/ingest")
    assert upload(bureau, path) == 422
    assert re.match(rf"^错误：\s*{message}", field_error(bureau, "records-file"))
    expect(bureau.locator(".error-summary a[href='#records-file']")).to_be_visible()
    assert batches(live_site) == before
    assert bureau_entries(live_site, mark) == []
    if name == "records.xlsx":
        assert axe_violations(bureau) == []


def test_the_upload_form_can_be_completed_with_the_keyboard(
    bureau: Page, live_site: Installation, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "keyboard.csv", [good_row(record_id="KB-1")])
    bureau.goto("/bureau/ingest")
    # Tab from the page's start reaches the file field. Choosing the file happens in the
    # system's own dialog, which no page can drive (headless Chromium opens it or not at
    # random), so the file is set directly; the rest is keys only.
    for _ in range(40):
        bureau.keyboard.press("Tab")
        if bureau.evaluate("() => document.activeElement.id") == "records-file":
            break
    assert bureau.evaluate("() => document.activeElement.id") == "records-file"
    assert bureau.evaluate("() => document.activeElement.matches(':focus-visible')")
    bureau.locator("#records-file").set_input_files(str(path))
    bureau.keyboard.press("Tab")
    focused = bureau.evaluate(
        "() => [document.activeElement.type, document.activeElement.matches(':focus-visible')]"
    )
    assert focused == ["submit", True]
    with bureau.expect_navigation():
        bureau.keyboard.press("Enter")
    expect(bureau.locator("#report-title")).to_contain_text("keyboard.csv")
    expect(bureau.locator(".report dl.facts dd")).to_have_text(["1", "0", "0"])
    expect(bureau.locator(".report .outcome-good")).to_have_text("没有被拒收的行。")
    expect(bureau.locator("table.rejections")).to_have_count(0)


# --- sweep ----------------------------------------------------------------------------


@pytest.fixture
def held_sweep(
    live_site: Installation, monkeypatch: pytest.MonkeyPatch
) -> Iterator[threading.Event]:
    """The home's sweep, held after reporting 1 of 4 records done until the event is set."""
    home = live_site.home
    release = threading.Event()
    sweep: Callable[..., SweepResult] = home.sweep

    def held(as_of: dt.date, by: str, **options: Any) -> SweepResult:
        options["progress"](1, 4)
        release.wait(30)
        return sweep(as_of, by, **options)

    monkeypatch.setattr(home, "sweep", held)
    yield release
    release.set()


def start_sweep(page: Page, day: str) -> None:
    page.goto("/bureau/sweep")
    page.locator("#as-of").fill(day)
    page.get_by_role("button", name=re.compile("开始扫描|Start the sweep")).click()


def test_a_sweep_shows_its_progress_live_then_its_changes_by_rule(
    bureau: Page,
    browser: Browser,
    live_site: Installation,
    held_sweep: threading.Event,
    tmp_path: Path,
) -> None:
    # An administrative violation of 2024: sealed under PSAPL (2025) art. 136 only from its
    # entry into force on 2026-01-01, so a sweep as of 2025-12-31 opens it again.
    home = live_site.home
    home.ingest_file(write_csv(tmp_path / "sweep.csv", [good_row(record_id="SW-1")]), "test")
    bureau.goto("/bureau/sweep")
    assert bureau.locator("#as-of").input_value() == dt.date.today().isoformat()
    mark = last_index(home)
    start_sweep(bureau, "2025-12-31")
    assert re.fullmatch(rf"{live_site.url}/bureau/sweep/[\w-]+", bureau.url)
    job = bureau.url
    expect(bureau.locator("#sweep-progress-text")).to_have_text("已完成 1 / 4 条记录（25%）")
    progress = bureau.locator("progress#sweep-progress")
    assert (progress.get_attribute("value"), progress.get_attribute("max")) == ("1", "4")
    assert bureau.locator("meta[http-equiv=refresh]").get_attribute("content") == "1"
    # The reload is the one thing axe objects to (WCAG 2.2.1): the page offers to stop it.
    violations = axe_violations(bureau)
    assert [v["id"] for v in violations] in ([], ["meta-refresh"])
    screenshot(bureau, "bureau-sweep-running")
    expect(bureau.get_by_role("link", name="停止自动刷新")).to_have_attribute(
        "href", job.removeprefix(live_site.url) + "?refresh=off"
    )

    # A second start while it runs shows the running one.
    other = browser.new_context(base_url=live_site.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    second = other.new_page()
    sign_in_with_token(second, live_site.tokens[BUREAU])
    start_sweep(second, "2025-12-31")
    assert second.url == job + "?already=1"
    expect(second.locator(".notice")).to_contain_text("已有一次扫描正在运行")
    other.close()

    held_sweep.set()  # the page reloads itself until the summary shows
    expect(bureau.locator(".outcome-good")).to_contain_text("已完成", timeout=20_000)
    assert bureau.locator("meta[http-equiv=refresh]").count() == 0
    facts = bureau.locator("dl.facts")
    expect(facts).to_contain_text("sqlite")
    opened = bureau.locator("table tbody tr", has=bureau.locator("code", has_text="open"))
    expect(opened.locator("td").last).not_to_have_text("0")
    (entry,) = [e for e in bureau_entries(live_site, mark) if e["action"] == "seal_sweep"]
    assert entry["as_of"] == "2025-12-31" and entry["changes"].get("open", 0) >= 1

    # As of today the rule applies again: the change names its rule and article.
    start_sweep(bureau, dt.date.today().isoformat())
    expect(bureau.locator(".outcome-good")).to_contain_text("已完成", timeout=20_000)
    row = bureau.locator("table tbody tr", has=bureau.locator("code", has_text="psapl-136-seal"))
    expect(row.locator("td")).to_have_count(3)
    expect(row.locator("td").nth(0)).to_have_text("封存记录")
    expect(row.locator("td").nth(1)).to_contain_text("第 136 条")
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-sweep")


def test_a_sweep_as_of_a_day_after_today_is_refused_beside_the_field(bureau: Page) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    bureau.goto("/bureau/sweep")
    bureau.locator("#as-of").fill(tomorrow.isoformat())
    with bureau.expect_response(lambda r: r.request.method == "POST") as posted:
        bureau.get_by_role("button", name="开始扫描").click()
    assert posted.value.status == 422
    assert "基准日不能晚于今天" in field_error(bureau, "as-of")


# --- a record -----------------------------------------------------------------------


def look_up(page: Page, source: str, record_id: str, lang: str = "zh") -> int:
    page.goto(f"/bureau/records?lang={lang}")
    page.locator("#source").fill(source)
    page.locator("#record-id").fill(record_id)
    with page.expect_response(lambda r: "/bureau/records?" in r.url and "source=" in r.url) as got:
        page.locator("form.lookup button[type=submit]").click()
    return got.value.status


def test_a_sealed_record_reads_its_rule_article_and_history_cpl_286(
    bureau: Page, live_site: Installation
) -> None:
    mark = last_index(live_site.home)
    assert look_up(bureau, "110105-PSB", "S-1") == 200
    facts = bureau.locator(".record-explained dl.facts")
    expect(facts.locator(".seal-state")).to_have_text("已封存")
    expect(facts).to_contain_text("cpl-286-seal")
    expect(facts).to_contain_text("中华人民共和国刑事诉讼法, 第 286 条")
    expect(facts).to_contain_text("犯罪时不满十八周岁")  # the explanation, in Chinese
    expect(facts).to_contain_text("age_at_offence")
    first = bureau.locator("table.history tbody tr").first
    expect(first.locator("td")).to_have_text(
        ["入库", re.compile(r"\d{4}年"), "已封存", "cpl-286-seal", "第 286 条"]
    )
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-record")

    assert look_up(bureau, "110105-PSB", "S-1", lang="en") == 200
    expect(bureau.locator(".record-explained .seal-state").first).to_have_text("Sealed")
    expect(bureau.locator(".record-explained")).to_contain_text("Criminal Procedure Law")
    expect(bureau.locator(".record-explained")).to_contain_text("art. 286")
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-record-en")

    looks = [
        e
        for e in entries_since(live_site.home, mark)
        if e.get("purpose") == "explain_record" and e.get("decision") == "allow"
    ]
    assert [(e["record"], e["disclosed"]) for e in looks] == [
        ("110105-PSB:S-1", {"found": True}),
        ("110105-PSB:S-1", {"found": True}),
    ]


def test_a_missing_record_is_said_beside_the_fields_and_the_look_is_in_the_ledger(
    bureau: Page, live_site: Installation
) -> None:
    mark = last_index(live_site.home)
    assert look_up(bureau, "110105-PSB", "NO-SUCH-RECORD") == 404
    assert "该来源中没有此编号的记录" in field_error(bureau, "record-id")
    expect(bureau.locator(".record-explained")).to_have_count(0)
    (entry,) = [e for e in entries_since(live_site.home, mark) if e.get("purpose")]
    assert entry["record"] == "110105-PSB:NO-SUCH-RECORD"
    assert entry["disclosed"] == {"found": False}


# --- organisations ------------------------------------------------------------------


def test_an_organisation_is_registered_its_token_shown_once_then_revoked(
    bureau: Page, browser: Browser, live_site: Installation
) -> None:
    mark = last_index(live_site.home)
    bureau.goto("/bureau/organisations")
    bureau.locator("#org-name").fill("海淀区第一小学")
    bureau.select_option("#org-type", "school")
    bureau.locator("#officer").fill("人事处 李老师")
    bureau.get_by_role("button", name="登记并签发令牌").click()
    expect(bureau.locator("h1")).to_have_text("令牌已签发")
    expect(bureau.locator(".warning h2")).to_have_text("请立即复制令牌：它不会再次显示")
    token = bureau.locator(".token code").inner_text()
    assert token.startswith("veil_tok-")
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-token")

    bureau.goto("/bureau/organisations")
    assert token not in bureau.content()
    row = bureau.locator("tbody tr", has_text="海淀区第一小学")
    expect(row.locator("td")).to_have_text([re.compile(r"^org-"), "学校", re.compile("年"), "有效"])
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-organisations")
    bureau.goto("/bureau/organisations?lang=en")
    expect(row.locator("td").nth(1)).to_have_text("School")
    assert axe_violations(bureau) == []
    screenshot(bureau, "bureau-organisations-en")

    # Another token, for another officer, on the organisation's own page.
    row.get_by_role("link", name="海淀区第一小学").click()
    bureau.locator("#officer").fill("Officer Wang")
    bureau.get_by_role("button", name="Issue a token").click()
    second = bureau.locator(".token code").inner_text()
    assert second.startswith("veil_tok-") and second != token

    context = browser.new_context(base_url=live_site.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    school = context.new_page()
    sign_in_with_token(school, token)
    expect(school.locator(".signed-in")).to_contain_text("海淀区第一小学")

    bureau.get_by_role("link", name="Manage 海淀区第一小学").click()
    assert axe_violations(bureau) == []
    bureau.get_by_role("button", name="Revoke 海淀区第一小学").click()
    assert re.search(r"/bureau/organisations\?revoked=org-\w+$", bureau.url)
    expect(bureau.locator(".notice")).to_contain_text("海淀区第一小学")
    expect(row.locator("td").last).to_contain_text("Revoked on")

    # Revoked: both tokens sign in no more, and the open session is over at once.
    school.goto("/")
    expect(school.locator(".signed-in")).to_have_count(0)
    for revoked in (token, second):
        sign_in_with_token(school, revoked)
        expect(school.locator("#token-error")).to_be_visible()
    context.close()

    actions = [e["action"] for e in bureau_entries(live_site, mark)]
    assert actions == ["organisation_created", "token_issued", "organisation_revoked"]


def test_an_organisation_needs_a_name_and_a_type(bureau: Page) -> None:
    bureau.goto("/bureau/organisations")
    with bureau.expect_response(lambda r: r.request.method == "POST") as posted:
        bureau.get_by_role("button", name="登记并签发令牌").click()
    assert posted.value.status == 422
    assert "请输入单位名称" in field_error(bureau, "org-name")
    assert "请选择单位类型" in field_error(bureau, "org-type")


# --- refusals ---------------------------------------------------------------------------


def test_a_school_opening_the_bureaus_pages_is_refused_and_each_refusal_is_recorded(
    page: Page, live_site: Installation, tmp_path: Path
) -> None:
    sign_in_with_token(page, live_site.tokens["school"])
    mark = last_index(live_site.home)
    for path in PAGES:
        response = page.goto(path)
        assert response is not None and response.status == 403
        expect(page.locator("h1")).to_have_text("不予准许")
    # The same page whether the record named exists, is sealed, or is not there at all.
    mains = []
    for record in ("S-1", "O-1", "NO-SUCH-RECORD"):
        response = page.goto(f"/bureau/records?source=110105-PSB&record_id={record}")
        assert response is not None and response.status == 403
        mains.append(page.locator("main").inner_html())
    assert mains[0] == mains[1] == mains[2]
    refusals = [e for e in entries_since(live_site.home, mark) if e.get("decision") == "deny"]
    assert len(refusals) == len(PAGES) + 3
    assert {e.get("organisation_type") for e in refusals} == {"school"}


def test_a_school_posting_an_upload_stores_nothing(live_site: Installation, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "school.csv", [good_row(record_id="SCHOOL-1")])
    before = batches(live_site)
    with TestClient(create_app(live_site.home)) as client:
        client.post(
            "/login",
            data={
                "kind": "token",
                "credential": live_site.tokens["school"],
                "csrf_token": csrf_token(client),
            },
        )
        response = client.post(
            "/bureau/ingest",
            data={"csrf_token": csrf_token(client, "/login")},
            files={"records_file": ("school.csv", path.read_bytes(), "text/csv")},
        )
    assert response.status_code == 403
    assert batches(live_site) == before


# --- without a browser ----------------------------------------------------------------


def test_a_long_rejection_report_shows_the_first_500_rows_and_downloads_them_all(
    live_site: Installation, tmp_path: Path
) -> None:
    rows = [good_row(record_id=f"BAD-{n}", sex="X") for n in range(620)]
    rows.append(good_row(record_id="BAD-FORMULA", detention_days="-5"))
    path = write_csv(tmp_path / "many.csv", rows)
    with TestClient(create_app(live_site.home)) as client:
        client.post(
            "/login",
            data={
                "kind": "token",
                "credential": live_site.tokens[BUREAU],
                "csrf_token": csrf_token(client),
            },
        )
        report = client.post(
            "/bureau/ingest?lang=en",
            data={"csrf_token": csrf_token(client, "/bureau/ingest")},
            files={"records_file": ("many.csv", path.read_bytes(), "text/csv")},
        ).text
        assert report.count('<th scope="row" class="numeric">') == 500
        assert "The table shows the first 500 of 621 rejected rows." in report
        found = re.search(r'href="(/bureau/ingest/[\w-]+/rejections\.csv)"', report)
        assert found is not None
        download = client.get(found.group(1))
        # Another organisation's browser cannot fetch it, even with the link.
        with TestClient(create_app(live_site.home)) as other:
            assert other.get(found.group(1), follow_redirects=False).status_code == 303
    assert download.headers["content-disposition"] == 'attachment; filename="rejections.csv"'
    lines = list(csv.reader(download.text.splitlines()))
    assert len(lines) == 1 + 621
    # A reason a spreadsheet would run as a formula is quoted.
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)
