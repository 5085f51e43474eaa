"""The public read API against a hand-written reference (issue 30), in interleaved windows.

One PostgreSQL database, created for the run and dropped after, seeded as `make bench` seeds
(bench.api_load.seed: 12 images with thumbnails, 4 employers, 6 tags, 30 nested portfolios with
links and meta, 500 inactive plain portfolios; then ANALYZE). Two servers on it, each one
uvicorn worker with uvloop and httptools: the service (`portfolio-api serve`, RUN_WORKER=false,
as bench.server starts it) and bench.reference_server (Starlette + asyncpg, SQL-built JSON, a
token lookup included). wrk drives one scenario at a time with 16 connections (2 threads):

    reference     GET /api/portfolios/{id}/links/?limit=10 on the reference, with the token
                  (the portfolio with 15 links: a full page of 10, each with its image)
    staff list    GET /api/portfolios/?limit=10&is_active=true on the service, with a
                  superuser's token (BENCH_STAFF_PATH): the same 10 portfolios as the public
                  page (about 130 KB). Without `is_active` the staff page would be the 10 newest
                  of the 500 plain inactive portfolios (4 KB), no measure for the public page.
    public warm   GET /api/public/portfolios/?limit=10, the response cache filled beforehand
    public 304    the same with `If-None-Match: <its ETag>` and `Cache-Control: no-cache` (as
                  Node's fetch sends a revalidation)
    public cold   every request a cache miss: the same page under a query string the cache has
                  never seen, `?limit=10&_=<run>-<thread>-<counter>` (BENCH_COLD_PATH, `{n}` for
                  the unique part). `_` is no parameter of the route but the cache keys on
                  every query parameter, so each request builds the very page of 10 a warm miss
                  builds (the same SQL, JSON, surrogate keys and ETag; only its `next` link
                  carries the `_`) and stores it under its own key, the LRU cache evicting the
                  oldest as it fills: the work of the first request after an invalidation.
                  Checked before the windows on an in-process copy of the service: the second
                  of two distinct cold URLs must run SQL (a miss), a repeated warm URL must not
                  (a hit); otherwise the run stops.
                  No write is made to invalidate (that would measure the write).

Each scenario is warmed up for WARM_UP seconds first (pools, prepared statements, the cache);
then BENCH_WINDOWS (5) rounds of BENCH_SECONDS (4) s per scenario, the scenarios taking turns
and each round starting one scenario later, so that a slow spell of the shared machine falls on
all alike. A ratio is the median of the rounds' ratios (the two sides measured seconds apart).
Targets: public warm >= 1.0x the reference, public 304 >= 1.5x the reference, public cold >=
1.0x the staff list.

    .venv/bin/python -m bench.public_api
    .venv/bin/python -m bench.public_api --only reference,staff   # before the public routes exist
    BENCH_WINDOWS=3 BENCH_SECONDS=3 .venv/bin/python -m bench.public_api

Needs wrk (apt-get install wrk), like `make bench`; PostgreSQL at DATABASE_URL (default
127.0.0.1:5432, a database is created and dropped).
"""

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.api_load import POSTGRES, _ms, analyze, machine, seed
from bench.server import ROOT, Server, _free_port, live_server, wait_until_ready
from bench.webhooks import cpu_seconds

