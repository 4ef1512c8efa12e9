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
import ctypes
import heapq
import itertools
import os
import threading
import time
import weakref
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

    def hold(self, prepared: Prepared) -> None:
        """If held, sleep until the floor after the door took the request."""
        if self.holds(prepared):
            remaining = prepared.started + self.floor_seconds - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)

    async def hold_async(self, prepared: Prepared) -> None:
        """As `hold`, without holding the event loop."""
        deadline = prepared.started + self.floor_seconds
        if self.holds(prepared) and deadline > time.monotonic():
            await self._alarm.at(deadline)


class _Alarm:
    """Wakes waiting coroutines at exact times, on their event loop, through a Linux timer
    file descriptor (timerfd_create(2)) that the loop watches like a socket.

    asyncio's own timers cannot do it: the selector rounds every timeout up to a whole
    millisecond from the moment it polls, so a coroutine sleeping until T wakes at T plus a
    remainder that depends on when it began to sleep, that is on how long its work took:
    exactly what the floor must hide (measured: a 57 µs difference survived a 5 ms floor
    kept with `asyncio.sleep`). A timer thread keeps time too, but wakes the loop from
    another thread, taking the interpreter lock from it at every wake; with it, four
    comparisons of 3,000 requests each gave Mann–Whitney p = 0.06–0.18 and medians 11–16 µs
    apart, with this timer p = 0.33–0.99 and 2–10 µs (tests/test_indistinguishability.py's
    measurement, 3,000 samples).
    Python wraps timerfd only from 3.13 (`os.timerfd_create`); on 3.11 ctypes calls libc.
    """

    def __init__(self) -> None:
        # One timer per event loop: a process may run several (a server thread, a test's).
        self._timers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopTimer] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def at(self, deadline: float) -> asyncio.Future[None]:
        """A future of the running loop, done at `deadline` (`time.monotonic()`)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            timer = self._timers.get(loop)
            if timer is None:
                timer = self._timers[loop] = _LoopTimer(loop)
        return timer.at(loop, deadline)


class _LoopTimer:
    """The waiters of one event loop and the timerfd it watches for them (closed with the
    loop). Used from the loop's own thread only."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._fd = _timerfd.create()
        weakref.finalize(loop, os.close, self._fd)
        loop.add_reader(self._fd, self._fire)

    def at(self, loop: asyncio.AbstractEventLoop, deadline: float) -> asyncio.Future[None]:
        woken: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._due, (deadline, next(self._order), woken))
        if self._due[0][2] is woken:
            _timerfd.arm(self._fd, deadline)
        return woken

    def _fire(self) -> None:
        with contextlib.suppress(BlockingIOError):  # read already, or re-armed later
            os.read(self._fd, 8)
        now = time.monotonic()
        while self._due and self._due[0][0] <= now:
            woken = heapq.heappop(self._due)[2]
            if not woken.done():  # a request whose client went away is cancelled
                woken.set_result(None)
        if self._due:
            _timerfd.arm(self._fd, self._due[0][0])


class _TimerFd:
    """timerfd_create(2) and timerfd_settime(2) on CLOCK_MONOTONIC, `time.monotonic`'s clock."""

    CLOCK_MONOTONIC, TFD_TIMER_ABSTIME = 1, 1
    TFD_NONBLOCK, TFD_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)

    def create(self) -> int:
        fd = int(
            self._libc.timerfd_create(self.CLOCK_MONOTONIC, self.TFD_NONBLOCK | self.TFD_CLOEXEC)
        )
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        return fd

    def arm(self, fd: int, deadline: float) -> None:
        """Fire once at `deadline`; at once if it has passed (an absolute time)."""
        seconds = max(deadline, 1e-9)  # zero would disarm
        value = _Timespec(int(seconds), int((seconds % 1) * 1_000_000_000))
        spec = _Itimerspec(_Timespec(0, 0), value)
        if self._libc.timerfd_settime(fd, self.TFD_TIMER_ABSTIME, ctypes.byref(spec), None) < 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


_timerfd = _TimerFd()
