"""`make bench`: the service on PostgreSQL with seeded data (one uvicorn worker), driven by wrk
from a second process: the health check (`GET /healthz`, no database), list links, list
portfolios, retrieve a portfolio, create and update links and portfolios, upload an image.
Prints requests/s, p50, p99 and SQL statements per request (counted on an in-process copy of
the app) as a Markdown table. The service runs at its default settings: the access log on, a
JSON line a request written to a file, as a deployment writes it to its log collector.

Two references are measured in the same run, with the same wrk settings and warm-up, each right
after the scenario it is compared with, each served by uvicorn in a process of its own as
`portfolio-api serve` runs (one worker, uvloop, httptools, no access log, no proxy headers):

    bare FastAPI /healthz     bench.bare_fastapi: FastAPI with the service's /healthz alone
                              (same body), no middleware or dependencies: FastAPI's own floor
    hand-written list links   bench.reference_server: Starlette + asyncpg, the same page of
                              links as SQL-built JSON, the token lookup included; on the same
                              database, path and token (PostgreSQL only: skipped on SQLite)

Their rows close the table; the column "ratio" gives the scenario's requests/s over its
reference's: health check / bare FastAPI /healthz, list links / hand-written list links (the
other scenarios have no reference). Each reference is checked first to answer what the service
answers.

    make bench                          # PostgreSQL at 127.0.0.1:5432 (a database is created)
    make bench DATABASE_URL=sqlite      # the embedded database instead
    make bench BENCH_ONLY=portfolio     # only the scenarios whose name contains this
    make bench BENCH_ONLY=health BENCH_SECONDS=2   # a short run (with its reference)

Needs `wrk` (Debian: apt-get install wrk). Each scenario is warmed up before it is measured.
"""

import asyncio
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import event

from bench.server import Server, bare_fastapi, live_server, reference_server, statement

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
CONNECTIONS = 16
ARCHIVED_PORTFOLIOS = 500
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ONLY = os.environ.get("BENCH_ONLY", "")
WARM_UP_SECONDS = 3
BARE = "bare FastAPI /healthz"
HAND_WRITTEN = "hand-written list links"
ACCESS_LOG_ON = {
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
}  # the defaults (`live_server` quiets them)
RATIO_TO = {BARE: "bare FastAPI", HAND_WRITTEN: "hand-written"}  # in the ratio column


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    body: dict | None = None
    ids: list[int] | None = None  # PATCH spreads over these links instead of one hot row
    upload: Path | None = None  # a multipart body sent as is (the image upload)
    reference: str | None = None  # BARE or HAND_WRITTEN: the same request there, for a ratio


@dataclass
class Row:
    name: str
    figures: dict[str, float]  # rps, p50, p99 (ms), errors
    statements: int | None  # SQL statements per request; None for a reference
    reference: str | None = None  # the reference row its ratio is to


BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"


def multipart_upload(folder: Path) -> Path:
    """A 1280x853 photo-like JPEG (about 200 KB) as a ready multipart body for wrk."""
    from bench.media_upload import photo_like

    image = photo_like((1280, 853), 85)
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    path = folder / "upload.multipart"
    path.write_bytes(body)
    return path


def png(color: tuple[int, int, int]) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(output, "PNG")
    return output.getvalue()


async def seed(client: httpx.AsyncClient) -> dict[str, object]:
    """Realistic data: images with thumbnails, employers, tags, portfolios with everything."""
    images = []
    for number in range(12):
        response = await client.post(
            "/api/media/",
            files={"file": (f"image{number}.png", png((number * 20, 80, 160)), "image/png")},
        )
        response.raise_for_status()
        images.append(response.json()["id"])
    employers = [
        (
            await client.post("/api/employers/", json={"name": f"Employer {n}", "image": images[n]})
        ).json()["id"]
        for n in range(4)
    ]
    tags = [
        (await client.post("/api/tags/", json={"name": f"tag {n}", "image": images[n + 4]})).json()[
            "id"
        ]
        for n in range(6)
    ]
    portfolios = []
    for number in range(30):
        response = await client.post(
            "/api/portfolios/",
            json={
                "title": f"Portfolio {number} طراحی سایت",
                "excerpt": "a site built with care",
                "description": "a long description " * 20,
                "image": images[number % 12],
                "employer": employers[number % 4],
                "tags": tags[number % 3 : number % 3 + 3],
                "images": images[number % 6 : number % 6 + 4],
                "completed_at": "2024-12-14T00:00:00Z",
            },
        )
        response.raise_for_status()
        portfolio = response.json()["id"]
        portfolios.append(portfolio)
        for link in range(3):
            await client.post(
                f"/api/portfolios/{portfolio}/links/",
                json={"name": f"link {link}", "url": "https://github.com/x", "image": images[link]},
            )
        await client.post(
            f"/api/portfolios/{portfolio}/meta/",
            json={"key": "client", "value_text": "x", "value_file": images[0]},
        )
    await _archive(client, ARCHIVED_PORTFOLIOS)
    target = portfolios[0]
    links = []
    for number in range(12):
        response = await client.post(
            f"/api/portfolios/{target}/links/",
            json={
                "name": f"github {number}",
                "url": "https://github.com/y",
                "image": images[number],
            },
        )
        links.append(response.json()["id"])
    return {"portfolio": target, "links": links, "portfolios": portfolios}


