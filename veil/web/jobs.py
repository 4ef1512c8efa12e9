"""What the bureau's pages keep between requests: sealing sweeps running in the background,
and recent ingest reports for their CSV download.

Kept in this server process's memory, a bounded number of each: a restart forgets them
(a finished sweep or ingest is in the store and the ledger all the same), and with
`veil serve --workers N` a job's page answers only in the process that started it (the
others say they do not know it). One sweep runs at a time per process; the store's
transaction keeps sweeps from different processes apart.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from veil.ledger.log import LedgerUnavailable
from veil.store.sweep import EngineError, Progress, SweepResult
from veil.web.language import N_

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP = 20


class Recent(Generic[T]):
    """The last `keep` values added, each under an unguessable key."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._values: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, value: T) -> str:
        key = secrets.token_urlsafe(16)
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.keep:
                self._values.popitem(last=False)
        return key

    def get(self, key: str) -> T | None:
        with self._lock:
            return self._values.get(key)


@dataclass
class SweepJob:
    as_of: dt.date
    by: str  # who started it, as the ledger names them
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # (records done, records in all), replaced whole so a reader never sees half of it.
    progress: tuple[int, int | None] = (0, None)
    result: SweepResult | None = None
    error: str | None = None  # a msgid
    detail: str = ""  # what the engine said, for an EngineError

    @property
    def running(self) -> bool:
        return self.result is None and self.error is None

    @property
    def percent(self) -> int:
        done, total = self.progress
        return min(100, done * 100 // total) if total else 0

    def report(self, done: int, total: int) -> None:
        self.progress = (done, total)


Sweep = Callable[[dt.date, str, Progress], SweepResult]


class SweepJobs:
    """Sweeps run in a background thread, one at a time, kept in `Recent` by job id."""

    def __init__(self, sweep: Sweep) -> None:
        self._sweep = sweep
        self._jobs: Recent[SweepJob] = Recent()
        self._lock = threading.Lock()
        self._current: tuple[str, SweepJob] | None = None

    def start(self, as_of: dt.date, by: str) -> tuple[str, bool]:
        """The id of a new sweep job, started now, and True; or the running one's and False."""
        with self._lock:
            if self._current is not None and self._current[1].running:
                return self._current[0], False
            job = SweepJob(as_of, by)
            job_id = self._jobs.add(job)
            self._current = (job_id, job)
        threading.Thread(target=self._run, args=(job,), name="veil-sweep", daemon=True).start()
        return job_id, True

    def get(self, job_id: str) -> SweepJob | None:
        return self._jobs.get(job_id)

    def _run(self, job: SweepJob) -> None:
        try:
            job.result = self._sweep(job.as_of, job.by, job.report)
        except EngineError as exc:
            job.detail = str(exc)
            job.error = N_("The sweep could not run on this store's engine.")
        except LedgerUnavailable:
            job.error = N_("The sweep was stored, but the audit ledger could not record it.")
        except Exception:
            log.exception("sealing sweep as of %s failed", job.as_of)
            job.error = N_("The sweep failed. The server's log says why.")
