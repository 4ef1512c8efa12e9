"""Scanning ranges of the log here and in worker processes at once (for `veil audit verify`).

Reading and hashing a million entries takes one Python process about three seconds (two
SHA-256 calls per entry, each mostly call overhead), so each further core runs a
`python -m veil.ledger.scan` worker. All take the next range in turn; results are handed
on in order as soon as they can be, so that combining them overlaps the scan. A worker
that fails hands its range back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO, Any

from sqlalchemy import Connection

from veil.ledger.scan import CHUNK, Job, RangeResult, scan_range
from veil.ledger.sql import source, worker_source

MAX_WORKERS = 3

Progress = Callable[[int, int], None]  # (entries done, entries in all)


def cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Pool:
    """Up to `count` worker processes over `conn`'s database, started at once so that they
    are ready by the time the ranges are known; none for an in-memory database."""

    def __init__(self, conn: Connection, count: int) -> None:
        self._conn = conn
        self._workers: list[_Worker] = []
        source = worker_source(conn)
        if source is None:
            return
        for _ in range(min(count, MAX_WORKERS)):
            try:
                self._workers.append(_Worker(*source))
            except OSError:
                break  # no worker: this process scans on its own

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for worker in self._workers:
            worker.close()

    def scan(
        self,
        jobs: Sequence[Job],
        each: Callable[[RangeResult], object],
        progress: Progress | None = None,
    ) -> None:
        """Scan every job; `each` is called with the results in the order of `jobs`, as
        soon as each one and all before it are done, so that it works while they scan."""
        pending = deque(enumerate(jobs))
        waiting: dict[int, RangeResult] = {}
        lock = threading.Lock()
        total, done, handed = sum(job.high - job.low for job in jobs), 0, 0

        def take() -> tuple[int, Job] | None:
            with lock:
                return pending.popleft() if pending else None

        def finished(number: int, job: Job, result: RangeResult) -> None:
            nonlocal done, handed
            with lock:
                waiting[number] = result
                done += job.high - job.low
                if progress is not None:
                    progress(done, total)
                while handed in waiting:
                    each(waiting.pop(handed))
                    handed += 1

        def serve(worker: _Worker) -> None:
            while (taken := take()) is not None:
                try:
                    result = worker.run(taken[1])
                except (OSError, ValueError, KeyError):
                    with lock:
                        pending.appendleft(taken)  # this process will do it
                    return
                finished(*taken, result)

        here = source(self._conn, CHUNK)
        helpers = [threading.Thread(target=serve, args=(w,), daemon=True) for w in self._workers]
        for helper in helpers if len(jobs) > 1 else []:
            helper.start()
        if progress is not None:
            progress(0, total)
        while True:
            while (taken := take()) is not None:
                finished(*taken, scan_range(here, taken[1]))
            for helper in helpers if len(jobs) > 1 else []:
                helper.join()
            if not pending:  # else a worker that failed put its job back
                break


class _Worker:
    """A `python -m veil.ledger.scan` process: one JSON job in, one JSON result out."""

    def __init__(self, backend: str, dsn: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "veil.ledger.scan"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a failed worker's job is redone here, and fails here
            text=True,
        )
        self._send({"backend": backend, "dsn": dsn})

    def _send(self, data: dict[str, Any]) -> None:
        stdin: IO[str] | None = self._process.stdin
        assert stdin is not None  # noqa: S101 - opened with PIPE
        stdin.write(json.dumps(data) + "\n")
        stdin.flush()

    def run(self, job: Job) -> RangeResult:
        self._send(job.as_json())
        stdout: IO[str] | None = self._process.stdout
        assert stdout is not None  # noqa: S101 - opened with PIPE
        line = stdout.readline()
        if not line:
            raise OSError("the scan worker stopped")
        return RangeResult.from_json(json.loads(line))

    def close(self) -> None:
        try:
            if self._process.stdin is not None:
                self._process.stdin.close()
            self._process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            if self._process.stdout is not None:
                self._process.stdout.close()
