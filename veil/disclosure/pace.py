"""A floor under the time of answers that withhold something (SPEC section 4).

A screening answer reads the subject's records and then leaves out those its regulation
does not reach (sealed ones, categories it does not name). Reading two records that are then
left out takes longer than reading none, about 17 µs at the door and measurably so over a
few thousand requests (tests/test_indistinguishability.py). A database that finds rows
through an index cannot be made to do the same work for a subject with rows as for one
without, so the answer is instead held until a fixed time after the request reached the
door, longer than the work takes (on this 2-core machine a screening takes 1.1 ms at the
median and 3.4 ms at the 99.9th percentile, ledger included). Refusals are held alike.

Answers that give the requester everything it is entitled to about the subject (case
handling, self-inquiry) are not held: their time says no more than their body does.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from veil.disclosure.door import Prepared

# Purposes whose allowed answers leave out records the subject has.
WITHHOLDING = frozenset({"statutory_screening"})


class Pace:
    def __init__(self, floor_seconds: float) -> None:
        self.floor_seconds = floor_seconds  # VEIL_ANSWER_FLOOR_MS
        self._alarm = _Alarm()

    @staticmethod
    def holds(prepared: Prepared) -> bool:
        """Whether this answer is held to the floor: refusals and withholding purposes."""
        return not prepared.allowed or prepared.purpose in WITHHOLDING

    def hold(self, started: float, prepared: Prepared) -> None:
        """Sleep until the floor after `started` (a `time.monotonic()` reading) if held."""
        if self.holds(prepared):
            remaining = started + self.floor_seconds - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)

    async def hold_async(self, started: float, prepared: Prepared) -> None:
        """As `hold`, without holding the event loop."""
        deadline = started + self.floor_seconds
        if self.holds(prepared) and deadline > time.monotonic():
            await self._alarm.at(deadline)


class _Alarm:
    """One thread that wakes waiting coroutines at exact times.

    asyncio's own timers cannot do it: the selector rounds every timeout up to a whole
    millisecond from the moment it polls, so a coroutine sleeping until T wakes at T plus a
    remainder that depends on when it began to sleep, that is on how long its work took:
    exactly what the floor must hide (measured: a 57 µs difference survived a 5 ms floor
    kept with `asyncio.sleep`). A thread's timed wait has no such rounding.
    """

    def __init__(self) -> None:
        self._due: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def at(self, deadline: float) -> asyncio.Future[None]:
        """A future of the running loop, done at `deadline` (`time.monotonic()`)."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._changed:
            heapq.heappush(self._due, (deadline, next(self._order), woken))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="veil-pace", daemon=True)
                self._thread.start()
            self._changed.notify()
        return woken

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    woken = heapq.heappop(self._due)[2]
                    with contextlib.suppress(RuntimeError):  # its loop closed: none waits
                        woken.get_loop().call_soon_threadsafe(_wake, woken)
                self._changed.wait(self._due[0][0] - now if self._due else None)


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():  # a request whose client went away is cancelled
        woken.set_result(None)
