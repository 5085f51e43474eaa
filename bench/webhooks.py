"""`make bench-webhooks`: how fast one worker process delivers change events to a webhook
receiver, and how long a committed change takes to reach it. Prints Markdown tables.

1. Delivery throughput. N events are recorded with app.events.outbox.record in one transaction
   while no worker runs (1 endpoint, then 4 endpoints that each take every event); then one
   `portfolio-api worker` process starts, and the clock runs from its start until the receiver
   has counted every request and every delivery is `succeeded` in the database. Also shown: the
   rate from the first arrival to the last (startup and dispatch left out), the CPU the worker,
   the receiver and the rest of the machine used over the run, and the worker's CPU time per
   delivery (its startup, measured apart, left out): the figure least moved by whatever else
   runs on the machine.
2. Commit-to-delivery latency with an idle queue: tags created one at a time through a live
   `portfolio-api serve` (one uvicorn worker, RUN_WORKER=false) with a separate idle
   `portfolio-api worker` process woken by LISTEN/NOTIFY, spaced 20-50 ms apart; from the HTTP
   response of the write to the receiver's arrival, matched by the tag id in the event's data.
   On SQLite, which has no NOTIFY between processes (a separate worker would only poll every
   WORKER_POLL_INTERVAL), the worker inside the serve process (RUN_WORKER=true) instead.
3. `--compare-with REV` (not run by make): the write cost of recording an event. The same
   create and update load (tags and links) against a server from this working tree and one from
   REV checked out in a temporary git worktree (e.g. b261c17, the main before change events),
   each on a fresh database migrated by its own code, both up at once and loaded in turn (the
   order swapped every round): requests/s, p50, p99, and the server's CPU time per request. The
   load is wrk if installed, else an httpx loop in this process.

The receiver is a process of its own (a minimal asyncio HTTP/1.1 server on loopback with
keep-alive, answering 204), so it does not share the worker's CPU; it records the arrival time
(CLOCK_MONOTONIC, the same clock in every process) of each request. Endpoints are rows inserted
directly (WebhookEndpoint, events ["*"]), not created through the API.

    make bench-webhooks                        # PostgreSQL at 127.0.0.1:5432 (a new database)
    make bench-webhooks DATABASE_URL=sqlite    # the embedded database instead
    .venv/bin/python -m bench.webhooks --compare-with b261c17    # part 3 (about 4 minutes)

BENCH_EVENTS (5000), BENCH_FANOUT_EVENTS (2000, times 4 endpoints) and BENCH_CREATES (200)
change the sizes; BENCH_SECONDS (10) and BENCH_ROUNDS (2) the time per scenario of part 3 and
how many times each runs on each server.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
FANOUT_EVENTS = int(os.environ.get("BENCH_FANOUT_EVENTS", "2000"))
FANOUT_ENDPOINTS = 4
CREATES = int(os.environ.get("BENCH_CREATES", "200"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
WARM_UP_SECONDS = 2
CONNECTIONS = 16
TARGET_EVENTS_PER_SECOND = 500
TARGET_P99_MS = 1000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the receiver (its own process: python -m bench.webhooks --receiver) ---------------------


_RECEIVED: list[tuple[float, bytes]] = []  # (time.monotonic() on arrival, body)


class _Hooks(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough of it: a POST is recorded and answered 204;
    GET /stats and GET /arrivals report, POST /reset forgets."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport  # uvloop's is not an asyncio.Transport subclass
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end]).split(b"\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, path = head[0].split(b" ")[:2]
            self._answer(method, path, body)

    def _answer(self, method: bytes, path: bytes, body: bytes) -> None:
        received = _RECEIVED
        if method == b"POST" and path == b"/reset":
            received.clear()
        elif method == b"POST":
            received.append((time.monotonic(), body))
        else:
            if path == b"/stats":
                first, last = (received[0][0], received[-1][0]) if received else (None, None)
                report: Any = {"count": len(received), "first": first, "last": last}
            else:
                report = [[moment, body.decode()] for moment, body in received]
            data = json.dumps(report).encode()
            self.transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(data), data)
            )
            return
        self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


async def _receive_forever() -> None:
    server = await asyncio.get_running_loop().create_server(_Hooks, "127.0.0.1", 0, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def receiver_main() -> None:
    try:
        import uvloop

        uvloop.run(_receive_forever())
    except ImportError:
        asyncio.run(_receive_forever())


@dataclass
class Receiver:
    url: str
    pid: int
    client: Any  # httpx.AsyncClient

    async def stats(self) -> dict[str, Any]:
        response = await self.client.get(f"{self.url}/stats")
        return dict(response.json())

    async def arrivals(self) -> list[tuple[float, dict[str, Any]]]:
        response = await self.client.get(f"{self.url}/arrivals")
        return [(moment, json.loads(body)) for moment, body in response.json()]

    async def reset(self) -> None:
        (await self.client.post(f"{self.url}/reset")).raise_for_status()

    async def wait_for(self, count: int, within: float) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while (stats := await self.stats())["count"] < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the receiver got {stats['count']} of {count} requests")
            await asyncio.sleep(0.02)
        return stats


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    import httpx

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.webhooks", "--receiver",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), 30))
        async with httpx.AsyncClient(timeout=30) as client:
            yield Receiver(f"http://127.0.0.1:{port}", process.pid, client)
    finally:
        await _stop(process)


# --- processes: the CLI, the worker, the API server ------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a live process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU ticks of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 40)
        except TimeoutError:
            process.kill()
            await process.wait()


async def cli(root: Path, env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", *args, env=env, cwd=root,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"portfolio-api {' '.join(args)} failed:\n{err.decode()}")
    return out.decode()


async def prepare(root: Path, env: dict[str, str]) -> str:
    """Migrate the database with `root`'s code, create a superuser; its token."""
    found = await _python(root, env, "import app; print(app.__file__)")
    if not _inside(Path(found.strip()), root):
        raise RuntimeError(f"the code in {root} is not the one imported: {found}")
    await cli(root, env, "migrate")
    await cli(root, env, "createsuperuser", "--username", "bench", "--password", "bench secret 1")
    return (await cli(root, env, "token", "create", "bench")).strip().splitlines()[-1]


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _python(root: Path, env: dict[str, str], code: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env, cwd=root, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    return out.decode()


def base_env(database_url: str, folder: str, root: Path = ROOT) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": f"{folder}/media",
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "PYTHONPATH": str(root),  # the checkout's own code before the editable install's
    }