CONNECTIONS = 16
THREADS = 2
WINDOWS = int(os.environ.get("BENCH_WINDOWS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
WARM_UP = 2
PUBLIC_LIST = "/api/public/portfolios/?limit=10"
STAFF_PATH = os.environ.get("BENCH_STAFF_PATH", "/api/portfolios/?limit=10&is_active=true")
COLD_PATH = os.environ.get("BENCH_COLD_PATH", "/api/public/portfolios/?limit=10&_={n}")
RATIOS = [  # (label, numerator, denominator, target)
    ("public warm / reference", "public warm", "reference", 1.0),
    ("public 304 / reference", "public 304", "reference", 1.5),
    ("public cold / staff list", "public cold", "staff list", 1.0),
]


@dataclass
class Scenario:
    name: str
    server: str  # "service" or "reference"
    path: str  # `{n}`: unique per request (cold)
    headers: list[str] = field(default_factory=list)
    expect_status: int = 200


@dataclass
class Window:
    rps: float
    p50: float
    p99: float
    errors: int  # non-2xx/3xx and socket errors
    bytes_per_request: float
    cpu_ms: float  # of the serving process, per request


# --- the reference server -----------------------------------------------------------------


@contextmanager
def reference_server(database_url: str, log: Path) -> Iterator[tuple[str, int]]:
    """bench.reference_server on a free port: (its URL, its pid)."""
    port = _free_port()
    command = [sys.executable, "-m", "bench.reference_server", "--port", str(port)]
    command += ["--database-url", database_url]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ready(url, process, "the reference did not start")
        except RuntimeError as failed:
            raise RuntimeError(f"{failed}:\n{log.read_text()}") from None
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- load ---------------------------------------------------------------------------------


LUA_UNIQUE = """
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("worker", threads)
end
request = function()
  counter = counter + 1
  local unique = "%(run)s-" .. tostring(worker) .. "-" .. tostring(counter)
  local path = string.gsub([[%(path)s]], "{n}", unique)
  return wrk.format(nil, path)
end
"""

UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def wrk(url: str, pid: int, scenario: Scenario, seconds: int) -> Window:
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency"]
    for header in scenario.headers:
        command += ["-H", header]
    script = None
    if "{n}" in scenario.path:
        lua = LUA_UNIQUE % {"run": uuid.uuid4().hex[:8], "path": scenario.path}
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(lua)
        script = Path(handle.name)
        command += ["-s", str(script), url]
    else:
        command.append(url + scenario.path)
    cpu = cpu_seconds(pid)
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            script.unlink()
    cpu = cpu_seconds(pid) - cpu

    def find(pattern: str) -> re.Match[str]:
        found = re.search(pattern, output)
        if found is None:
            raise RuntimeError(f"wrk said:\n{output}")
        return found

    total = find(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read")
    requests = int(total.group(1))
    read = float(total.group(2)) * UNITS[total.group(3)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Window(
        rps=float(find(r"Requests/sec:\s+([\d.]+)").group(1)),
        p50=_ms(find(r"50%\s+([\d.]+\w+)").group(1)),
        p99=_ms(find(r"99%\s+([\d.]+\w+)").group(1)),
        errors=(int(errors.group(1)) if errors else 0)
        + (sum(int(n) for n in sockets.groups()) if sockets else 0),
        bytes_per_request=read / max(requests, 1),
        cpu_ms=cpu * 1000 / max(requests, 1),
    )


# --- checks before the windows --------------------------------------------------------------


def check_reference(reference: str, server: Server, links_path: str) -> None:
    """The reference answers the page the service answers (same count and link ids), and
    refuses a wrong token."""
    headers = {"Authorization": f"Token {server.token}"}
    ours = httpx.get(reference + links_path, headers=headers, timeout=10)
    theirs = httpx.get(server.url + links_path, headers=headers, timeout=10)
    ours.raise_for_status()
    theirs.raise_for_status()
    mine, service = ours.json(), theirs.json()
    assert mine["count"] == service["count"], (mine["count"], service["count"])
    assert [r["id"] for r in mine["results"]] == [r["id"] for r in service["results"]]
    assert mine["results"][0]["image_data"]["thumbnails"], "the links should have images"
    refused = httpx.get(reference + links_path, headers={"Authorization": "Token nope"})
    assert refused.status_code == 401, refused.status_code


def check_public(server: Server) -> str:
    """The public list answers with an ETag and a 304 for it; its ETag. Stops the run with a
    clear message while the routes are missing."""
    response = httpx.get(server.url + PUBLIC_LIST, timeout=10)
    if response.status_code == 404:
        sys.exit(
            f"GET {PUBLIC_LIST} answered 404: the public API (issue 30) is not in this "
            "working tree yet. Run with --only reference,staff meanwhile."
        )
    response.raise_for_status()
    if len(response.json().get("results", [])) != 10:
        sys.exit(f"GET {PUBLIC_LIST} did not answer a page of 10: {response.text[:300]}")
    etag = response.headers.get("etag")
    if not etag:
        sys.exit(f"GET {PUBLIC_LIST} answered no ETag")
    revalidated = httpx.get(
        server.url + PUBLIC_LIST,
        headers={"If-None-Match": etag, "Cache-Control": "no-cache"},
        timeout=10,
    )
    if revalidated.status_code != 304:
        sys.exit(f"If-None-Match: {etag} answered {revalidated.status_code}, not 304")
    return etag


async def sql_statements(server_env: dict[str, str], paths: list[str]) -> list[int]:
    """SQL statements each GET of `paths`, in turn, runs on an in-process copy of the service
    (a fresh app, an empty cache)."""
    from sqlalchemy import event

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(_env_file=None, **server_env))
    counts = []
    async with app.router.lifespan_context(app):
        # On PostgreSQL the cache serves nothing until its invalidation listener is connected.
        cache = getattr(app.state, "public_cache", None)
        for _ in range(300):
            if cache is None or cache.live:
                break
            await asyncio.sleep(0.05)
        engine = app.state.engine.sync_engine
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            event.listen(engine, "before_cursor_execute", listener)
            try:
                for path in paths:
                    statements.clear()
                    (await client.get(path)).raise_for_status()
                    counts.append(
                        len([s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT"))])
                    )
            finally:
                event.remove(engine, "before_cursor_execute", listener)
    return counts


def check_cache(server: Server) -> None:
    """Warm is a hit and every cold request a miss, or the figures would mean nothing."""
    cold = [COLD_PATH.replace("{n}", f"check-{n}") for n in range(2)]
    fill, hit, _first_cold, cold_miss = asyncio.run(
        sql_statements(server.env, [PUBLIC_LIST, PUBLIC_LIST, *cold])
    )
    if hit:
        sys.exit(f"a repeated GET {PUBLIC_LIST} ran {hit} SQL statements: the cache missed")
    if not cold_miss:
        sys.exit(
            f"GET {cold[1]} after {cold[0]} ran no SQL: the cold URLs share a cache entry "
            "(the cache key leaves `_` out?). Choose a BENCH_COLD_PATH the cache keys apart."
        )
    print(
        f"  cache: a miss runs {fill} SQL statements, a hit none; cold URLs miss", file=sys.stderr
    )


# --- the run --------------------------------------------------------------------------------


def scenarios(server: Server, portfolio: int, etag: str | None) -> list[Scenario]:
    token = f"Authorization: Token {server.token}"
    found = [
        Scenario("reference", "reference", f"/api/portfolios/{portfolio}/links/?limit=10", [token]),
        Scenario("staff list", "service", STAFF_PATH, [token]),
        Scenario("public warm", "service", PUBLIC_LIST),
        Scenario("public 304", "service", PUBLIC_LIST, [], 304),
        Scenario("public cold", "service", COLD_PATH),
    ]
    if etag is not None:
        found[3].headers = [f"If-None-Match: {etag}", "Cache-Control: no-cache"]
    return found


def run(database: str, only: list[str]) -> dict[str, list[Window]]:
    with (
        tempfile.TemporaryDirectory() as folder,
        live_server(database, log=Path(folder) / "service.log") as server,
    ):
        headers = {"Authorization": f"Token {server.token}"}

        async def prepare() -> dict[str, object]:
            async with httpx.AsyncClient(
                base_url=server.url, headers=headers, timeout=60
            ) as client:
                return await seed(client)

        print("seeding...", file=sys.stderr)
        data = asyncio.run(prepare())
        analyze(server)
        portfolio = data["portfolio"]
        assert isinstance(portfolio, int)
        public = any(name.startswith("public") for name in only)
        etag = check_public(server) if public else None
        if "public cold" in only:
            check_cache(server)
        chosen = [s for s in scenarios(server, portfolio, etag) if s.name in only]
        with reference_server(server.env["database_url"], Path(folder) / "ref.log") as (
            reference,
            reference_pid,
        ):
            check_reference(reference, server, f"/api/portfolios/{portfolio}/links/?limit=10")
            targets = {"service": (server.url, server.pid), "reference": (reference, reference_pid)}
            for scenario in chosen:
                wrk(*targets[scenario.server], scenario, WARM_UP)
            if etag is not None and httpx.get(server.url + PUBLIC_LIST).headers["etag"] != etag:
                sys.exit("the public list's ETag moved during the warm-up")
            results: dict[str, list[Window]] = {s.name: [] for s in chosen}
            for round_ in range(WINDOWS):
                turn = chosen[round_ % len(chosen) :] + chosen[: round_ % len(chosen)]
                for scenario in turn:
                    window = wrk(*targets[scenario.server], scenario, SECONDS)
                    if window.errors:
                        sys.exit(f"{scenario.name}: {window.errors} failed requests (wrk)")
                    results[scenario.name].append(window)
                figures = ", ".join(f"{s.name} {results[s.name][-1].rps:.0f}" for s in chosen)
                print(f"  round {round_ + 1}/{WINDOWS}: {figures}", file=sys.stderr)
    return results


def report(results: dict[str, list[Window]]) -> None:
    print(
        f"wrk, {CONNECTIONS} connections, {THREADS} threads; {WINDOWS} rounds of {SECONDS} s per "
        f"scenario, interleaved, after a {WARM_UP} s warm-up each; one uvicorn worker per server "
        f"on PostgreSQL; {machine()}"
    )
    print()
    print("| scenario | requests/s per window | median | p50 | p99 | bytes/response | CPU/req |")
    print("|---|---|---|---|---|---|---|")
    for name, windows in results.items():
        rates = ", ".join(f"{w.rps:.0f}" for w in windows)
        median = statistics.median(w.rps for w in windows)
        p50 = statistics.median(w.p50 for w in windows)
        p99 = statistics.median(w.p99 for w in windows)
        size = statistics.median(w.bytes_per_request for w in windows)
        cpu = statistics.median(w.cpu_ms for w in windows)
        print(
            f"| {name} | {rates} | {median:.0f} | {p50:.1f} ms | {p99:.1f} ms | {size:.0f} B "
            f"| {cpu:.2f} ms |"
        )
    print()
    for label, top, bottom, target in RATIOS:
        if top not in results or bottom not in results:
            continue
        ratios = [a.rps / b.rps for a, b in zip(results[top], results[bottom], strict=True)]
        median = statistics.median(ratios)
        verdict = "ok" if median >= target else "BELOW TARGET"
        each = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"- {label}: {median:.2f}x (target >= {target}x: {verdict}; windows: {each})")
    print("\nCPU/req: CPU time of the serving process per request (the figure least moved by")
    print("whatever else runs); bytes/response: read by wrk per response, headers included.")


def main() -> None:
    names = ["reference", "staff list", "public warm", "public 304", "public cold"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated words: the scenarios whose name contains one of them run",
    )
    args = parser.parse_args()
    words = [word.strip() for word in args.only.split(",") if word.strip()]
    only = [name for name in names if not words or any(word in name for word in words)]
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    database = os.environ.get("DATABASE_URL", POSTGRES)
    if not database.startswith("postgresql"):
        sys.exit("bench.public_api needs PostgreSQL (the reference server is asyncpg)")
    report(run(database, only))


if __name__ == "__main__":
    main()
