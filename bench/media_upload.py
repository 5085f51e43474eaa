"""Media upload benchmark: upload time against Pillow's decode time, parallel throughput,
event-loop latency during uploads, peak memory, and how fast a bomb is refused.

    make bench-media                                     # SQLite
    make bench-media DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/postgres

The server runs in its own process (one uvicorn worker); this process sends requests. Two
figures show what the machine itself allows: two streams into two server processes, which share
no GIL and no event loop, and the image work alone, in one thread and then in two.
"""

import asyncio
import io
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image, ImageDraw, ImageFilter

from app.media.images import process_image
from app.settings import Settings
from bench.server import Server, live_server


def photo_like(size: tuple[int, int], quality: int) -> bytes:
    """Noise blurred into a photo's texture, with shapes: decodes like a real photograph."""
    noise = Image.effect_noise(size, 80)
    image = Image.merge(
        "RGB", [noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise.rotate(180)]
    ).filter(ImageFilter.GaussianBlur(1.2))
    draw = ImageDraw.Draw(image)
    for index in range(12):
        x, y = index * size[0] // 12, (index * 37) % size[1]
        draw.ellipse(
            (x, y, x + size[0] // 8, y + size[1] // 6), fill=(index * 20, 90, 200 - index * 10)
        )
    exif = Image.Exif()
    exif[0x0112] = 1
    output = io.BytesIO()
    image.save(output, "JPEG", quality=quality, exif=exif)
    return output.getvalue()


def median_ms(work: Callable[[], object], rounds: int = 30) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def decode_ms(data: bytes) -> float:
    def decode() -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.load()

    return median_ms(decode)


async def upload(client: httpx.AsyncClient, data: bytes, name: str) -> float:
    started = time.perf_counter()
    response = await client.post("/api/media/", files={"file": (name, data, "image/jpeg")})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


async def upload_ms(client: httpx.AsyncClient, data: bytes, rounds: int) -> tuple[float, float]:
    for _ in range(3):
        await upload(client, data, "warmup.jpg")
    timings = sorted([await upload(client, data, "photo.jpg") for _ in range(rounds)])
    return statistics.median(timings) * 1000, timings[int(len(timings) * 0.99) - 1] * 1000


def image_work_per_second(data: bytes, threads: int, seconds: float = 4) -> float:
    """Thumbnails of `data` rendered per second by `threads` threads, with no server around."""
    settings = Settings()
    boxes, max_pixels = settings.thumbnail_sizes, settings.image_max_pixels

    def work() -> int:
        done = 0
        while time.perf_counter() < deadline:
            process_image(io.BytesIO(data), "JPEG", boxes, max_pixels).close()
            done += 1
        return done

    started = time.perf_counter()
    deadline = started + seconds
    with ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(lambda _: work(), range(threads)))
    return done / (time.perf_counter() - started)


