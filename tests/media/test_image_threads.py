"""Image work runs beside the event loop, in threads that give way to a request's other steps
(or, if so configured, share the cores fairly)."""

import os
import sys
import threading

import pytest

from app.media import service
from app.settings import Settings

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="threads have their own scheduling class on Linux only"
)


def _thread_and_class() -> tuple[int, int]:
    native_id = threading.get_native_id()
    return native_id, os.sched_getscheduler(native_id)


async def test_image_work_runs_in_idle_class_threads(app):
    if app.state.settings.cpu_work_priority != "idle":
        pytest.skip("CPU_WORK_PRIORITY is set to something else than the default here")
    loop_thread, loop_class = _thread_and_class()
    images = app.state.image_pool
    thread, scheduling_class = await service._run_in_image_thread(images, _thread_and_class)
    assert thread != loop_thread
    assert scheduling_class == os.SCHED_IDLE
    assert loop_class == os.SCHED_OTHER  # the event loop keeps the normal class
    assert _thread_and_class() == (loop_thread, os.SCHED_OTHER)


async def test_password_hashing_runs_in_idle_class_threads(app):
    """argon2 hashes in four threads of its own, which inherit the class of the pool's thread."""
    if app.state.settings.cpu_work_priority != "idle":
        pytest.skip("CPU_WORK_PRIORITY is set to something else than the default here")
    _thread, scheduling_class = await app.state.password_pool.run(_thread_and_class)
    assert scheduling_class == os.SCHED_IDLE


async def test_normal_priority_leaves_image_threads_in_the_normal_class(monkeypatch):
    monkeypatch.setenv("IMAGE_WORK_PRIORITY", "normal")  # the setting's former name still works
    settings = Settings(_env_file=None)
    assert settings.cpu_work_priority == "normal"
    images = service.image_pool(settings)
    try:
        _thread, scheduling_class = await images.run(_thread_and_class)
    finally:
        images.shutdown()
    assert scheduling_class == os.SCHED_OTHER
