"""Bounded thread pools for CPU-bound work, sized from the CPUs the process may really use."""

import asyncio
import os
import threading

import pytest

from app.common.workers import BoundedPool, Busy, usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "150000 100000\n"}, min(AFFINITY, 2)),  # 1.5 CPUs: 2 threads
        ({"cpu.max": "50000 100000\n"}, 1),
        ({"cpu.max": "max 100000\n"}, AFFINITY),
        ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, AFFINITY),
        ({}, AFFINITY),
    ],
    ids=["v2-quota", "v2-half", "v2-none", "v1-quota", "v1-none", "no-cgroup"],
)
def test_usable_cpus_honour_a_container_quota(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert usable_cpus(tmp_path) == expected


async def test_beyond_threads_and_queue_a_call_is_refused_at_once():
    pool = BoundedPool("test", threads=1, queue=1)
    release = threading.Event()
    running = [asyncio.ensure_future(pool.run(release.wait, 10)) for _ in range(2)]
    await asyncio.sleep(0.05)
    with pytest.raises(Busy):
        await pool.run(lambda: None)
    release.set()
    assert await asyncio.gather(*running) == [True, True]
    assert pool.in_flight == 0
    assert await pool.run(lambda: 42) == 42
    pool.shutdown()


async def test_a_caller_that_stops_waiting_frees_no_place_while_its_work_runs():
    pool = BoundedPool("test", threads=1, queue=0)
    release = threading.Event()
    started = threading.Event()

    def work() -> None:
        started.set()
        release.wait(10)

    abandoned = asyncio.ensure_future(pool.run(work))
    await asyncio.to_thread(started.wait, 10)
    abandoned.cancel()
    await asyncio.sleep(0.05)
    assert pool.full()  # the thread is still busy
    release.set()
    for _ in range(100):
        if not pool.full():
            break
        await asyncio.sleep(0.01)
    assert not pool.full()
    pool.shutdown()
