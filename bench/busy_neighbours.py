"""Uploads beside busy neighbours: what CPU_WORK_PRIORITY=idle costs there, and normal.

    .venv/bin/python -m bench.busy_neighbours

One CPU-bound program per core runs beside the server, as on a laptop that is compiling; each
server takes HD uploads one after another, first on a quiet machine, then beside them.
Idle-class image threads get only a sliver of a busy core: expect seconds per upload there.
"""

import asyncio
import os
import statistics
import sys

from bench.media_upload import client_of, photo_like, upload, upload_ms
from bench.server import live_server

BUSY_LOOP = "while True: pass"


async def quiet_and_busy_ms(priority: str, data: bytes) -> tuple[float, float]:
    """Median milliseconds per upload, quiet and beside one busy program per core."""
    with live_server(extra_env={"CPU_WORK_PRIORITY": priority}) as server:
        async with client_of(server) as client:
            quiet, _p99 = await upload_ms(client, data, rounds=5)
            neighbours = [
                await asyncio.create_subprocess_exec(sys.executable, "-c", BUSY_LOOP)
                for _ in range(os.cpu_count() or 2)
            ]
            try:
                await asyncio.sleep(0.5)  # the neighbours are up and running
                busy = [await upload(client, data, "busy.jpg") for _ in range(2)]
            finally:
                for neighbour in neighbours:
                    neighbour.kill()
                    await neighbour.wait()
    return quiet, statistics.median(busy) * 1000


async def run() -> None:
    data = photo_like((1920, 1080), quality=92)
    print(f"1920x1080 JPEG upload, beside {os.cpu_count()} CPU-bound programs:")
    for priority in ("normal", "idle"):
        quiet, busy = await quiet_and_busy_ms(priority, data)
        print(f"- CPU_WORK_PRIORITY={priority}: {quiet:.0f} ms quiet, {busy:.0f} ms beside them")


if __name__ == "__main__":
    asyncio.run(run())