async def throughput(streams: list[httpx.AsyncClient], data: bytes, seconds: float) -> float:
    """Uploads per second, one stream of uploads after another through each client given."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def stream(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await upload(client, data, "parallel.jpg")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(stream(client) for client in streams))
    return done / (time.perf_counter() - started)


async def stream_rates(
    setups: dict[str, list[httpx.AsyncClient]], data: bytes, rounds: int = 3, seconds: float = 5
) -> dict[str, list[float]]:
    """Uploads per second of each setup in `rounds` windows, the setups taking turns: a slow
    spell of a shared machine then falls on every setup, not on one (single windows of the same
    setup differ by up to a fifth here)."""
    rates: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(rounds):
        for name, streams in setups.items():
            rates[name].append(await throughput(streams, data, seconds))
    return rates


async def healthz_p99_during_uploads(
    client: httpx.AsyncClient, data: bytes, seconds: float
) -> tuple[float, int]:
    latencies: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            (await client.get("/healthz")).raise_for_status()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.005)

    prober = asyncio.create_task(probe())
    await throughput([client, client], data, seconds)
    stop.set()
    await prober
    latencies.sort()
    return latencies[int(len(latencies) * 0.99) - 1] * 1000, len(latencies)


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


async def peak_memory_mib(server: Server, client: httpx.AsyncClient, data: bytes) -> float:
    """Peak resident memory of the server above idle while one upload of `data` runs."""
    await upload(client, data, "warm.jpg")  # first-use allocations are not the upload's
    # Resets the high-water mark.
    await asyncio.to_thread(Path(f"/proc/{server.pid}/clear_refs").write_text, "5")
    idle = rss_kib(server.pid, "VmRSS")
    await upload(client, data, "big.jpg")
    return (rss_kib(server.pid, "VmHWM") - idle) / 1024


def bomb() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 65536))
        + chunk(b"IEND", b"")
    )


async def bomb_ms(client: httpx.AsyncClient) -> float:
    data = bomb()
    timings = []
    for _ in range(10):
        started = time.perf_counter()
        response = await client.post("/api/media/", files={"file": ("bomb.png", data, "image/png")})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 400, response.text
    return statistics.median(timings) * 1000


def client_of(server: Server) -> httpx.AsyncClient:
    headers = {"Authorization": f"Token {server.token}"}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60)


# label, KiB, decode ms, upload p50 ms, upload p99 ms, p50 / decode, budget
Row = tuple[str, float, float, float, float, float, int]


async def run() -> None:
    hd = photo_like((1920, 1080), quality=92)
    twelve = photo_like((4000, 3000), quality=90)
    database = os.environ.get("DATABASE_URL")
    with live_server(database) as server, live_server(database) as second:
        async with client_of(server) as client, client_of(second) as other:
            rows: list[Row] = []
            for label, data, budget in (("1920x1080 JPEG", hd, 6), ("12 MP JPEG", twelve, 3)):
                decode = decode_ms(data)
                median, p99 = await upload_ms(client, data, rounds=40 if data is hd else 15)
                rows.append((label, len(data) / 1024, decode, median, p99, median / decode, budget))
            for _ in range(3):  # the second server's first uploads are not timed
                await upload(other, hd, "warmup.jpg")
            rates = await stream_rates(
                {"one": [client], "two": [client, client], "apart": [client, other]}, hd
            )
            health_p99, probes = await healthz_p99_during_uploads(client, hd, 8)
            memory = await peak_memory_mib(server, client, twelve)
            refused = await bomb_ms(client)
    ceiling = image_work_per_second(hd, 1), image_work_per_second(hd, 2)
    report(rows, rates, ceiling, health_p99, probes, memory, refused)


def report(
    rows: list[Row],
    rates: dict[str, list[float]],
    ceiling: tuple[float, float],
    health_p99: float,
    probes: int,
    memory: float,
    refused: float,
) -> None:
    print("| upload | size | Pillow decode | upload p50 | upload p99 | p50 / decode | budget |")
    print("|---|---|---|---|---|---|---|")
    for label, kib, decode, median, p99, ratio, budget in rows:
        cells = [label, f"{kib:.0f} KiB", f"{decode:.1f} ms", f"{median:.1f} ms", f"{p99:.1f} ms"]
        print("| " + " | ".join([*cells, f"{ratio:.1f}x", f"{budget}x"]) + " |")
    print()
    one, two, apart = (statistics.median(rates[name]) for name in ("one", "two", "apart"))
    print(f"- throughput, median of {len(rates['one'])} windows each, the setups taking turns:")
    print(f"  1 stream {one:.1f} uploads/s, 2 streams {two:.1f} uploads/s")
    print(f"  2 streams / 1 stream: {_paired_ratio(rates, 'two')} (target 1.7x)")
    print(f"- 2 streams into 2 server processes: {apart:.1f} uploads/s")
    print(f"  2 processes / 1 stream: {_paired_ratio(rates, 'apart')}")
    alone_one, alone_two = ceiling
    print(f"- image work alone, no server: 1 thread {alone_one:.1f}/s, 2 threads {alone_two:.1f}/s")
    print(f"  ({alone_two / alone_one:.2f}x: what the two cores give when nothing else runs)")
    print(f"- /healthz p99 during 2 upload streams: {health_p99:.1f} ms, {probes} probes (< 20 ms)")
    print(f"- peak memory of a 12 MP upload above idle: {memory:.0f} MiB (target < 150 MiB)")
    print(f"- 20000x20000 PNG bomb refused in {refused:.1f} ms (median; target < 100 ms)")


def _paired_ratio(rates: dict[str, list[float]], setup: str) -> str:
    """The median of each window's ratio to the one-stream window just before it: a slow spell
    then moves both sides of a ratio, where it moves only one median."""
    ratios = [b / a for a, b in zip(rates["one"], rates[setup], strict=True)]
    windows = ", ".join(f"{ratio:.2f}x" for ratio in ratios)
    return f"{statistics.median(ratios):.2f}x (window by window: {windows})"


if __name__ == "__main__":
    asyncio.run(run())
