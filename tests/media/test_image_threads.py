"""Image work runs beside the event loop, in threads that give way to a request's other steps."""

import os
import sys
import threading

import pytest

from app.media import service


def _thread_and_policy() -> tuple[int, int]:
    native_id = threading.get_native_id()
    return native_id, os.sched_getscheduler(native_id)


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own policy on Linux")
async def test_image_work_runs_in_idle_class_threads():
    loop_thread, loop_policy = _thread_and_policy()
    thread, policy = await service._run_in_image_thread(_thread_and_policy)
    assert thread != loop_thread
    assert policy == os.SCHED_IDLE
    assert loop_policy == os.SCHED_OTHER  # the event loop keeps the normal class
    assert _thread_and_policy() == (loop_thread, os.SCHED_OTHER)
