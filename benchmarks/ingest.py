"""Ingest benchmark: `veil ingest` against plain sqlite3.executemany of the same rows.

Run with `make bench` (or `.venv/bin/python benchmarks/ingest.py --help`). Both sides run
as separate processes on the same CSV file in the same run, so the ratio holds on a
noisy shared machine; peak memory is each process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Rows per person of the population that `veil synth` writes (about 3% carry ~1.4 records).
ROWS_PER_PERSON = 0.0414

BASELINE = r"""
import csv, sqlite3, sys
path, db = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db)
with open(path, newline="", encoding="utf-8") as handle:
    reader = csv.reader(handle)
    header = next(reader)
    conn.execute(f"CREATE TABLE records ({', '.join(header)})")
    conn.executemany(f"INSERT INTO records VALUES ({', '.join('?' * len(header))})", reader)
conn.commit()
print(conn.execute("SELECT count(*) FROM records").fetchone()[0])
"""


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB and standard output of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{command[0]} failed: {output[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, output


def synthesise(records: int, workdir: Path) -> Path:
    path = workdir / f"synth-{records}.csv"
    if not path.exists():
        persons = math.ceil(records / ROWS_PER_PERSON)
        print(f"writing about {records:,} synthetic records ({persons:,} people) to {path}")
        subprocess.run(
            [
                str(VENV_BIN / "veil"),
                "synth",
                "--persons",
                str(persons),
                "--seed",
                "1",
                "--out",
                str(path),
            ],
            check=True,
        )
    return path


def run_veil(path: Path, workdir: Path) -> tuple[float, float, int]:
    home = workdir / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "VEIL_HOME": str(home)}
    env.pop("VEIL_DATABASE_URL", None)
    subprocess.run([str(VENV_BIN / "veil"), "init"], check=True, env=env, capture_output=True)
    elapsed, peak, output = measure([str(VENV_BIN / "veil"), "ingest", str(path), "--json"], env)
    accepted = int(output.split('"accepted":')[1].split(",")[0])
    return elapsed, peak, accepted


def run_baseline(path: Path, workdir: Path) -> tuple[float, float, int]:
    db = workdir / "baseline.db"
    db.unlink(missing_ok=True)
    elapsed, peak, output = measure([sys.executable, "-c", BASELINE, str(path), str(db)])
    return elapsed, peak, int(output.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--memory-records",
        type=int,
        default=4_000_000,
        help="a second, larger run whose peak memory must equal the first's",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-data")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    path = synthesise(args.records, args.workdir)
    base_s, base_mb, base_n = run_baseline(path, args.workdir)
    veil_s, veil_mb, veil_n = run_veil(path, args.workdir)
    print()
    print(f"records                     {veil_n:>12,}")
    print(
        f"baseline executemany        {base_s:>9.1f} s  {base_n / base_s:>10,.0f} rec/s  "
        f"peak {base_mb:,.0f} MiB"
    )
    print(
        f"veil ingest                 {veil_s:>9.1f} s  {veil_n / veil_s:>10,.0f} rec/s  "
        f"peak {veil_mb:,.0f} MiB"
    )
    print(f"veil time / baseline time   {veil_s / base_s:>9.2f} x  (target <= 4)")
    print(f"veil records/s              {veil_n / veil_s:>12,.0f}  (target >= 50,000)")
    if args.memory_records:
        big = synthesise(args.memory_records, args.workdir)
        big_s, big_mb, big_n = run_veil(big, args.workdir)
        print(
            f"veil ingest, larger file    {big_s:>9.1f} s  {big_n / big_s:>10,.0f} rec/s  "
            f"peak {big_mb:,.0f} MiB  ({big_n:,} records)"
        )
        print(f"peak memory larger/smaller  {big_mb / veil_mb:>9.2f} x  (target: the same)")


if __name__ == "__main__":
    main()