async def _archive(client: httpx.AsyncClient, count: int) -> None:
    """Plain portfolios behind the full ones, so that PostgreSQL plans for a table of a real
    site's size: plans made on a table of 30 rows scan it whole, and are kept while a
    benchmark adds thousands faster than autovacuum looks."""

    async def create(number: int) -> None:
        response = await client.post(
            "/api/portfolios/", json={"title": f"Archived {number}", "is_active": False}
        )
        response.raise_for_status()

    for start in range(0, count, 10):
        await asyncio.gather(*(create(n) for n in range(start, min(start + 10, count))))


def analyze(server: Server) -> None:
    """Table statistics as autovacuum keeps them (it would take a minute to get there)."""
    url = server.env["database_url"]
    if url.startswith("postgresql"):
        statement(url, "ANALYZE")


def scenarios(data: dict[str, object], upload: Path) -> list[Scenario]:
    portfolio = data["portfolio"]
    links, portfolios = data["links"], data["portfolios"]
    assert isinstance(links, list)
    assert isinstance(portfolios, list)
    return [
        Scenario("health check (no database)", "GET", "/healthz", reference=BARE),
        Scenario(
            "list links (limit 10, with images)",
            "GET",
            f"/api/portfolios/{portfolio}/links/?limit=10",
            reference=HAND_WRITTEN,
        ),
        Scenario("list portfolios (limit 10, nested)", "GET", "/api/portfolios/?limit=10"),
        Scenario("retrieve portfolio (nested)", "GET", f"/api/portfolios/{portfolio}"),
        Scenario(
            "create link",
            "POST",
            f"/api/portfolios/{portfolio}/links/",
            {"name": "bench", "url": "https://example.com/bench", "description": "load"},
        ),
        Scenario(
            "update link", "PATCH", f"/api/portfolios/{portfolio}/links/ID", {"order": 1}, links
        ),
        Scenario(
            "create portfolio",
            "POST",
            "/api/portfolios/",
            {"title": "bench", "tags": [], "excerpt": "load"},
        ),
        Scenario("update portfolio", "PATCH", "/api/portfolios/ID", {"order": 2}, portfolios),
        Scenario("upload an image (1280x853 JPEG)", "POST", "/api/media/", upload=upload),
    ]


LUA = """
local ids = {%(ids)s}
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("worker", threads)
end
local upload = nil
if "%(upload)s" ~= "" then
  local file = io.open("%(upload)s", "rb")
  upload = file:read("*all")
  file:close()
end
request = function()
  counter = counter + 1
  if upload ~= nil then
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Content-Type"] = "multipart/form-data; boundary=%(boundary)s"
    return wrk.format("POST", "%(path)s", headers, upload)
  end
  local path = "%(path)s"
  if #ids > 0 then path = path:gsub("ID", ids[(counter %% #ids) + 1]) end
  local body = %(body)s
  if "%(method)s" == "POST" and body ~= nil then
    body = body:gsub("BENCH", "%(run)s-" .. tostring(worker) .. "-" .. counter)
  end
  return wrk.format("%(method)s", path, nil, body)
end
"""


def wrk(url: str, token: str, scenario: Scenario, seconds: int = SECONDS) -> dict[str, float]:
    body = json.dumps(scenario.body, ensure_ascii=False) if scenario.body else None
    if body and scenario.method == "POST":
        body = body.replace('"bench"', '"bench BENCH"')
    script = LUA % {
        "ids": ",".join(str(i) for i in scenario.ids or []),
        "path": scenario.path,
        "body": "nil" if body is None else "[[" + body + "]]",
        "method": scenario.method,
        "upload": str(scenario.upload or ""),
        "boundary": BOUNDARY,
        "run": uuid.uuid4().hex[:8],  # titles stay unique across runs
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency"]
    command += ["-s", handle.name, "-H", f"Authorization: Token {token}"]
    if scenario.upload is None:
        command += ["-H", "Content-Type: application/json"]
    command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    Path(handle.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def statements_per_request(server_env: dict[str, str], token: str, scenario: Scenario) -> int:
    """The same request against an in-process copy of the app, counting SQL statements."""
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(_env_file=None, **server_env))
    async with app.router.lifespan_context(app):
        statements: list[str] = []
        engine = app.state.engine.sync_engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Token {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            await client.get("/api/auth/me")  # last-used time written now, not during the count
            path = scenario.path.replace("ID", str((scenario.ids or [0])[0]))
            body = dict(scenario.body or {})
            if scenario.method == "POST" and "title" in body:
                body["title"] = "counted"
            if scenario.upload is not None:
                content_type = f"multipart/form-data; boundary={BOUNDARY}"
                request = client.build_request(
                    "POST", path, content=scenario.upload.read_bytes(),
                    headers={"Content-Type": content_type},
                )  # fmt: skip
            else:
                request = client.build_request(scenario.method, path, json=body or None)
            event.listen(engine, "before_cursor_execute", listener)
            response = await client.send(request)
            event.remove(engine, "before_cursor_execute", listener)
            response.raise_for_status()
    return len([s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))])


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}"