@contextlib.asynccontextmanager
async def worker_process(env: dict[str, str], log: Path) -> AsyncIterator[int]:
    """`portfolio-api worker` until the context ends (SIGTERM, a graceful stop); its pid."""
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "worker",
            env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield process.pid
    finally:
        await _stop(process)
        if process.returncode not in (0, -signal.SIGTERM):
            print(_tail(log), file=sys.stderr)


@contextlib.asynccontextmanager
async def api_server(root: Path, env: dict[str, str], log: Path) -> AsyncIterator[tuple[str, int]]:
    """`portfolio-api serve` (one uvicorn worker) from `root`; its URL and pid."""
    import httpx

    port = free_port()
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1",
            env=env, cwd=root, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=1) as client:
            while True:
                try:
                    (await client.get(f"{url}/readyz")).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or process.returncode is not None:
                        print(_tail(log), file=sys.stderr)
                        raise RuntimeError("the server did not start") from None
                    await asyncio.sleep(0.1)
        yield url, process.pid
    finally:
        await _stop(process)


# --- parts 1 and 2 ---------------------------------------------------------------------------


@dataclass
class Throughput:
    endpoints: int
    events: int
    record_seconds: float  # recording them all in one transaction
    first_arrival: float  # seconds after the worker process started
    last_arrival: float
    all_succeeded: float
    worker_cpu: float  # seconds
    receiver_cpu: float
    others_cpu: float  # the rest of the machine: PostgreSQL, this process, anything else
    startup_cpu: float = 0.0  # of the worker process before it works (Startup.cpu)

    @property
    def deliveries(self) -> int:
        return self.events * self.endpoints

    @property
    def cpu_ms_per_delivery(self) -> float:
        """The worker's CPU time per delivery, its startup left out."""
        return (self.worker_cpu - self.startup_cpu) * 1000 / self.deliveries

    @property
    def events_per_second(self) -> float:
        return self.events / self.all_succeeded

    @property
    def steady_deliveries_per_second(self) -> float:
        return (self.deliveries - 1) / max(self.last_arrival - self.first_arrival, 1e-9)


