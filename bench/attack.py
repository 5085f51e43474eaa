"""What one anonymous client can do to a live server (one worker), and what it must not:

1. A login flood: 60 concurrent `POST /api/auth/token/` with unknown usernames, each from
   another `X-Forwarded-For` address (this client is a trusted proxy, as a gateway would be),
   for 15 s, while a staff user reads `/api/portfolios/` every 0.2 s. Reported: the reader's
   p50, p99 and max, and the status of every login (no 5xx allowed).
2. 8 concurrent uploads of an image at the pixel limit: the server's peak memory above idle,
   and their statuses.

    make bench-attack                                          # SQLite
    make bench-attack DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/postgres

The load comes from this process, on the same machine as the server.
"""

import asyncio
import collections
import io
import itertools
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from app.settings import Settings
from bench.media_upload import photo_like, rss_kib
from bench.server import Server, live_server

FLOOD_CLIENTS = 60
FLOOD_SECONDS = 15.0
READ_EVERY = 0.2
UPLOADS = 8


async def login_flood(client: httpx.AsyncClient, until: float) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    numbers = itertools.count()

    async def guesser() -> None:
        while time.monotonic() < until:
            n = next(numbers)
            address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
            response = await client.post(
                "/api/auth/token/",
                json={"username": f"ghost-{n}", "password": "not a password"},
                headers={"X-Forwarded-For": address},
            )
            statuses[response.status_code] += 1

    await asyncio.gather(*(guesser() for _ in range(FLOOD_CLIENTS)))
    return statuses


async def staff_reads(client: httpx.AsyncClient, until: float) -> list[float]:
    timings = []
    began = time.perf_counter()
    while time.monotonic() < until:
        started = time.perf_counter()
        response = await client.get("/api/portfolios/")
        timings.append(time.perf_counter() - started)
        if timings[-1] > 0.1:
            print(f"    slow read at {started - began:.2f} s: {timings[-1] * 1000:.0f} ms")
        response.raise_for_status()
        await asyncio.sleep(max(0.0, READ_EVERY - timings[-1]))
    return timings


def flood_in_own_process(url: str, seconds: float) -> collections.Counter[int]:
    """The attacker runs in a process of its own, so that the reader's timings are the
    server's, not those of an event loop shared with 60 busy clients."""

    async def attack() -> collections.Counter[int]:
        limits = httpx.Limits(max_connections=FLOOD_CLIENTS + 5)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as attacker:
            return await login_flood(attacker, time.monotonic() + seconds)

    return asyncio.run(attack())


async def flood(server: Server) -> None:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Token {server.token}"}, timeout=60
    ) as reader:
        await staff_reads(reader, time.monotonic() + 1)  # warm up
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as process:
            await asyncio.wrap_future(process.submit(flood_in_own_process, server.url, 0))  # warm
            attack = asyncio.wrap_future(
                process.submit(flood_in_own_process, server.url, FLOOD_SECONDS)
            )
            timings = await staff_reads(reader, time.monotonic() + FLOOD_SECONDS - 1)
            statuses = await attack
    timings_ms = sorted(t * 1000 for t in timings)
    p99 = timings_ms[max(0, int(len(timings_ms) * 0.99) - 1)]
    print(f"login flood: {FLOOD_CLIENTS} clients for {FLOOD_SECONDS:.0f} s")
    print(
        f"  staff reader ({len(timings_ms)} reads): p50 {statistics.median(timings_ms):.1f} ms,"
        f" p99 {p99:.1f} ms, max {timings_ms[-1]:.1f} ms"
        f" (slowest: {', '.join(f'{t:.0f}' for t in timings_ms[-3:])})"
    )
    print("  logins by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))


def gradient_png(size: tuple[int, int]) -> bytes:
    """A PNG at the pixel limit that still fits the upload limit: PNG has no reduced decoding
    (JPEG's draft mode decodes at an eighth of the size for thumbnails), so all of it is read."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    output = io.BytesIO()
    image.save(output, "PNG", optimize=False, compress_level=6)
    return output.getvalue()


async def peak_during_uploads(server: Server, image: bytes, name: str) -> None:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Token {server.token}"}, timeout=300
    ) as client:
        await asyncio.to_thread(Path(f"/proc/{server.pid}/clear_refs").write_text, "5")
        idle = rss_kib(server.pid, "VmRSS")
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(
                client.post("/api/media/", files={"file": (f"{n}-{name}", image)})
                for n in range(UPLOADS)
            )
        )
        elapsed = time.perf_counter() - started
        peak = (rss_kib(server.pid, "VmHWM") - idle) / 1024
    statuses = collections.Counter(response.status_code for response in responses)
    print(
        f"  {name} ({len(image) // 1024} KiB): {elapsed:.1f} s, peak memory {peak:.0f} MiB"
        " above idle; statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    )


async def uploads(server: Server) -> None:
    limit = Settings(_env_file=None).image_max_pixels
    size = (7680, limit // 7680)
    print(f"{UPLOADS} concurrent uploads of {size[0]}x{size[1]} images (the pixel limit):")
    small = await asyncio.to_thread(photo_like, (640, 480), 85)
    await peak_during_uploads(server, small, "warm-up.jpg")  # first-use allocations
    await peak_during_uploads(server, await asyncio.to_thread(photo_like, size, 85), "photo.jpg")
    await peak_during_uploads(server, await asyncio.to_thread(gradient_png, size), "gradient.png")


async def run() -> None:
    database = os.environ.get("DATABASE_URL")
    print(f"database: {'PostgreSQL' if database else 'SQLite'}, CPUs: {os.cpu_count()}")
    with live_server(database) as server:
        await flood(server)
    with live_server(database) as server:
        await uploads(server)


if __name__ == "__main__":
    asyncio.run(run())
