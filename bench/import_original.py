"""`make bench-import`: `portfolio-api import-original` from the stand-in original over loopback.
200 portfolios with 10 links each and 400 photo-like JPEGs of about 300 KB: wall time, objects/s,
MB/s, where the time goes (reading the original, media, rows) and the share of thumbnails.

    make bench-import                                   # SQLite in a temporary folder
    make bench-import DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.import_original --portfolios 10 --links 2 --images 20 --image-kb 100
    .venv/bin/python -m bench.import_original --downloads 8 --database-url postgresql+asyncpg://...

The stand-in original (tests/importer/original.py) runs in a process of its own (as a real one
is another server; in the importer's event loop it would take turns with it) and generates its
data before the clock starts: distinct JPEGs (quality 85, blurred noise and shapes, sizes spread
over about -17%..+17% of --image-kb; 300 KB is about 1600x1200), each portfolio with a cover and
a gallery of three (together every image), an employer and two tags (some with logos), --links
links (every third with an image) and two meta rows. Its page size is the original's, 10
(--page-size). Each file's URL (`f`) is on the stand-in's own origin; with
--refusing-media-origin on a port that refuses connections, as the original's
`http://localhost:8000` is from anywhere else: the first IMPORT_DOWNLOADS downloads then each
spend the importer's tries (IMPORT_ATTEMPTS 4: waits of 0.5 + 1 + 2 s) on that origin before
falling back to --from, a stall of about 3.5 s.

The import runs in this process on a fresh database (SQLite, or a new database on the PostgreSQL
server of --database-url / DATABASE_URL, dropped afterwards) migrated to head, media in a
temporary folder, other settings from the environment (IMPORT_DOWNLOADS from --downloads). Only
the import is timed, then a second import that finds everything already there ("re-run, nothing
new"). Probes, set by patching module attributes in this process only, all in the same run:
- image work: `app.media.service.inspect_image` (an upload's image step, waiting for a thread of
  the image pool included) and `process_image` inside it (decode, thumbnails, EXIF cleaned, in
  a pool thread), each summed over concurrent calls; against wall time and against wall time
  times the pool's threads (how busy the pool was);
- stages: `read_original` (the snapshot: every page), the span of `FileWriter.put_media` calls
  (downloads, images, storage, media rows) and of `FileWriter.put_rows` calls (employers, tags,
  portfolios, links, meta); the rest is sequences, the import.completed event and closing;
- downloads (`OriginalClient.download`) summed; CPU time of this process and of the original's.
Variant jobs (MEDIA_VARIANT_FORMATS) are only queued by the importer, one per image, not run.
"""

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "original-token"
QUALITY = 85
SPREAD = 0.17  # image sizes from (1 - SPREAD) to (1 + SPREAD) times the target
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --- the data (in the original's process) ---------------------------------------------------


def _texture(size: tuple[int, int], seed: int) -> Image.Image:
    """Blurred RGB noise: compresses like a photograph's detail (deterministic)."""
    noise = random.Random(seed).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, noise).filter(ImageFilter.GaussianBlur(2.2))


