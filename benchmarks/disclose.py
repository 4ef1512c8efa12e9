"""Disclosure benchmark: audited disclosures per second over HTTP on loopback.

Run with `make bench-disclose` (or `.venv/bin/python benchmarks/disclose.py --help`).
A synthetic population is ingested into a SQLite home under bench-data/; then the same
server (uvicorn, in its own process, as `veil serve` runs it) is measured twice in one run:
with the audit ledger as shipped, and with the ledger append switched off (a stand-in that
records nothing; it exists only in this file). Concurrent connections from wrk (Debian's
`wrk`, installed by `make bench-disclose`; a C client, so the client costs little of the
two cores) send a mix of requests for a fixed time after a warm-up: lawful screenings,
case-handling reads, and refusals, about subjects with records and without. Figures:
disclosures per second, p50 and p99 latency, and the ledger's cost as the share of
throughput lost to it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx  # only to wait for the server to answer

ROOT = Path(__file__).resolve().parent.parent
VEIL = str(Path(sys.executable).parent / "veil")
TARGET_RATE = 1_000
TARGET_P99_MS = 50.0
TARGET_LEDGER_COST = 0.30


def prepare(folder: Path, persons: int) -> tuple[dict[str, str], list[str]]:
    """A home with `persons` synthetic persons' records and one organisation per role."""
    env = {**os.environ, "VEIL_HOME": str(folder), "VEIL_DATABASE_URL": ""}
    marker = folder / "bench.json"
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved["persons"] == persons:
            # A home kept from an older Veil: new keys and migrations (safe to repeat).
            subprocess.run([VEIL, "init"], env=env, check=True, capture_output=True)
            return saved["tokens"], saved["ids"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    run = lambda *args: subprocess.run([VEIL, *args], env=env, check=True, capture_output=True)  # noqa: E731
    run("init")
    data = folder / "population.csv"
    run("synth", "--persons", str(persons), "--seed", "7", "--out", str(data))
    subprocess.run([VEIL, "ingest", str(data)], env=env, capture_output=True, check=False)
    with data.open(newline="", encoding="utf-8") as handle:
        ids = sorted({row["id_number"] for row in csv.DictReader(handle) if row["id_number"]})
    tokens = {}
    for org_type in ("court", "school", "employer"):
        out = run("org", "create", "--name", f"bench {org_type}", "--type", org_type, "--json")
        tokens[org_type] = json.loads(out.stdout)["token"]
    marker.write_text(json.dumps({"persons": persons, "tokens": tokens, "ids": ids}))
    return tokens, ids


class NoLedger:
    """Records nothing: the baseline the ledger's cost is measured against."""

    def append(self, entry: Any, subject_index: bytes | None = None) -> int:
        return 0

    async def append_async(self, entry: Any, subject_index: bytes | None = None) -> int:
        return 0

    def entries_for_subject(self, conn: Any, subject_index: bytes) -> list[Any]:
        return []

    def close(self) -> None:
        pass


def app() -> Any:
    """The app factory each server worker calls: `veil serve`'s, ledger on or off."""
    from veil.api.app import create_app
    from veil.home import Home

    home = Home()
    home.check_ready()
    if os.environ.get("BENCH_LEDGER") == "off":
        home.__dict__["ledger"] = NoLedger()
    return create_app(home)


def serve(folder: Path, port: int, ledger: bool, workers: int) -> None:
    """The server process: as `veil serve --workers` runs it (uvicorn's processes and the
    ledger's writer process), or with the ledger off (no writer process, nothing appended)."""
    os.environ["VEIL_HOME"] = str(folder)
    os.environ.pop("VEIL_DATABASE_URL", None)
    os.environ["BENCH_LEDGER"] = "on" if ledger else "off"
    from veil.api.serving import run_server, serve_app

    options: dict[str, Any] = {
        "app_dir": str(Path(__file__).parent),
        "workers": workers,
        "host": "127.0.0.1",
        "port": port,
        "log_level": "warning",
        "access_log": False,
    }
    if ledger:
        run_server("disclose:app", **options)
    else:
        serve_app("disclose:app", **options)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def requests_mix(
    ids: list[str], rng: random.Random, count: int
) -> list[tuple[str, dict[str, Any]]]:
    """(organisation type, body): 70% screenings, 20% case reads, 10% refusals; a quarter
    of the subjects have no record."""
    absent = [f"1101051990{i:07d}X" for i in range(1000)]
    mix = []
    for _ in range(count):
        subject = rng.choice(absent if rng.random() < 0.25 else ids)
        roll = rng.random()
        if roll < 0.7:
            org, fields = (
                "school",
                {
                    "purpose": "statutory_screening",
                    "regulation": "cn-minors-protection-62",
                    "consent_ref": "C-1",
                    "post": "teacher",
                },
            )
        elif roll < 0.9:
            org, fields = (
                "court",
                {"purpose": "case_handling", "case_number": "B-1", "legal_basis": "CPL art. 286"},
            )
        else:
            org, fields = (
                "employer",
                {"purpose": "case_handling", "case_number": "B-1", "legal_basis": "none"},
            )
        mix.append((org, {"subject": {"id_number": subject}, **fields}))
    return mix


WRK_SCRIPT = """
local requests = {%s}
local threads = {}
local i = 0
bad = 0  -- global: done() reads it from each thread
function setup(thread) table.insert(threads, thread) end
function init(args) i = math.random(#requests) end
function request()
  i = i %% #requests + 1
  local r = requests[i]
  return wrk.format("POST", "/api/v1/disclosures",
    {["Authorization"] = "Bearer " .. r[1], ["Content-Type"] = "application/json"}, r[2])
end
function response(status, headers, body)
  if status ~= 200 and status ~= 403 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local unexpected = 0
  for _, thread in ipairs(threads) do unexpected = unexpected + thread:get("bad") end
  io.write(string.format("VEIL %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), unexpected))
end
"""


def wrk_script(tokens: dict[str, str], mix: list[tuple[str, dict[str, Any]]], path: Path) -> Path:
    """A wrk Lua script that cycles through `mix` (long brackets: no escaping needed)."""
    rows = ",\n".join(
        f"{{[==[{tokens[org]}]==], [==[{json.dumps(body, ensure_ascii=False)}]==]}}"
        for org, body in mix
    )
    path.write_text(WRK_SCRIPT % rows, encoding="utf-8")
    return path


def load(url: str, script: Path, clients: int, warmup: float, seconds: float) -> dict[str, float]:
    """Drive the server with wrk (one thread, `clients` connections); its figures."""
    run = ["wrk", "-t1", f"-c{clients}", "-s", str(script), url]
    subprocess.run(
        [*run[:2], run[2], f"-d{max(1, round(warmup))}s", *run[3:]], check=True, capture_output=True
    )
    out = subprocess.run(
        [*run[:3], f"-d{round(seconds)}s", *run[3:]], check=True, capture_output=True, text=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("VEIL "))
    requests, micros, p50, p99, unexpected = (int(v) for v in line.split()[1:])
    if unexpected:
        raise SystemExit(f"{unexpected} answers were neither 200 nor 403:\n{out}")
    return {
        "rate": requests / (micros / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "requests": requests,
    }


def measure(folder: Path, script: Path, ledger: bool, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(folder),
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            *([] if ledger else ["--no-ledger"]),
        ],
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        return load(url, script, args.clients, args.warmup, args.seconds)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--persons",
        type=int,
        default=1_400_000,
        help="residents synthesised (1/1000 of the nation)",
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each server; best counts")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-ledger", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, ledger=not args.no_ledger, workers=args.workers)
        return
    folder = ROOT / "bench-data" / "disclose"
    print(f"Preparing {args.persons:,} persons in {folder} ...", flush=True)
    tokens, ids = prepare(folder, args.persons)
    mix = requests_mix(ids, random.Random(1), 5_000)
    print(
        f"wrk, {args.clients} connections, {args.workers} server process(es), "
        f"{args.seconds:.0f} s measured after "
        f"{args.warmup:.0f} s warm-up, best of {args.repeat} runs each",
        flush=True,
    )
    script = wrk_script(tokens, mix, folder / "requests.lua")
    # Off and on alternate, `--repeat` times each; the best run of each counts (the least
    # disturbed by other work on a shared machine).
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for _ in range(args.repeat):
        for ledger in (False, True):
            runs[ledger].append(measure(folder, script, ledger=ledger, args=args))
    without, audited = (max(runs[ledger], key=lambda r: r["rate"]) for ledger in (False, True))
    cost = 1 - audited["rate"] / without["rate"]
    print()
    print(f"{'server':<26}{'disclosures/s':>15}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}")
    for name, figures in (("ledger off (baseline)", without), ("ledger on (as shipped)", audited)):
        print(
            f"{name:<26}{figures['rate']:>15,.0f}{figures['p50_ms']:>10.1f}"
            f"{figures['p99_ms']:>10.1f}{figures['requests']:>10,}"
        )
    print()
    print(
        f"audited throughput: {audited['rate'] / without['rate']:.2f}x the baseline; "
        f"the ledger costs {cost:.0%} of throughput (target <= {TARGET_LEDGER_COST:.0%})"
    )
    print(
        f"audited rate {audited['rate']:,.0f}/s (target >= {TARGET_RATE:,}), "
        f"p99 {audited['p99_ms']:.1f} ms (target <= {TARGET_P99_MS:.0f} ms)"
    )


if __name__ == "__main__":
    main()
