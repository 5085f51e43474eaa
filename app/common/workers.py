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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


class BoundedPool:
    """`threads` threads, and at most `queue` calls waiting for one; the rest are `Busy`.

    The count lives in the event loop's thread (no lock): admission is decided there, before
    the call is handed to a thread.
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

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self.full():
            raise Busy()
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        try:
            future = self._executor.submit(function, *args)
        except BaseException:
            self.in_flight -= 1
            raise
        # Counted until the thread is done, not until the caller stops waiting: a client that
        # hangs up does not free a place while its work still occupies a thread.
        future.add_done_callback(lambda _: _call_in_loop(loop, self._release))
        return await asyncio.wrap_future(future, loop=loop)

    def _release(self) -> None:
        self.in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _call_in_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: nothing left to count
        loop.call_soon_threadsafe(callback)
