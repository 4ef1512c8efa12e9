"""SPEC section 4, response time: a screening answer and a refusal are held until a floor
after the request reached the door, so the time they take cannot reveal the records they
leave out (veil/disclosure/pace.py). tests/test_indistinguishability.py measures that the
times cannot be told apart; these tests check the floor itself."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from veil.config import DEFAULT_ANSWER_FLOOR_MS, Settings, parse_answer_floor_ms
from veil.disclosure.door import DisclosureRequest, Refused
from veil.disclosure.outcome import handle
from veil.disclosure.pace import _Alarm
from veil.disclosure.request import DisclosureBody

from .cli_helpers import veil
from .disclosure_helpers import ABSENT, OPEN, SEALED, Installation, served

FLOOR_MS = 80.0  # far above the work a request does, so that "at least" is unambiguous
SCREENING = {
    "purpose": "statutory_screening",
    "regulation": "cn-minors-protection-62",
    "consent_ref": "C-1",
    "post": "teacher",
}
CASE = {"purpose": "case_handling", "case_number": "X-1", "legal_basis": "CPL art. 286"}


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    with served(tmp_path_factory.mktemp("pace"), answer_floor_ms=FLOOR_MS) as setup:
        yield setup


def elapsed(setup: Installation, org_type: str, subject: str, fields: dict[str, str]) -> float:
    with httpx.Client(base_url=setup.url, timeout=30) as client:
        response = client.post(
            "/api/v1/disclosures",
            json={"subject": {"id_number": subject}, **fields},
            headers={"Authorization": f"Bearer {setup.tokens[org_type]}"},
        )
    assert response.status_code in (200, 403), response.text
    return response.elapsed.total_seconds()


@pytest.mark.parametrize(
    ("org_type", "subject", "fields"),
    [
        ("school", SEALED, SCREENING),  # allowed; sealed records left out
        ("school", ABSENT, SCREENING),  # allowed; nothing to leave out
        ("school", OPEN, SCREENING),  # allowed; a match
        ("employer", SEALED, SCREENING),  # refused: art. 62 does not list employers
        ("employer", OPEN, CASE),  # refused: not a case-handling organ
    ],
)
def test_withholding_answers_and_refusals_take_at_least_the_floor(
    slow: Installation, org_type: str, subject: str, fields: dict[str, str]
) -> None:
    assert elapsed(slow, org_type, subject, fields) >= FLOOR_MS / 1000


@pytest.mark.parametrize(("org_type", "refused"), [("school", False), ("employer", True)])
def test_the_pages_door_holds_screenings_and_refusals_alike(
    slow: Installation, org_type: str, refused: bool
) -> None:
    """The web pages ask `Door.disclose` on their own thread: the same floor holds."""
    who = slow.home.authenticator.requester(slow.tokens[org_type])
    assert who is not None
    asked = DisclosureRequest(
        id_number=SEALED,
        **{k: v for k, v in SCREENING.items() if k != "purpose"},
        purpose="statutory_screening",
    )
    started = time.monotonic()
    try:
        slow.home.door.disclose(who, asked, "pace-test")
        assert not refused
    except Refused:
        assert refused
    assert time.monotonic() - started >= FLOOR_MS / 1000


@pytest.mark.parametrize(("org_type", "status"), [("school", 200), ("employer", 403)])
def test_the_operators_door_holds_screenings_and_refusals_alike(
    slow: Installation, org_type: str, status: int
) -> None:
    """`veil disclose` goes through `outcome.handle` on its own thread: the same floor."""
    body = DisclosureBody.model_validate({"subject": {"id_number": SEALED}, **SCREENING})
    started = time.monotonic()
    answered = handle(slow.home, slow.tokens[org_type], body, "pace-test")
    assert answered.status == status
    assert time.monotonic() - started >= FLOOR_MS / 1000


def test_an_answer_that_withholds_nothing_is_not_held(slow: Installation) -> None:
    """A court handling a case sees every record (CPL art. 286): its time says no more than
    its body, so it is not slowed. The fastest of five is far below the floor."""
    fastest = min(elapsed(slow, "court", OPEN, CASE) for _ in range(5))
    assert fastest < FLOOR_MS / 1000 / 2


@pytest.mark.parametrize("text", ["-1", "abc", "nan", "inf", "1001", "5ms", ""])
def test_a_bad_floor_setting_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="VEIL_ANSWER_FLOOR_MS must be a number of milliseconds"):
        parse_answer_floor_ms(text)


def test_a_bad_floor_setting_stops_a_command_with_exit_2_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VEIL_ANSWER_FLOOR_MS", "fast")
    result = veil("org", "list")
    assert result.returncode == 2
    assert "VEIL_ANSWER_FLOOR_MS must be a number of milliseconds" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_identity_check_stops_a_command_the_same_way(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VEIL_IDENTITY_CHECK", "passport")
    assert veil("init").returncode == 0
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"subject": {"id_number": OPEN}, **SCREENING}))
    result = veil("disclose", str(request), "--token", "not-a-token")
    assert result.returncode == 2
    assert "unknown identity check 'passport'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_floor_setting_reads_milliseconds_and_defaults_to_five() -> None:
    assert parse_answer_floor_ms("0") == 0.0
    assert parse_answer_floor_ms("12.5") == 12.5
    assert Settings.from_env({}).answer_floor_ms == DEFAULT_ANSWER_FLOOR_MS == 5.0
    assert Settings.from_env({"VEIL_ANSWER_FLOOR_MS": "20"}).answer_floor_ms == 20.0


def test_the_alarm_never_wakes_early_and_wakes_in_deadline_order() -> None:
    alarm = _Alarm()
    woke: list[tuple[int, float, float]] = []

    async def sleeper(n: int, deadline: float) -> None:
        await alarm.at(deadline)
        woke.append((n, deadline, time.monotonic()))

    async def main() -> None:
        now = time.monotonic()
        # asked for in one order, due in the reverse order
        await asyncio.gather(*(sleeper(n, now + 0.05 - n * 0.01) for n in range(5)))

    for _ in range(2):  # the same alarm on a second event loop, as after a restart
        woke.clear()
        asyncio.run(main())
        assert [n for n, _, _ in woke] == [4, 3, 2, 1, 0]
        assert all(at >= deadline for _, deadline, at in woke)


def test_the_alarm_serves_two_event_loops_at_once() -> None:
    """A server's loop in one thread and another loop in another (a test's, a second app's)
    share the door's alarm: each one's waiters are woken on their own loop."""
    alarm = _Alarm()
    late: dict[str, float] = {}

    def run(name: str) -> None:
        async def main() -> None:
            deadline = time.monotonic() + 0.05
            await asyncio.wait_for(alarm.at(deadline), timeout=5)
            late[name] = time.monotonic() - deadline

        asyncio.run(main())

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(late) == ["a", "b"]
    assert all(delay >= 0 for delay in late.values())