class Database:
    """The bench's own connection to the bench database (as the app makes them)."""

    def __init__(self, url: str) -> None:
        from app.db import create_engine, create_sessionmaker
        from app.settings import Settings

        self.engine = create_engine(Settings(_env_file=None, database_url=url))
        self.sessionmaker = create_sessionmaker(self.engine)

    async def clear(self) -> None:
        from sqlalchemy import text

        async with self.engine.begin() as connection:
            for table in ("webhook_delivery", "event", "webhook_endpoint"):
                await connection.execute(text(f"DELETE FROM {table}"))

    async def add_endpoints(self, urls: list[str]) -> None:
        from app.db import unit_of_work
        from app.models import WebhookEndpoint
        from app.webhooks.signing import new_secret

        async with unit_of_work(self.sessionmaker) as session:
            for url in urls:
                session.add(
                    WebhookEndpoint(url=url, events=["*"], secret=new_secret(), is_active=True)
                )

    async def record_events(self, count: int) -> float:
        """`count` tag.created events in one transaction, as the API would record them; the
        seconds it took."""
        from app.db import unit_of_work
        from app.events import outbox

        started = time.perf_counter()
        async with unit_of_work(self.sessionmaker) as session:
            outbox.act_as(session, 1, "bench")
            for number in range(1, count + 1):
                await outbox.record(session, "tag.created", tag_data(number))
        return time.perf_counter() - started

    async def succeeded(self) -> int:
        from sqlalchemy import func, select

        from app.models import WebhookDelivery

        async with self.engine.connect() as connection:
            query = select(func.count()).where(WebhookDelivery.status == "succeeded")
            return int(await connection.scalar(query) or 0)


def tag_data(number: int) -> dict[str, Any]:
    """A tag as GET /api/tags/{id} shows it (about 150 bytes)."""
    moment = "2026-12-05T10:00:00.000000Z"
    return {
        "id": number,
        "name": f"bench tag {number}",
        "image": None,
        "created_at": moment,
        "updated_at": moment,
    }


async def throughput(
    database: Database, env: dict[str, str], hooks: Receiver, endpoints: int, events: int, log: Path
) -> Throughput:
    await database.clear()
    await database.add_endpoints([f"{hooks.url}/hooks/{n}" for n in range(endpoints)])
    await hooks.reset()
    record_seconds = await database.record_events(events)
    expected = events * endpoints
    receiver_cpu = cpu_seconds(hooks.pid)
    busy, total = machine_busy()
    started = time.monotonic()
    async with worker_process(env, log) as pid:
        stats = await hooks.wait_for(expected, within=300)
        while True:
            if await database.succeeded() >= expected:
                break
            await asyncio.sleep(0.005)
        done = time.monotonic()
        worker_cpu = cpu_seconds(pid)
        busy_after, total_after = machine_busy()
    receiver_cpu = cpu_seconds(hooks.pid) - receiver_cpu
    cores = os.cpu_count() or 1
    machine_cpu = (busy_after - busy) / max(total_after - total, 1) * cores * (done - started)
    print(f"  {endpoints} endpoint(s), {events} events: {done - started:.2f} s", file=sys.stderr)
    return Throughput(
        endpoints,
        events,
        record_seconds,
        stats["first"] - started,
        stats["last"] - started,
        done - started,
        worker_cpu,
        receiver_cpu,
        machine_cpu - worker_cpu - receiver_cpu,
    )


@dataclass
class Startup:
    seconds: float  # from spawning `portfolio-api worker` to its "started" log line
    cpu: float  # its CPU time by then


