"""CPU-bound work in threads of its own, bounded: a few at once, a short queue, then refusal.

Password hashing (64 MiB and tens of milliseconds each) and image decoding are the two things a
stranger can make this process do by the thousand. Each runs in its own pool, as many threads as
the process may really use CPUs, with a queue of fixed length behind them: a request beyond it
is refused at once (the caller turns `Busy` into a 429 or a 503) instead of waiting, so a flood
neither queues without end nor holds anything (a database connection, memory) while it waits.
"""

import asyncio
import contextlib
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
CGROUP_ROOT = Path("/sys/fs/cgroup")


class Busy(Exception):
    """Every thread is working and the queue behind them is full."""


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may run on, capped by a container's CPU quota (cgroup v2 or v1)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota(cgroup_root)
    return max(1, min(cpus, math.ceil(quota)) if quota else cpus)


def _cgroup_quota(root: Path) -> float | None:
    """`cpu.max` ("200000 100000": 2 CPUs; "max 100000": none) or v1's quota and period."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def set_cpu_work_priority(priority: str) -> None:
    """With CPU_WORK_PRIORITY=idle, move the calling thread (a pool's, as it starts) to the
    idle scheduling class (Linux keeps one per thread; threads it starts inherit it, such as
    the four lanes argon2 hashes with).

    A request's short steps wake one thread after another (the event loop, a database
    connection's thread, a storage write); behind two thumbnail renders or a password hash on
    every core, each of them waits for a core. Idle-class threads step aside the moment another
    thread wakes, so parallel uploads go faster and a staff read beside a login flood is not
    slowed (`make bench-media`, `make bench-attack`). The price: they get only a sliver of a
    core that another program keeps busy, so "normal" suits hosts shared with busy neighbours
    (`make bench-neighbours`; the figures are in the README).
    """
    # Elsewhere a thread's scheduling class cannot be set apart from its process's.
    if sys.platform != "linux" or priority != "idle":
        return
    with contextlib.suppress(OSError):  # a sandbox may refuse it; the work runs anyway
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))


class Slot:
    """A place in a `BoundedPool`, held from `reserve` on: work run through it is not refused."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor
        self.future: Future[Any] | None = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        self.future = self._executor.submit(function, *args)
        return await asyncio.wrap_future(self.future)


class BoundedPool:
    """`threads` threads, and at most `queue` callers waiting for one; the rest are `Busy`.

    A caller reserves its place before anything else it does for the work (a login counts its
    attempt in the database first), so a flood is refused before it costs anything. The count
    lives in the event loop's thread (no lock).
    """

    def __init__(
        self,
        name: str,
        threads: int,
        queue: int,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self.threads = threads
        self.capacity = threads + queue
        self.in_flight = 0
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix=name, initializer=initializer
        )

    def full(self) -> bool:
        return self.in_flight >= self.capacity

    @contextlib.contextmanager
    def reserve(self) -> Iterator[Slot]:
        """A place, or `Busy` at once."""
        if self.full():
            raise Busy()
        self.in_flight += 1
        slot = Slot(self._executor)
        try:
            yield slot
        finally:
            if slot.future is None or slot.future.done():
                self.in_flight -= 1
            else:
                # Counted until the thread is done, not until the caller stops waiting: a
                # client that hangs up does not free a place while its work occupies a thread.
                loop = asyncio.get_running_loop()
                slot.future.add_done_callback(lambda _: _call_in_loop(loop, self._release))

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in a thread, or `Busy` at once."""
        with self.reserve() as slot:
            return await slot.run(function, *args)

    def _release(self) -> None:
        self.in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def cpu_pool(name: str, *, queue_per_thread: int, priority: str, threads: int = 0) -> BoundedPool:
    """A pool of `threads` threads (default: one per usable CPU) at the given priority."""
    threads = threads or usable_cpus()
    return BoundedPool(
        name,
        threads,
        queue_per_thread * threads,
        initializer=partial(set_cpu_work_priority, priority),
    )


def _call_in_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: nothing left to count
        loop.call_soon_threadsafe(callback)
