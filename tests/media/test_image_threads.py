"""Image work runs beside the event loop, in threads that give way to a request's other steps."""

import os
import sys
import threading

import pytest

from app.media import service


def _where_and_how_nice() -> tuple[int, int]:
    native_id = threading.get_native_id()
    return native_id, os.getpriority(os.PRIO_PROCESS, native_id)


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own priority on Linux")
async def test_image_work_runs_in_threads_of_the_lowest_priority():
    loop_thread, loop_nice = _where_and_how_nice()
    thread, nice = await service._run_in_image_thread(_where_and_how_nice)
    assert thread != loop_thread
    assert nice == service.IMAGE_THREAD_NICE == 19
    assert _where_and_how_nice() == (loop_thread, loop_nice)  # the event loop keeps its own