async def worker_startup(env: dict[str, str]) -> Startup:
    """How long a worker process takes to start, with nothing to do (LOG_LEVEL=INFO for its
    "worker ... started" line)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "worker",
        env={**env, "LOG_LEVEL": "INFO"}, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    started = time.monotonic()
    try:
        assert process.stdout is not None
        while line := await asyncio.wait_for(process.stdout.readline(), 60):
            if re.search(rb"worker \S+ started", line):
                return Startup(time.monotonic() - started, cpu_seconds(process.pid))
        raise RuntimeError("the worker exited before it started")
    finally:
        await _stop(process)


@dataclass
class Latency:
    where: str
    milliseconds: list[float] = field(default_factory=list)
    write_milliseconds: list[float] = field(default_factory=list)


async def latency(
    database: Database,
    env: dict[str, str],
    hooks: Receiver,
    token: str,
    sqlite: bool,
    creates: int,
    folder: Path,
) -> Latency:
    import httpx

    await database.clear()
    await database.add_endpoints([f"{hooks.url}/hooks/latency"])
    await hooks.reset()
    serve_env = {**env, "RUN_WORKER": "true" if sqlite else "false"}
    where = (
        "worker inside the serve process (SQLite)"
        if sqlite
        else "separate worker process, woken by NOTIFY"
    )
    result = Latency(where)
    async with contextlib.AsyncExitStack() as stack:
        url, _pid = await stack.enter_async_context(
            api_server(ROOT, serve_env, folder / "serve.log")
        )
        if not sqlite:
            await stack.enter_async_context(worker_process(env, folder / "worker.log"))
        headers = {"Authorization": f"Token {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            for number in range(10):  # warm-up: connections, caches, the worker awake
                response = await client.post("/api/tags/", json={"name": f"warm-up {number}"})
                response.raise_for_status()
            await hooks.wait_for(10, within=30)
            await asyncio.sleep(0.5)
            await hooks.reset()
            answered: dict[int, float] = {}
            for number in range(creates):
                sent = time.monotonic()
                response = await client.post("/api/tags/", json={"name": f"latency {number}"})
                response.raise_for_status()
                answered[response.json()["id"]] = now = time.monotonic()
                result.write_milliseconds.append((now - sent) * 1000)
                await asyncio.sleep(random.uniform(0.02, 0.05))
            await hooks.wait_for(creates, within=60)
    for arrived, body in await hooks.arrivals():
        if body["type"] == "tag.created" and body["data"]["id"] in answered:
            result.milliseconds.append((arrived - answered.pop(body["data"]["id"])) * 1000)
    if answered:
        raise RuntimeError(f"{len(answered)} tag events never arrived")
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_parts_1_and_2(
    backend: str, startup: Startup, rows: list[Throughput], latency: Latency
) -> None:
    from bench.api_load import machine

    print(f"Webhook deliveries on {backend}; {machine()}")
    print()
    print(
        "1. Throughput: one `portfolio-api worker` process, the events recorded beforehand in "
        "one transaction, the receiver in its own process (204, keep-alive). The clock runs "
        "from the worker's start to every delivery `succeeded`; steady: first arrival to last. "
        "CPU over that time, 100 % = one core; the rest of the machine: the database server, this "
        "process and whatever else runs."
    )
    print()
    print(
        "| endpoints | events | deliveries | events/s from start | deliveries/s steady "
        "| first arrival | all succeeded | worker CPU | worker CPU per delivery "
        "| receiver CPU | rest of the machine | recording them (1 transaction) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        wall = row.all_succeeded
        print(
            f"| {row.endpoints} | {row.events} | {row.deliveries} "
            f"| {row.events_per_second:.0f} | {row.steady_deliveries_per_second:.0f} "
            f"| {row.first_arrival:.2f} s | {wall:.2f} s | {row.worker_cpu / wall:.0%} "
            f"| {row.cpu_ms_per_delivery:.2f} ms | {row.receiver_cpu / wall:.0%} "
            f"| {row.others_cpu / wall:.0%} "
            f"| {row.record_seconds:.2f} s ({row.events / row.record_seconds:.0f} events/s) |"
        )
    print()
    note = ""
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        note = " (PYTHONDONTWRITEBYTECODE is set here: every start compiles the sources)"
    print(
        f"Worker start, nothing to do: {startup.seconds:.2f} s to its `started` log line, "
        f"{startup.cpu:.2f} s CPU{note}; left out of the CPU per delivery, not of the rates "
        "from start."
    )
    one = rows[0]
    verdict = "met" if one.events_per_second >= TARGET_EVENTS_PER_SECOND else "NOT met"
    print(
        f"Target >= {TARGET_EVENTS_PER_SECOND} events/s per worker process (1 endpoint, from "
        f"start): {one.events_per_second:.0f}, {verdict}; steady "
        f"{one.steady_deliveries_per_second:.0f}/s; a whole core at "
        f"{one.cpu_ms_per_delivery:.2f} ms CPU per delivery would give "
        f"{1000 / one.cpu_ms_per_delivery:.0f}/s."
    )
    print()
    values, writes = latency.milliseconds, latency.write_milliseconds
    print(
        f"2. Commit-to-delivery latency, idle queue: {len(values)} tag creates through the API, "
        f"20-50 ms apart ({latency.where}); from the write's HTTP response to the receiver's "
        "arrival."
    )
    print()
    print("| p50 | p99 | max | mean | the write itself (p50 / p99) |")
    print("|---|---|---|---|---|")
    print(
        f"| {statistics.median(values):.1f} ms | {percentile(values, 0.99):.1f} ms "
        f"| {max(values):.1f} ms | {statistics.mean(values):.1f} ms "
        f"| {statistics.median(writes):.1f} ms / {percentile(writes, 0.99):.1f} ms |"
    )
    p99 = percentile(values, 0.99)
    verdict = "met" if p99 < TARGET_P99_MS else "NOT met"
    print()
    print(f"Target p99 < {TARGET_P99_MS} ms: {p99:.0f} ms, {verdict}.")


async def parts_1_and_2(database_url: str | None) -> None:
    from bench.server import bench_database

    backend = "PostgreSQL" if database_url else "SQLite"
    with (
        tempfile.TemporaryDirectory(prefix="portfolio-bench-") as folder,
        bench_database(database_url, folder) as url,
    ):
        env = base_env(url, folder)
        token = await prepare(ROOT, env)
        database = Database(url)
        try:
            async with receiver() as hooks:
                startup = await worker_startup(env)
                log = Path(folder) / "worker.log"
                rows = [await throughput(database, env, hooks, 1, EVENTS, log)]
                rows.append(
                    await throughput(database, env, hooks, FANOUT_ENDPOINTS, FANOUT_EVENTS, log)
                )
                for row in rows:
                    row.startup_cpu = startup.cpu
                result = await latency(
                    database, env, hooks, token, database_url is None, CREATES, Path(folder)
                )
        finally:
            await database.engine.dispose()
    print_parts_1_and_2(backend, startup, rows, result)


# --- part 3: --compare-with REV --------------------------------------------------------------


@dataclass
class Load:
    name: str
    method: str
    path: str  # ID: one of `ids`, in turn
    body: str  # JSON; NUM: a number unique to the request
    ids: list[int] = field(default_factory=list)


@dataclass
class LoadResult:
    rps: float
    p50: float
    p99: float
    errors: int
    server_cpu_ms: float  # per request
    others_busy: float  # cores busy outside the server meanwhile (PostgreSQL, the load, others)


async def seed_for_load(url: str, token: str) -> list[Load]:
    import httpx

    headers = {"Authorization": f"Token {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        response = await client.post("/api/portfolios/", json={"title": "bench", "tags": []})
        response.raise_for_status()
        portfolio = response.json()["id"]
        tags, links = [], []
        for number in range(100):
            response = await client.post("/api/tags/", json={"name": f"seed {number}"})
            response.raise_for_status()
            tags.append(response.json()["id"])
            response = await client.post(
                f"/api/portfolios/{portfolio}/links/",
                json={"name": f"seed {number}", "url": "https://example.com/seed"},
            )
            response.raise_for_status()
            links.append(response.json()["id"])
    run = uuid.uuid4().hex[:6]
    links_path = f"/api/portfolios/{portfolio}/links/"
    return [
        Load("create tag", "POST", "/api/tags/", f'{{"name":"load {run} NUM"}}'),
        Load("update tag", "PATCH", "/api/tags/ID", f'{{"name":"renamed {run} NUM"}}', tags),
        Load(
            "create link",
            "POST",
            links_path,
            '{"name":"load NUM","url":"https://example.com/bench","description":"load"}',
        ),
        Load("update link", "PATCH", links_path + "ID", '{"description":"load NUM"}', links),
    ]


async def httpx_load(
    url: str, token: str, load: Load, seconds: float
) -> tuple[float, float, float, int]:
    """CONNECTIONS clients in a loop for `seconds`: (requests/s, p50 ms, p99 ms, non-2xx)."""
    import httpx

    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    counter = iter(range(10**9))
    timings: list[float] = []
    errors = 0
    prefix = uuid.uuid4().hex[:6]
    deadline = time.monotonic() + seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            number = next(counter)
            path = (
                load.path.replace("ID", str(load.ids[number % len(load.ids)]))
                if load.ids
                else load.path
            )
            body = load.body.replace("NUM", f"{prefix}-{number}")
            started = time.monotonic()
            response = await client.request(load.method, path, content=body)
            timings.append((time.monotonic() - started) * 1000)
            if not response.is_success:
                errors += 1

    started = time.monotonic()
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=60
    ) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(CONNECTIONS)))
    rps = len(timings) / (time.monotonic() - started)
    return rps, statistics.median(timings), percentile(timings, 0.99), errors


WRK_LUA = """
local ids = {%(ids)s}
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("worker", threads)
end
request = function()
  counter = counter + 1
  local path = "%(path)s"
  if #ids > 0 then path = path:gsub("ID", ids[(counter %% #ids) + 1]) end
  local body = [[%(body)s]]
  body = body:gsub("NUM", "%(run)s-" .. tostring(worker) .. "-" .. counter)
  return wrk.format("%(method)s", path, nil, body)
