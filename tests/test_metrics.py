"""GET /metrics: request histograms by route template, pool gauges, who may read them, and the
sums over several workers of a live server."""

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.common.access import AccessKind
from app.common.routing import DRFRoute
from app.db import create_engine
from app.main import create_app
from app.metrics import pool_usage
from app.settings import Settings
from bench.server import live_server
from tests.conftest import make_client, started

ABSENT_ID = str(2**62)
BOUND = 20.0  # seconds; a shared 2-core machine

Labels = tuple[tuple[str, str], ...]


def samples(exposition: str, name: str) -> dict[Labels, float]:
    """The samples called `name`, keyed by their labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    }


def request_counts(exposition: str) -> dict[tuple[str, str, str], float]:
    counts = samples(exposition, "http_request_duration_seconds_count")
    return {
        (labels["method"], labels["route"], labels["status"]): value
        for labels, value in ((dict(key), value) for key, value in counts.items())
    }


def gauge(exposition: str, name: str, **labels: str) -> float:
    return samples(exposition, name)[tuple(sorted(labels.items()))]


async def scrape(http: httpx.AsyncClient) -> str:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_requests_are_counted_by_route_template_and_status_class(admin_client, client):
    before = request_counts(await scrape(client))
    assert (await admin_client.get("/api/portfolios/")).status_code == 200
    assert (await admin_client.get("/api/portfolios")).status_code == 200  # the same route
    assert (await admin_client.get(f"/api/portfolios/{ABSENT_ID}")).status_code == 404
    assert (await client.delete(f"/api/portfolios/{ABSENT_ID}")).status_code == 401
    assert (await client.get(f"/no/such/{ABSENT_ID}")).status_code == 404
    exposition = await scrape(client)

    after = request_counts(exposition)
    added = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)}
    assert added == {
        ("GET", "/api/portfolios/", "2xx"): 2,
        ("GET", "/api/portfolios/{id}", "4xx"): 1,
        ("DELETE", "/api/portfolios/{id}", "4xx"): 1,
        ("GET", "unmatched", "4xx"): 1,
        ("GET", "/metrics", "2xx"): 1,  # the first scrape
    }
    assert ABSENT_ID not in exposition  # never the path requested
    buckets = samples(exposition, "http_request_duration_seconds_bucket")
    listing = {("method", "GET"), ("route", "/api/portfolios/"), ("status", "2xx")}
    bounds = {dict(key)["le"] for key in buckets if listing <= set(key)}
    assert {"0.001", "0.005", "1.0", "30.0", "+Inf"} <= bounds


async def test_an_unexpected_error_is_counted_as_5xx(notes_app):
    async with make_client(notes_app, raise_app_exceptions=False) as http:
        before = request_counts(await scrape(http))
        assert (await http.get("/test/boom")).status_code == 500
        after = request_counts(await scrape(http))
    key = ("GET", "/test/boom", "5xx")
    assert after[key] - before.get(key, 0) == 1


async def test_the_openmetrics_format_when_asked_for(client):
    response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_pool_and_cpu_work_gauges_show_this_process(app, client):
    with app.state.image_pool.reserve(), app.state.password_pool.reserve():
        exposition = await scrape(client)
        pool = app.state.engine.pool
        in_use = pool.checkedout()  # the test's own transaction holds one
    assert gauge(exposition, "db_pool_connections_in_use") == in_use >= 1
    assert gauge(exposition, "db_pool_connections_waiting") == 0
    most = gauge(exposition, "db_pool_connections_max")
    assert most == pool.size() + pool._max_overflow
    for name in ("image", "password"):
        assert gauge(exposition, "cpu_work_in_progress", pool=name) == 1
        assert gauge(exposition, "cpu_work_queued", pool=name) == 0

    exposition = await scrape(client)
    for name in ("image", "password"):
        assert gauge(exposition, "cpu_work_in_progress", pool=name) == 0


async def test_cpu_work_beyond_the_threads_is_queued(app, client):
    pool = app.state.image_pool
    places = [pool.reserve() for _ in range(pool.threads + 2)]
    for place in places:
        place.__enter__()
    try:
        exposition = await scrape(client)
    finally:
        for place in places:
            place.__exit__(None, None, None)
    assert gauge(exposition, "cpu_work_in_progress", pool="image") == pool.threads
    assert gauge(exposition, "cpu_work_queued", pool="image") == 2


async def test_callers_waiting_for_a_pooled_connection_are_counted(migrated_database):
    """Read from SQLAlchemy's and asyncio's internals (no event fires before a checkout): this
    test is what tells an upgrade that changed them."""
    engine = create_async_engine(migrated_database, pool_size=1, max_overflow=0, pool_timeout=10)
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            assert pool_usage(engine.pool) == (1, 0, 1)

            async def another() -> None:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

            waiting = asyncio.create_task(another())
            deadline = time.monotonic() + BOUND
            while pool_usage(engine.pool) != (1, 1, 1):
                assert time.monotonic() < deadline, pool_usage(engine.pool)
                await asyncio.sleep(0.01)
        await asyncio.wait_for(waiting, BOUND)
        assert pool_usage(engine.pool) == (0, 0, 1)
    finally:
        await engine.dispose()


def all_routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from all_routes(included.routes) if included is not None else [route]


def test_metrics_is_a_public_route_outside_the_openapi_document(app):
    routes = [route for route in all_routes(app.routes) if route.path == "/metrics"]
    assert len(routes) == 1
    assert isinstance(routes[0], DRFRoute)
    assert routes[0].access.kind is AccessKind.PUBLIC
    assert not routes[0].include_in_schema
    assert "/metrics" not in app.openapi()["paths"]


async def test_metrics_is_404_to_an_address_not_allowed(app, db_connection):
    async with make_client(app, client=("203.0.113.7", 40000)) as stranger:
        response = await stranger.get("/metrics")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert (await stranger.get("/healthz")).status_code == 200


async def test_a_gateway_forwarding_from_the_internet_does_not_expose_metrics(app, db_connection):
    """The address checked is the client's as TRUSTED_PROXIES resolve it, as everywhere else: a
    gateway on loopback (trusted, and allowed by default) forwarding a stranger gets a 404; a
    stranger claiming to be loopback is not believed."""
    async with make_client(app, client=("127.0.0.1", 40000)) as gateway:
        forwarded = await gateway.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
        assert forwarded.status_code == 404
        assert forwarded.json() == {"detail": "Not found."}
        # The gateway's own request, and one it forwards from loopback, are answered.
        assert (await gateway.get("/metrics")).status_code == 200
        relayed = await gateway.get("/metrics", headers={"X-Forwarded-For": "::1"})
        assert relayed.status_code == 200
    async with make_client(app, client=("203.0.113.7", 40000)) as stranger:
        claimed = await stranger.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
        assert claimed.status_code == 404


async def test_allowed_networks_and_any_host(settings):
    """A scraper on its network, directly or through a trusted gateway; the Host check, which
    refuses other paths, does not apply (scrapers call by address)."""
    allowing = settings.model_copy(
        update={"metrics_allowed": ["10.0.0.0/8"], "allowed_hosts": ["api.example.com"]}
    )
    host = {"Host": "10.0.0.2:8000"}
    async for app in started(create_app(allowing)):
        async with make_client(app, client=("10.1.2.3", 40000)) as scraper:
            assert (await scraper.get("/metrics", headers=host)).status_code == 200
            assert (await scraper.get("/metrics/", headers=host)).status_code == 200
            assert (await scraper.get("/api/portfolios/", headers=host)).status_code == 400
        async with make_client(app, client=("::ffff:10.1.2.3", 40000)) as mapped:
            assert (await mapped.get("/metrics", headers=host)).status_code == 200
        async with make_client(app, client=("127.0.0.1", 40000)) as gateway:
            forwarded = {**host, "X-Forwarded-For": "10.9.9.9"}
            assert (await gateway.get("/metrics", headers=forwarded)).status_code == 200
            assert (await gateway.get("/metrics", headers=host)).status_code == 404


def test_metrics_allowed_takes_addresses_and_networks():
    settings = Settings(_env_file=None, metrics_allowed="10.0.0.5, 192.168.0.0/16,::1")
    assert settings.metrics_allowed == ["10.0.0.5", "192.168.0.0/16", "::1"]
    assert Settings(_env_file=None).metrics_allowed == ["127.0.0.1", "::1"]
    assert Settings(_env_file=None, metrics_allowed="").metrics_allowed == []
    with pytest.raises(ValueError, match="addresses or networks"):
        Settings(_env_file=None, metrics_allowed="prometheus.internal")


# A live server with two workers: prometheus-client's multiprocess mode.


def database_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def eventually(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND
    while not (result := condition()):
        assert time.monotonic() < deadline, f"not within {BOUND} s: {what}"
        time.sleep(0.05)
    return result


def worker_pids(folder: Path, kind: str) -> set[int]:
    """The workers that wrote metrics of a kind (`histogram`, `gauge_livesum`) to the folder."""
    return {int(path.stem.rsplit("_", 1)[1]) for path in folder.glob(f"{kind}_*.db")}


def healthz_counts(folder: Path) -> dict[int, float]:
    """GET /healthz requests each worker has counted, read from its own file."""
    counts = {}
    for path in folder.glob("histogram_*.db"):
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name.endswith("_count") and sample.labels["route"] == "/healthz":
                    counts[int(path.stem.rsplit("_", 1)[1])] = sample.value
    return counts


def two(pids: set[int]) -> set[int] | None:
    return pids if len(pids) == 2 else None


def scrape_live(url: str) -> str:
    # A new connection each time: any worker may answer.
    response = httpx.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=5)
    assert response.status_code == 200, response.text
    return response.text


def test_two_workers_count_every_request_and_sum_their_gauges(tmp_path):
    pool = {"DATABASE_POOL_SIZE": "3", "DATABASE_MAX_OVERFLOW": "1"}
    server_env = {"TMPDIR": str(tmp_path), **pool}  # serve's directory is made in TMPDIR
    with live_server(database_server(), workers=2, extra_env=server_env) as server:
        folder = eventually(lambda: next(tmp_path.glob("portfolio-metrics-*"), None), "a folder")
        # Every worker writes its gauges as it starts, then each second.
        workers = eventually(lambda: two(worker_pids(folder, "gauge_livesum")), "both write")
        settings = Settings(_env_file=None, database_url=server.env["database_url"], **pool)
        engine = create_engine(settings)
        per_worker = engine.pool.size() + engine.pool._max_overflow
        asyncio.run(engine.dispose())

        def pools_of_both() -> bool:
            return gauge(scrape_live(server.url), "db_pool_connections_max") == 2 * per_worker

        eventually(pools_of_both, "the pool gauges of both workers")

        # Requests on new connections until both workers have answered some.
        sent = 0
        with httpx.Client(base_url=server.url, headers={"Connection": "close"}) as http:
            deadline = time.monotonic() + BOUND
            while set(healthz_counts(folder)) != workers or sent < 20:
                assert time.monotonic() < deadline, "one worker answered every request"
                assert http.get("/healthz").status_code == 200
                sent += 1
        assert sum(healthz_counts(folder).values()) == sent
        key = ("GET", "/healthz", "2xx")
        for _ in range(4):  # whichever worker answers, the sum of both
            assert request_counts(scrape_live(server.url))[key] == sent

        # A worker killed is replaced; its gauges leave the sums, its counts stay.
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        replaced = eventually(
            lambda: killed not in (pids := worker_pids(folder, "gauge_livesum")) and two(pids),
            "the replacement writes its gauges and the killed worker's are gone",
        )
        assert len(replaced - workers) == 1
        eventually(pools_of_both, "the pool gauges of both workers, the replacement's included")
        assert request_counts(scrape_live(server.url))[key] == sent
    assert not list(tmp_path.glob("portfolio-metrics-*"))  # removed when serve ends
