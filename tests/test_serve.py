"""`veil serve` as operators run it: a real process, its server processes appending to the
audit ledger through the ledger's writer process (SPEC section 6: durable before any record
data leaves; fail closed if the ledger cannot be written), stopped cleanly by Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import text

from veil.api.serving import ServerProcesses, listening_sockets

from .disclosure_helpers import SEALED, Installation, free_port, installation

VEIL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "veil"
CASE = {"case_number": "京公刑立字〔2026〕78号", "legal_basis": "CPL art. 286"}


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Installation, str, subprocess.Popen[str]]]:
    setup = installation(tmp_path)
    setup.home.ledger.close()
    port = free_port()
    env = {**os.environ, "VEIL_HOME": str(tmp_path), "VEIL_IDENTITY_CHECK": "demo"}
    env.pop("VEIL_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(VEIL), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal would give it
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "veil serve did not start"
        time.sleep(0.2)
    try:
        yield setup, url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the server processes too
                process.wait()


def entries(setup: Installation) -> int:
    with setup.home.engine.connect() as conn:
        count: int = conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one()
    return count


def ask(setup: Installation, url: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/disclosures",
        json={"subject": {"id_number": SEALED}, "purpose": "case_handling", **CASE},
        headers={"Authorization": f"Bearer {setup.tokens['court']}"},
    )


def test_served_disclosures_are_in_the_ledger_and_fail_closed_without_it(
    server: tuple[Installation, str, subprocess.Popen[str]],
) -> None:
    setup, url, _ = server
    before = entries(setup)
    answer = ask(setup, url)
    assert answer.status_code == 200 and answer.json()["records"]
    assert entries(setup) == before + 1  # durable by the time the answer came

    with setup.home.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_away"))
    try:
        refused = ask(setup, url)
    finally:
        with setup.home.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_entries_away RENAME TO audit_entries"))
    assert refused.status_code == 503
    assert refused.json()["type"] == "/problems/ledger-unavailable"
    assert "records" not in refused.json() and SEALED not in refused.text
    assert entries(setup) == before + 1

    again = ask(setup, url)
    assert again.status_code == 200
    assert entries(setup) == before + 2


def test_ctrl_c_stops_the_servers_and_the_ledger_writer(
    server: tuple[Installation, str, subprocess.Popen[str]],
) -> None:
    setup, url, process = server
    assert ask(setup, url).status_code == 200
    writers = [p for p in children(process.pid) if "veil.ledger.service" in command_line(p)]
    assert len(writers) == 1
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole process group hears it
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while command_line(writers[0]) and "veil.ledger.service" in command_line(writers[0]):
        assert time.monotonic() < deadline, "the ledger writer outlived veil serve"
        time.sleep(0.1)


def listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on `port` (TCP over IPv4, as /proc/net/tcp lists them)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
            found.add(fields[9])
    return found


def socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                found.add(target[len("socket:[") : -1])
    return found


def test_each_server_process_accepts_on_a_socket_of_its_own(
    server: tuple[Installation, str, subprocess.Popen[str]],
) -> None:
    # One shared socket let one process accept a whole burst of connections while the
    # other stayed idle; with SO_REUSEPORT the kernel spreads them over both.
    _, url, process = server
    port = int(url.rpartition(":")[2])
    listening = listening_inodes(port)
    servers = [p for p in children(process.pid) if "spawn_main" in command_line(p)]
    held = [socket_inodes(pid) & listening for pid in servers]
    assert len(servers) == 2 and len(listening) == 2
    assert all(len(sockets) == 1 for sockets in held) and held[0] != held[1]


def test_listening_sockets_share_one_port_and_refuse_a_taken_one() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1 and len(listening_inodes(ports.pop())) == 3
    finally:
        for sock in sockets:
            sock.close()
    with socket.socket() as taken:  # a program that did not ask to share its port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            listening_sockets("127.0.0.1", taken.getsockname()[1], 2)


def test_server_processes_that_fail_as_they_start_are_not_restarted_forever() -> None:
    import uvicorn

    config = uvicorn.Config("veil_no_such_module:app", factory=True, host="127.0.0.1", port=0)
    with pytest.raises(RuntimeError, match="failed as it started"):
        ServerProcesses(config).run(2)