end
"""


async def wrk_load(
    url: str, token: str, load: Load, seconds: float
) -> tuple[float, float, float, int]:
    """wrk, 2 threads, CONNECTIONS connections: (requests/s, p50 ms, p99 ms, non-2xx)."""
    from bench.api_load import _ms

    script = WRK_LUA % {
        "ids": ",".join(str(i) for i in load.ids),
        "path": load.path,
        "body": load.body,
        "method": load.method,
        "run": uuid.uuid4().hex[:6],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds:.0f}s", "--latency"]
    command += ["-s", handle.name, "-H", f"Authorization: Token {token}"]
    command += ["-H", "Content-Type: application/json", url]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    output = (await process.communicate())[0].decode()
    os.unlink(handle.name)

    def find(pattern: str) -> str:
        found = re.search(pattern, output)
        if found is None:
            raise RuntimeError(f"wrk said:\n{output}")
        return found.group(1)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return (
        float(find(r"Requests/sec:\s+([\d.]+)")),
        _ms(find(r"50%\s+([\d.]+\w+)")),
        _ms(find(r"99%\s+([\d.]+\w+)")),
        int(errors.group(1)) if errors else 0,
    )


async def measure_load(url: str, pid: int, token: str, load: Load, use_wrk: bool) -> LoadResult:
    """A warm-up, then SECONDS of load; with the server's CPU time and the rest of the
    machine's over the measured part."""
    run = wrk_load if use_wrk else httpx_load
    await run(url, token, load, WARM_UP_SECONDS)
    cpu, (busy, total) = cpu_seconds(pid), machine_busy()
    started = time.monotonic()
    rps, p50, p99, errors = await run(url, token, load, SECONDS)
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu
    busy_after, total_after = machine_busy()
    cores = (busy_after - busy) / max(total_after - total, 1) * (os.cpu_count() or 1)
    return LoadResult(
        rps, p50, p99, errors, cpu * 1000 / max(rps * elapsed, 1), cores - cpu / elapsed
    )


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def compare(revision: str, database_url: str | None) -> None:
    """Part 3: REV checked out in a temporary worktree (removed afterwards)."""
    commit = git("rev-parse", "--short", f"{revision}^{{commit}}")
    head = git("rev-parse", "--short", "HEAD")
    worktree = Path(tempfile.gettempdir()) / f"bench-{commit}"
    git("worktree", "add", "--detach", str(worktree), commit)
    try:
        sides = [(f"{head} + working tree (events)", ROOT), (f"{commit} (no events)", worktree)]
        results = asyncio.run(compare_servers(sides, database_url))
    finally:
        git("worktree", "remove", "--force", str(worktree))
    print_part_3(results, database_url)