def _dimensions(area: float) -> tuple[int, int]:
    """4:3, about `area` pixels."""
    width = max(16, round(math.sqrt(area * 4 / 3)))
    return width, max(12, width * 3 // 4)


def _picture(texture: Image.Image, index: int, size: tuple[int, int]) -> bytes:
    """Image `index`: a crop of the texture at its own offset, with its own shapes, as JPEG."""
    rng = random.Random(index)
    x = rng.randrange(texture.width - size[0] + 1)
    y = rng.randrange(texture.height - size[1] + 1)
    image = texture.crop((x, y, x + size[0], y + size[1]))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(6):
        left, top = rng.randrange(width), rng.randrange(height)
        box = (left, top, left + rng.randrange(8, width // 4), top + rng.randrange(8, height // 4))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=QUALITY)
    return output.getvalue()


def photos(count: int, kilobytes: int) -> list[bytes]:
    """`count` distinct JPEGs of about `kilobytes` KB each (1000 bytes), spread evenly over
    +-SPREAD: the pixel count per byte is measured on one picture first."""
    if count == 0:
        return []
    target = kilobytes * 1000
    trial = _dimensions(target / 0.155)  # about the bytes per pixel of this texture
    sample = _picture(_texture((trial[0] + 64, trial[1] + 64), 0), 0, trial)
    area = target / (len(sample) / (trial[0] * trial[1]))
    largest = _dimensions(area * (1 + SPREAD))
    texture = _texture((largest[0] + 64, largest[1] + 64), kilobytes)
    result = []
    for index in range(count):
        share = (index * 0.6180339887) % 1  # golden-ratio steps: evenly spread, not in order
        result.append(
            _picture(texture, index, _dimensions(area * (1 - SPREAD + 2 * SPREAD * share)))
        )
    return result


def _ids(start: int) -> Iterator[int]:
    """start, start+2, start+3, start+5, ...: ids with gaps, as a table with deletions has."""
    value, step = start, 2
    while True:
        yield value
        value += step
        step = 3 - step


def build_original(portfolios: int, links: int, images: list[bytes]) -> Any:
    """The original's tables (tests.importer.original.OriginalData) around `images`."""
    from tests.importer.original import (
        OriginalData,
        OriginalEmployer,
        OriginalLink,
        OriginalMedia,
        OriginalMeta,
        OriginalPortfolio,
        OriginalTag,
        drf_datetime,
    )

    start = datetime(2024, 3, 4, 9, 15, 42, tzinfo=UTC)
    moments = (start + timedelta(minutes=7, microseconds=137_911) * n for n in itertools.count())

    def stamp() -> str:
        return drf_datetime(next(moments))

    data = OriginalData(media={}, employers={}, tags={}, portfolios={}, links={}, meta={})
    media_ids: list[int] = []
    for index, (media_id, content) in enumerate(zip(_ids(1000), images, strict=False)):
        data.media[media_id] = OriginalMedia(
            id=media_id,
            name=f"photo {index + 1}",
            content=content,
            path=f"core_media/2025/{1 + index % 12:02d}/{1 + index % 28:02d}/IMG_{index:04d}.jpg",
            thumbnail_ids=[10_000 + 4 * index + box for box in range(4)],
        )
        media_ids.append(media_id)

    def image(index: int) -> int | None:
        return media_ids[index % len(media_ids)] if media_ids else None

    for n, employer_id in zip(range(6), _ids(3), strict=False):
        data.employers[employer_id] = OriginalEmployer(
            employer_id,
            f"Employer {n + 1}",
            f"client number {n + 1}",
            image(7 * n) if n % 2 else None,
            stamp(),
            stamp(),
        )
    for n, tag_id in zip(range(10), _ids(5), strict=False):
        data.tags[tag_id] = OriginalTag(
            tag_id, f"tag-{n + 1}", image(11 * n) if n % 3 == 0 else None, stamp(), stamp()
        )
    employers, tags = list(data.employers), list(data.tags)
    link_ids, meta_ids = _ids(7), _ids(21)
    for index, portfolio_id in zip(range(portfolios), _ids(150), strict=False):
        created = stamp()
        gallery = (image(2 * index + step) for step in (1, 2, 3))
        data.portfolios[portfolio_id] = OriginalPortfolio(
            id=portfolio_id,
            title=f"Project {index + 1}",
            slug=f"project-{index + 1}",
            excerpt=f"project number {index + 1}, built for a client",
            description=f"Project {index + 1}: what was built, how and why. " * 8,
            order=index % 10,
            is_active=index % 7 != 0,
            completed_at=drf_datetime(datetime(2023 + index % 3, 1 + index % 12, 3, tzinfo=UTC)),
            created_at=created,
            updated_at=stamp(),
            image=image(2 * index),
            employer=None if index % 5 == 0 else employers[index % len(employers)],
            tags=[tags[index % len(tags)], tags[(index + 3) % len(tags)]],
            images=list(dict.fromkeys(media_id for media_id in gallery if media_id is not None)),
        )
        for n in range(links):
            link_id = next(link_ids)
            data.links[link_id] = OriginalLink(
                link_id,
                portfolio_id,
                f"link {n + 1}",
                f"https://example.com/projects/{portfolio_id}/{n + 1}" if n % 4 != 3 else None,
                f"what link {n + 1} shows" if n % 2 else None,
                image(index * links + n) if n % 3 == 0 else None,
                stamp(),
                stamp(),
            )
        for key, value in (("client", f"Client {index % 17}"), ("year", str(2023 + index % 3))):
            meta_id = next(meta_ids)
            data.meta[meta_id] = OriginalMeta(meta_id, portfolio_id, key, value, None)
    return data


async def serve_original(args: argparse.Namespace) -> None:
    """--serve-original: generates the data, serves it, prints one JSON line (its URL and
    sizes), and stops when its stdin closes."""
    from tests.importer.original import Original

    started = time.perf_counter()
    data = build_original(args.portfolios, args.links, photos(args.images, args.image_kb))
    generated = time.perf_counter() - started
    sizes = [len(media.content) for media in data.media.values()]
    origin = None if args.refusing_media_origin else "self"
    async with Original(data, page_size=args.page_size, media_origin=origin) as original:
        summary = {
            "url": original.url,
            "generated_seconds": generated,
            "files": len(sizes),
            "bytes": sum(sizes),
            "smallest": min(sizes, default=0),
            "largest": max(sizes, default=0),
            "objects": len(data.media)
            + len(data.employers)
            + len(data.tags)
            + len(data.portfolios)
            + len(data.links)
            + len(data.meta),
        }
        print(json.dumps(summary), flush=True)
        await asyncio.to_thread(sys.stdin.buffer.read)


@contextlib.contextmanager
def original_process(args: argparse.Namespace) -> Iterator[tuple[int, dict[str, Any]]]:
    """The stand-in original in a child process: its pid and its summary."""
    command = [
        sys.executable, "-m", "bench.import_original", "--serve-original",
        "--portfolios", str(args.portfolios), "--links", str(args.links),
        "--images", str(args.images), "--image-kb", str(args.image_kb),
        "--page-size", str(args.page_size),
        *(["--refusing-media-origin"] if args.refusing_media_origin else []),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the stand-in original did not start (see its error above)")
        yield process.pid, json.loads(line)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the import (in this process) ----------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Span:
    """First start and last end of a kind of call (overlapping calls are one span)."""

    start: float | None = None
    end: float | None = None

    def add(self, start: float, end: float) -> None:
        self.start = start if self.start is None else min(self.start, start)
        self.end = end if self.end is None else max(self.end, end)

    @property
    def seconds(self) -> float:
        return 0.0 if self.start is None or self.end is None else self.end - self.start


@dataclass
class Probes:
    """Durations of calls inside the import, summed or spanned."""

    image_threads: int = 0
    inspect: list[float] = field(default_factory=list)  # awaited, waits for a thread included
    process: list[float] = field(default_factory=list)  # in a pool thread
    downloads: list[float] = field(default_factory=list)
    reading: Span = field(default_factory=Span)
    media: Span = field(default_factory=Span)
    rows: Span = field(default_factory=Span)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from app.importer import run
        from app.importer.client import OriginalClient
        from app.importer.files import FileWriter
        from app.media import service

        def timed_async(
            original: Callable[..., Awaitable[Any]], record: Callable[[float, float], None]
        ) -> Any:
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    record(started, time.perf_counter())

            return wrapper

        def summed(into: list[float]) -> Callable[[float, float], None]:
            return lambda start, end: into.append(end - start)

        process_image = service.process_image
        lock = threading.Lock()

        def timed_process_image(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return process_image(*args)
            finally:
                with lock:
                    self.process.append(time.perf_counter() - started)

        image_pool = run.image_pool

        def counted_image_pool(settings: Any) -> Any:
            pool = image_pool(settings)
            self.image_threads = pool.threads
            return pool

        patches = (
            mock.patch.object(
                service, "inspect_image", timed_async(service.inspect_image, summed(self.inspect))
            ),
            mock.patch.object(service, "process_image", timed_process_image),
            mock.patch.object(run, "image_pool", counted_image_pool),
            mock.patch.object(
                run, "read_original", timed_async(run.read_original, self.reading.add)
            ),
            mock.patch.object(
                FileWriter, "put_media", timed_async(FileWriter.put_media, self.media.add)
            ),
            mock.patch.object(
                FileWriter, "put_rows", timed_async(FileWriter.put_rows, self.rows.add)
            ),
            mock.patch.object(
                OriginalClient,
                "download",
                timed_async(OriginalClient.download, summed(self.downloads)),
            ),
        )
        with contextlib.ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch)
            yield


@dataclass
class Run:
    label: str
    wall: float
    report: Any  # app.importer.report.ImportReport
    probes: Probes
    cpu: float  # this process
    original_cpu: float | None

    @property
    def created(self) -> int:
        return sum(self.report.counts["created"].values())


async def timed_import(label: str, settings: Any, url: str, original_pid: int) -> Run:
    from app.importer.run import import_original
    from app.importer.writer import Options

    probes = Probes()
    with probes.installed():
        original_cpu, cpu = cpu_seconds(original_pid), time.process_time()
        started = time.perf_counter()
        report, _ = await import_original(settings, Options(source=url), TOKEN)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        ended_cpu = cpu_seconds(original_pid)
    spent = None if original_cpu is None or ended_cpu is None else ended_cpu - original_cpu
    return Run(label, wall, report, probes, cpu, spent)


def migrate(database_url: str) -> None:
    """As tests/conftest.py's run_migrations (outside any event loop: env.py runs its own)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


async def imports(settings: Any, url: str, original_pid: int) -> list[Run]:
    first = await timed_import("first import", settings, url, original_pid)
    again = await timed_import("re-run, nothing new", settings, url, original_pid)
    return [first, again]


# --- the figures ---------------------------------------------------------------------------


MB = 1_000_000


def share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def results(
    args: argparse.Namespace, served: dict[str, Any], settings: Any, runs: list[Run]
) -> list[str]:
    """The figures, as Markdown tables and a few sentences."""
    first, again = runs
    probes, wall = first.probes, first.wall
    threads = probes.image_threads
    backend = "PostgreSQL" if settings.database_url.startswith("postgresql") else "SQLite"
    origin = "a port that refuses" if args.refusing_media_origin else "the original's own"
    variants = ", ".join(settings.media_variant_formats) or "none"
    lines = [
        f"Import of {args.portfolios} portfolios ({args.links} links each) and {served['files']} "
        f"images from the stand-in original on loopback (its own process); {backend}; "
        f"{settings.import_downloads} downloads at once; image pool of {threads} threads; "
        f"{os.cpu_count()} CPUs.",
        f"Data: {served['objects']} objects, {served['bytes'] / MB:.1f} MB of JPEG "
        f"({served['smallest'] // 1000}-{served['largest'] // 1000} KB each, generated in "
        f"{served['generated_seconds']:.1f} s before the clock starts); page size "
        f"{args.page_size}; file URLs on {origin} origin; variant jobs queued, not run: "
        f"{variants}.",
        "",
        "| run | wall | objects created | objects/s | MB downloaded | MB/s | CPU here "
        "| CPU original |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        original = "-" if run.original_cpu is None else f"{run.original_cpu:.2f} s"
        megabytes = run.report.bytes / MB
        rate = f"{run.created / run.wall:.0f}" if run.created else "-"
        throughput = f"{megabytes / run.wall:.1f}" if run.report.bytes else "-"
        lines.append(
            f"| {run.label} | {run.wall:.2f} s | {run.created} | {rate} | {megabytes:.1f} "
            f"| {throughput} | {run.cpu:.2f} s | {original} |"
        )
    created = ", ".join(f"{kind} {count}" for kind, count in first.report.counts["created"].items())
    unchanged = sum(again.report.counts["unchanged"].values())
    lines += [
        "",
        f"Created by the first import: {created}. The re-run: {again.created} created, "
        f"{unchanged} unchanged, {again.report.files} files downloaded.",
        "",
        "Stages of the first import (wall time, same run):",
        "| stage | wall | share |",
        "|---|---|---|",
    ]
    rest = wall - probes.reading.seconds - probes.media.seconds - probes.rows.seconds
    for name, seconds in (
        ("reading the original (every page)", probes.reading.seconds),
        ("media: downloads, images, storage, rows", probes.media.seconds),
        ("rows: employers, tags, portfolios, links, meta", probes.rows.seconds),
        ("the rest: sequences, completed event, closing", rest),
    ):
        lines.append(f"| {name} | {seconds:.2f} s | {share(seconds, wall)} |")

    inspect, process = sum(probes.inspect), sum(probes.process)
    downloads, capacity = sum(probes.downloads), wall * max(1, threads)
    lines += [
        "",
        f"Time in calls of the first import, summed over concurrent calls ({len(probes.process)} "
        f"images, {len(probes.downloads)} downloads):",
        "| calls | sum | / wall | / (wall x pool threads) |",
        "|---|---|---|---|",
        f"| thumbnail time: inspect_image awaited (waits for a pool thread included) "
        f"| {inspect:.2f} s | {share(inspect, wall)} | {share(inspect, capacity)} |",
        f"| of which process_image in the pool's {threads} threads (decode, thumbnails, "
        f"EXIF) | {process:.2f} s | {share(process, wall)} | {share(process, capacity)} |",
        f"| downloads, {settings.import_downloads} at once | {downloads:.2f} s "
        f"| {share(downloads, wall)} | |",
    ]
    if probes.process:
        busy = share(process, probes.media.seconds * max(1, threads))
        lines += [
            "",
            f"Image work: {1000 * process / len(probes.process):.0f} ms per file in a thread; "
            f"the image pool was busy {busy} of the media stage.",
        ]
    if first.report.problems:
        lines += ["", "Problems:", *first.report.problems]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--serve-original", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--portfolios", type=int, default=200)
    parser.add_argument("--links", type=int, default=10, help="per portfolio")
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--image-kb", type=int, default=300, help="about this size each (KB)")
    parser.add_argument(
        "--downloads", type=int, help="IMPORT_DOWNLOADS (default: the setting's, 4)"
    )
    parser.add_argument("--page-size", type=int, default=10, help="the original's page size")
    parser.add_argument(
        "--refusing-media-origin",
        action="store_true",
        help="file URLs on a port that refuses connections, as the original's localhost:8000 "
        "is from elsewhere (the importer falls back to --from after its retries)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server (a database is created on it and dropped); default: SQLite",
    )
    args = parser.parse_args()
    if args.serve_original:
        asyncio.run(serve_original(args))
        return

    from app.settings import Settings
    from bench.server import bench_database

    with (
        tempfile.TemporaryDirectory(prefix="portfolio-bench-import-") as folder,
        bench_database(args.database_url, folder) as database_url,
        original_process(args) as (original_pid, served),
    ):
        migrate(database_url)
        extra = {} if args.downloads is None else {"import_downloads": args.downloads}
        settings = Settings(
            _env_file=None,
            environment="test",
            database_url=database_url,
            media_root=Path(folder) / "media",
            media_storage="local",
            **extra,
        )
        runs = asyncio.run(imports(settings, served["url"], original_pid))
    print("", *results(args, served, settings, runs), sep="\n")
    if runs[0].report.not_imported or runs[-1].created:
        sys.exit(1)


if __name__ == "__main__":
    main()
