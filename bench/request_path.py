"""The fixed cost of a request, in process: the app called as ASGI in a loop, no network, no
server, so that what is left is the app's own path (middleware, routing, dependencies, the
access log, the session and token layers, the response).

    .venv/bin/python -m bench.request_path                 # µs per request, per scenario
    .venv/bin/python -m bench.request_path --profile list  # cProfile of one scenario, by package

Default settings (the access log on, at INFO, formatted and written to a file), a SQLite
database in a temporary folder (`--database-url`: a new database on that PostgreSQL server,
dropped after), a superuser's token, one portfolio with 40 links of which 20 have an image.
On PostgreSQL, `reference` is the hand-written links list of `bench.reference_server` asked
the same request.
"""

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench import reference_server
from bench.server import bench_database

Scope = dict[str, Any]


def _scope(path: str, token: str | None, query: str = "") -> Scope:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")]
    if token:
        headers.append((b"authorization", f"Token {token}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _call(app: Any, scope: Scope) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


async def _seed(app: Any) -> tuple[str, int]:
    """A superuser's token and a portfolio with 40 links, every other one with an image."""
    from tests.factories import create_superuser

    caller = await create_superuser(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        http.headers.update(caller.headers)
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), "teal").save(picture, "PNG")
        image = await http.post("/api/media/", files={"file": ("a.png", picture.getvalue())})
        image_id = image.json()["id"]
        portfolio = await http.post("/api/portfolios/", json={"title": f"bench {uuid.uuid4()}"})
        portfolio_id = portfolio.json()["id"]
        for n in range(40):
            link = {"name": f"link {n}", "url": f"https://example.com/{n}"}
            if n % 2:
                link["image"] = image_id
            await http.post(f"/api/portfolios/{portfolio_id}/links/", json=link)
    return caller.headers["Authorization"].split()[1], portfolio_id


def _scenarios(token: str, portfolio_id: int) -> dict[str, Scope]:
    return {
        "health": _scope("/healthz", None),
        "list": _scope(f"/api/portfolios/{portfolio_id}/links/", token, "limit=10"),
        "retrieve": _scope(f"/api/portfolios/{portfolio_id}", token),
        "portfolios": _scope("/api/portfolios/", token, "limit=10"),
    }


async def _time(app: Any, scope: Scope, count: int) -> tuple[float, float]:
    """Wall and CPU µs a request (the CPU this process spent: what bounds its throughput)."""
    for _ in range(50):
        assert await _call(app, scope) == 200
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await _call(app, scope)
    wall, spent = time.perf_counter() - started, time.process_time() - cpu
    return wall / count * 1e6, spent / count * 1e6


def _by_package(stats: pstats.Stats) -> dict[str, float]:
    """Self time by top-level package (the app's own modules as `app`)."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, self_time, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        path = Path(filename)
        if "site-packages" in path.parts:
            at = path.parts.index("site-packages")
            package = path.parts[at + 1] if len(path.parts) > at + 1 else "?"
        elif "/work/main/app/" in filename or filename.startswith(str(Path.cwd() / "app")):
            package = "app"
        elif "python3" in filename or filename.startswith("<"):
            package = "stdlib:" + (path.stem if filename.startswith("/") else filename)
        else:
            package = path.stem
        totals[package.split(".")[0]] += self_time
    return totals


async def scenario_apps(
    arguments: argparse.Namespace, stack: AsyncExitStack
) -> dict[str, tuple[Any, Scope]]:
    """Each scenario's app, started in `stack`, and its request (also `bench.instructions`')."""
    from app.cli import configure_logging

    if arguments.plain:  # FastAPI's own per-request introspection, for comparison
        from app.common import fastapi_speedups

        fastapi_speedups.apply = lambda: None
    from app.main import create_app
    from app.settings import Settings
    from tests.conftest import run_migrations

    folder = Path(tempfile.mkdtemp(prefix="request-path-"))
    # A PostgreSQL server gets a database of its own, dropped after: never the one named.
    url = stack.enter_context(bench_database(arguments.database_url, str(folder)))
    await asyncio.to_thread(run_migrations, url)
    settings = Settings(
        _env_file=None, database_url=url, media_root=folder / "media", run_worker=False
    )
    configure_logging(settings)
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    token, portfolio_id = await _seed(app)
    scenarios = {name: (app, scope) for name, scope in _scenarios(token, portfolio_id).items()}
    if not settings.is_sqlite:  # the hand-written links list, on the same data
        reference = reference_server.create_app(url)
        await stack.enter_async_context(reference.router.lifespan_context(reference))
        scenarios["reference"] = (reference, scenarios["list"][1])
    return scenarios


async def run(arguments: argparse.Namespace) -> None:
    async with AsyncExitStack() as stack:
        scenarios = await scenario_apps(arguments, stack)
        if arguments.profile:
            await _profile(arguments, *scenarios[arguments.profile])
            return
        # Rounds interleave the scenarios; the least of each is the figure least disturbed by
        # whatever else the machine was doing.
        best: dict[str, tuple[float, float]] = {}
        for _round in range(arguments.rounds):
            for name, (target, scope) in scenarios.items():
                wall, cpu = await _time(target, scope, arguments.count)
                least = best.get(name, (wall, cpu))
                best[name] = (min(wall, least[0]), min(cpu, least[1]))
        for name, (wall, cpu) in best.items():
            print(f"{name:<12} {wall:7.0f} µs, CPU {cpu:7.0f} µs", file=sys.stderr)


async def _profile(arguments: argparse.Namespace, app: Any, scope: Scope) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    per_request, _cpu = await _time(app, scope, arguments.count)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    if arguments.dump:
        stats.dump_stats(arguments.dump)
    totals = _by_package(stats)
    whole = sum(totals.values())
    print(f"{arguments.profile}: {per_request:.0f} µs a request under cProfile", file=sys.stderr)
    for package, seconds in sorted(totals.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {package:<28} {100 * seconds / whole:5.1f}%", file=sys.stderr)
    stats.sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="the least of this many rounds")
    parser.add_argument(
        "--profile", choices=["health", "list", "retrieve", "portfolios", "reference"]
    )
    parser.add_argument("--dump", help="with --profile: also write the pstats to this file")
    parser.add_argument("--plain", action="store_true", help="without app.common.fastapi_speedups")
    arguments = parser.parse_args()
    os.environ.setdefault("LOG_FORMAT", "json")
    logging.disable(logging.NOTSET)
    asyncio.run(run(arguments))


if __name__ == "__main__":
    main()