Results = dict[str, dict[str, list[LoadResult]]]  # side, scenario: one per round


async def compare_servers(sides: list[tuple[str, Path]], database_url: str | None) -> Results:
    """Both servers up at once (the idle one costs nothing), each on a fresh database migrated
    by its own code; each scenario on one side then the other, ROUNDS times, the order swapped
    every round, so that a change of the machine's other load falls on both."""
    from bench.server import bench_database

    use_wrk = shutil.which("wrk") is not None
    results: Results = {label: {} for label, _root in sides}
    servers: list[tuple[str, str, int, str, list[Load]]] = []
    async with contextlib.AsyncExitStack() as stack:
        for label, root in sides:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="portfolio-bench-"))
            url = stack.enter_context(bench_database(database_url, folder))
            env = {**base_env(url, folder, root), "RUN_WORKER": "false"}
            token = await prepare(root, env)
            base, pid = await stack.enter_async_context(
                api_server(root, env, Path(folder) / "serve.log")
            )
            servers.append((label, base, pid, token, await seed_for_load(base, token)))
        for number in range(len(servers[0][4])):
            for round_number in range(ROUNDS):
                for label, base, pid, token, loads in servers[:: -1 if round_number % 2 else 1]:
                    load = loads[number]
                    result = await measure_load(base, pid, token, load, use_wrk)
                    results[label].setdefault(load.name, []).append(result)
                    print(f"  {label}, {load.name}: {result.rps:.0f}/s", file=sys.stderr)
    return results