def measure(url: str, token: str, scenario: Scenario) -> dict[str, float]:
    wrk(url, token, scenario, WARM_UP_SECONDS)  # caches, pool and prepared statements
    return wrk(url, token, scenario)


def references(
    stack: ExitStack, server: Server, chosen: list[Scenario], folder: Path
) -> tuple[dict[str, str], list[str]]:
    """The references the chosen scenarios are compared with, started: their URLs by name,
    and a note for each that cannot run here."""
    wanted = {scenario.reference for scenario in chosen}
    urls, notes = {}, []
    if BARE in wanted:
        urls[BARE], _ = stack.enter_context(bare_fastapi(folder / "bare.log"))
    database = server.env["database_url"]
    if HAND_WRITTEN in wanted and database.startswith("postgresql"):
        served = reference_server(database, folder / "hand-written.log")
        urls[HAND_WRITTEN], _ = stack.enter_context(served)
    elif HAND_WRITTEN in wanted:
        notes.append(f"{HAND_WRITTEN}: not run on SQLite (bench.reference_server is asyncpg).")
    return urls, notes


def check_reference(url: str, server: Server, scenario: Scenario) -> None:
    """The reference answers the request as the service does: the same body, or for a page
    the same count and ids."""

    def gist(base: str) -> object:
        response = httpx.get(base + scenario.path, headers=headers, timeout=10)
        response.raise_for_status()
        body = response.json()
        if isinstance(body, dict) and "results" in body:
            return body["count"], [result["id"] for result in body["results"]]
        return body

    headers = {"Authorization": f"Token {server.token}"}
    theirs, ours = gist(url), gist(server.url)
    if theirs != ours:
        raise RuntimeError(f"{scenario.reference} answered {theirs!r}, the service {ours!r}")


def run(database: str | None) -> tuple[list[Row], list[str]]:
    """The rows of the chosen scenarios, then of their references; notes for the table."""
    with (
        tempfile.TemporaryDirectory() as folder,
        live_server(database, log=Path(folder) / "service.log", extra_env=ACCESS_LOG_ON) as server,
        ExitStack() as stack,
    ):
        headers = {"Authorization": f"Token {server.token}"}

        async def prepare() -> dict[str, object]:
            async with httpx.AsyncClient(
                base_url=server.url, headers=headers, timeout=60
            ) as client:
                return await seed(client)

        data = asyncio.run(prepare())
        analyze(server)
        rows, reference_rows = [], []
        chosen = [s for s in scenarios(data, multipart_upload(Path(folder))) if ONLY in s.name]
        urls, notes = references(stack, server, chosen, Path(folder))
        for scenario in chosen:
            figures = measure(server.url, server.token, scenario)
            count = asyncio.run(statements_per_request(server.env, server.token, scenario))
            reference = scenario.reference if scenario.reference in urls else None
            rows.append(Row(scenario.name, figures, count, reference))
            print(f"  {scenario.name}: {figures['rps']:.0f} requests/s", file=sys.stderr)
            if reference is not None:
                check_reference(urls[reference], server, scenario)
                same = replace(scenario, name=reference, reference=None)
                figures = measure(urls[reference], server.token, same)
                reference_rows.append(Row(reference, figures, None))
                print(f"  {reference}: {figures['rps']:.0f} requests/s", file=sys.stderr)
    return rows + reference_rows, notes


def ratio(row: Row, rows: list[Row]) -> str:
    """`0.52x hand-written`: the row's requests/s over its reference's; empty without one."""
    found = [other for other in rows if other.name == row.reference]
    if not found:
        return ""
    return f"{row.figures['rps'] / found[0].figures['rps']:.2f}x {RATIO_TO[found[0].name]}"


def report(rows: list[Row], notes: list[str], backend: str) -> None:
    print(f"wrk, {CONNECTIONS} connections, {SECONDS} s per scenario after a {WARM_UP_SECONDS} s")
    print(f"warm-up; one uvicorn worker on {backend}; {machine()}")
    print()
    print("| scenario | requests/s | p50 | p99 | non-2xx | SQL statements per request | ratio |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        rps, p50, p99, errors = (row.figures[k] for k in ("rps", "p50", "p99", "errors"))
        count = "" if row.statements is None else row.statements
        print(
            f"| {row.name} | {rps:.0f} | {p50:.1f} ms | {p99:.1f} ms | {errors:.0f} | {count} "
            f"| {ratio(row, rows)} |"
        )
    print()
    print("ratio: requests/s over the reference's, measured right after in the same run (each")
    print("reference its own uvicorn worker, served as the service is; see bench/api_load.py).")
    for note in notes:
        print(note)


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    target = os.environ.get("DATABASE_URL", POSTGRES)
    database = None if target == "sqlite" else target
    rows, notes = run(database)
    report(rows, notes, "SQLite" if database is None else "PostgreSQL")


if __name__ == "__main__":
    main()
