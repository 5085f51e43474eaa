"""A live server for benchmarks: fresh database, migrated, one superuser token, uvicorn."""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parent.parent
# uvicorn's command line for what `portfolio-api serve` runs with one worker (app/cli.py).
UVICORN_AS_SERVED = [
    "--workers", "1", "--loop", "uvloop", "--http", "httptools",
    "--no-access-log", "--no-proxy-headers", "--log-level", "warning",
]  # fmt: skip
REFERENCE_DATABASE = "BENCH_REFERENCE_DATABASE_URL"


@dataclass
class Server:
    url: str
    token: str
    pid: int
    media_root: Path
    env: dict[str, str]  # the settings it runs with, for an in-process copy
    process: subprocess.Popen[bytes]  # to signal it and see how it exits


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], failure: str, path: str = "/readyz"
) -> None:
    """Until `url` + `path` answers 200; `failure` raised after 30 s or if the process ends."""
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}{path}", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(failure) from None
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def statement(url: str, sql: str) -> None:
    """Run one statement on a PostgreSQL database, outside any transaction."""

    async def run() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(sql))
        await engine.dispose()

    # In a thread of its own: the caller may already be running an event loop.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, run()).result()


@contextmanager
def bench_database(server_url: str | None, folder: str) -> Iterator[str]:
    """A fresh SQLite file, or a new database on the given PostgreSQL server, dropped after."""
    if not server_url or not server_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        return
    url = make_url(server_url)
    name = f"portfolio_bench_{uuid.uuid4().hex[:8]}"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    statement(admin, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        statement(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def live_server(
    database_url: str | None = None,
    workers: int = 1,
    log: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`database_url` names a PostgreSQL server (a database is created on it) or None: SQLite.
    The server's stdout and stderr go to `log` if given, else nowhere; `extra_env` adds to its
    environment."""
    with (
        tempfile.TemporaryDirectory(prefix="portfolio-bench-") as folder,
        bench_database(database_url, folder) as url,
    ):
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "MEDIA_ROOT": f"{folder}/media",
            "LOG_LEVEL": "WARNING",
            # No background worker: benchmarks measure requests, and the fuzzer's webhook
            # endpoints (any URL it makes up) must receive nothing.
            "RUN_WORKER": "false",
            **(extra_env or {}),
        }
        _cli(env, "migrate")
        _cli(env, "createsuperuser", "--username", "bench", "--password", "benchmark secret")
        token = _cli(env, "token", "create", "bench").strip().splitlines()[-1]
        port = _free_port()
        command = ["serve", "--port", str(port), "--workers", str(workers)]
        with log.open("wb") if log else open(os.devnull, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *command],
                env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(url, process, "the server did not start")
            settings = {"database_url": env["DATABASE_URL"], "media_root": env["MEDIA_ROOT"]}
            yield Server(url, token, process.pid, Path(folder) / "media", settings, process)
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def uvicorn_process(
    app: str,
    log: Path,
    ready_path: str = "/readyz",
    factory: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """`app` ("module:attribute", or a factory of no arguments) served by uvicorn in its own
    process as `portfolio-api serve` serves the service with one worker, on a free port:
    (its URL, its pid). Its output goes to `log`, quoted if it does not start."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += UVICORN_AS_SERVED + (["--factory"] if factory else [])
    env = {**os.environ, **(extra_env or {})}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ready(url, process, f"{app} did not start", ready_path)
        except RuntimeError as failed:
            raise RuntimeError(f"{failed}:\n{log.read_text()}") from None
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def reference_app() -> "Starlette":
    """bench.reference_server's app on the database named by BENCH_REFERENCE_DATABASE_URL, for
    uvicorn's `--factory`."""
    from bench.reference_server import create_app

    return create_app(os.environ[REFERENCE_DATABASE])


@contextmanager
def reference_server(database_url: str, log: Path) -> Iterator[tuple[str, int]]:
    """bench.reference_server (Starlette + asyncpg, the staff links list) on `database_url`, a
    PostgreSQL database, served as the service is: (its URL, its pid)."""
    with uvicorn_process(
        "bench.server:reference_app",
        log,
        factory=True,
        extra_env={REFERENCE_DATABASE: database_url},
    ) as served:
        yield served


@contextmanager
def bare_fastapi(log: Path) -> Iterator[tuple[str, int]]:
    """bench.bare_fastapi (FastAPI with the service's `GET /healthz` alone), served as the
    service is: (its URL, its pid)."""
    with uvicorn_process("bench.bare_fastapi:app", log, ready_path="/healthz") as served:
        yield served