def print_part_3(results: Results, database_url: str | None) -> None:
    from bench.api_load import machine

    backend = "PostgreSQL" if database_url else "SQLite"
    tool = "wrk (2 threads)" if shutil.which("wrk") else "an httpx loop in the bench process"
    print(
        f"3. Writes with and without change events: {tool}, {CONNECTIONS} connections, "
        f"{SECONDS} s per scenario after a {WARM_UP_SECONDS} s warm-up, {ROUNDS} rounds "
        f"alternating the servers; one uvicorn worker each (RUN_WORKER=false) on {backend}, a "
        f"fresh database each; {machine()}. Figures are means over the rounds; the rest of the "
        "machine: cores busy outside the server (the database, the load, anything else)."
    )
    print()
    print(
        "| scenario | code | requests/s (each round) | p50 | p99 | non-2xx "
        "| server CPU per request | rest of the machine |"
    )
    print("|---|---|---|---|---|---|---|---|")
    labels = list(results)

    def mean(rounds: list[LoadResult], key: str) -> float:
        return float(statistics.mean(getattr(result, key) for result in rounds))

    for name in results[labels[0]]:
        for label in labels:
            rounds = results[label][name]
            each = ", ".join(f"{r.rps:.0f}" for r in rounds)
            print(
                f"| {name} | {label} | {mean(rounds, 'rps'):.0f} ({each}) "
                f"| {mean(rounds, 'p50'):.1f} ms | {mean(rounds, 'p99'):.1f} ms "
                f"| {sum(r.errors for r in rounds)} | {mean(rounds, 'server_cpu_ms'):.2f} ms "
                f"| {mean(rounds, 'others_busy'):.2f} cores |"
            )
        on, off = results[labels[0]][name], results[labels[1]][name]
        print(
            f"| {name} | with events vs without | {mean(on, 'rps') / mean(off, 'rps') - 1:+.1%} "
            f"| {mean(on, 'p50') - mean(off, 'p50'):+.1f} ms "
            f"| {mean(on, 'p99') - mean(off, 'p99'):+.1f} ms | "
            f"| {mean(on, 'server_cpu_ms') - mean(off, 'server_cpu_ms'):+.2f} ms | |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--compare-with",
        metavar="REV",
        help="only part 3: writes on this working tree against REV (e.g. b261c17)",
    )
    args = parser.parse_args()
    if args.receiver:
        receiver_main()
        return
    target = os.environ.get("DATABASE_URL", POSTGRES)
    database_url = None if target == "sqlite" or target.startswith("sqlite") else target
    if args.compare_with:
        compare(args.compare_with, database_url)
    else:
        asyncio.run(parts_1_and_2(database_url))


if __name__ == "__main__":
    main()
