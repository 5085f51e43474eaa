"""Prometheus metrics at `GET /metrics`, for the addresses in METRICS_ALLOWED only.

- `http_request_duration_seconds{method, route, status}`: a histogram of every request, by
  method, route template (the path as the route declares it, `/api/portfolios/{id}`; `unmatched`
  when no route took the request: an unknown path, a CORS preflight, a body refused before
  routing) and status class (`2xx`). Its `_count` is the request count.
- `db_pool_connections_in_use`, `db_pool_connections_waiting`, `db_pool_connections_max`: the
  SQLAlchemy pool's checked-out connections, the callers waiting for one, size plus overflow.
- `cpu_work_in_progress{pool}`, `cpu_work_queued{pool}`: image work and password hashing in
  their bounded thread pools (`pool="image"`, `pool="password"`).

With `serve --workers N` (N > 1) each worker writes its values to files in the directory that
`serve` names in PROMETHEUS_MULTIPROC_DIR, and whichever worker answers a scrape sums them all
(prometheus-client's multiprocess mode): counts include every worker's requests, gauges are the
sum over the live workers. One process cannot read another's pools, so there each worker writes
its gauges every second (and the one answering, just before).
"""

import asyncio
import contextlib
import ipaddress
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.common.routing import APIRouter, Public
from app.common.workers import BoundedPool
from app.errors import NotFound

# Decided as prometheus-client decides it, once at import: `serve` sets the variable before any
# worker starts.
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Prometheus' defaults with 1 and 2.5 ms below them (most reads take a few milliseconds here) and
# 30 s above them (uploads of large images).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Requests by method, route template and status class, from arrival to the response's end",
    ["method", "route", "status"],
    buckets=BUCKETS,
)
DB_IN_USE = Gauge(
    "db_pool_connections_in_use", "Database connections checked out", multiprocess_mode="livesum"
)
DB_WAITING = Gauge(
    "db_pool_connections_waiting",
    "Callers waiting for a pooled database connection",
    multiprocess_mode="livesum",
)
DB_MAX = Gauge(
    "db_pool_connections_max",
    "The most connections the pools open (size plus overflow)",
    multiprocess_mode="livesum",
)
CPU_IN_PROGRESS = Gauge(
    "cpu_work_in_progress",
    "Places taken in a CPU work pool, up to one per thread",
    ["pool"],
    multiprocess_mode="livesum",
)
CPU_QUEUED = Gauge(
    "cpu_work_queued",
    "Places taken in a CPU work pool beyond its threads: work waiting for a thread",
    ["pool"],
    multiprocess_mode="livesum",
)
CPU_POOLS = {"image": "image_pool", "password": "password_pool"}  # label: app.state attribute


class RequestMetricsMiddleware:
    """Observe each request's duration, labelled by method, route template and status class.

    It must sit inside TrailingSlashMiddleware, which hands a copy of the scope inwards: the
    router records the route it chose (`scope["route"]`) in the scope it was given. Requests
    refused for their Host (400) are therefore not counted. What a request pays: two dict
    look-ups (its labelled histogram is kept per method, route and status class) and one observe.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Keyed by the route's id (routes compare by value, unhashable): they live as the app does.
        self.histograms: dict[tuple[str, int, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = scope.get("route")
            key = (method, id(route), status // 100)
            histogram = self.histograms.get(key)
            if histogram is None:
                histogram = self.histograms[key] = REQUEST_DURATION.labels(
                    method, route_template(route), f"{key[2]}xx"
                )
            histogram.observe(time.perf_counter() - started)


def route_template(route: Any) -> str:
    """The path as the route declares it (a DRFRoute's, with its trailing slash), a mount's
    `/prefix/{path}`, or `unmatched`: never the path requested."""
    if route is None:
        return UNMATCHED
    template = getattr(route, "canonical_path", None) or getattr(route, "path_format", None)
    return template if isinstance(template, str) else UNMATCHED


def pool_usage(pool: Any) -> tuple[int, int, int] | None:
    """Connections checked out, callers waiting for one, and size plus overflow, of a QueuePool
    (PostgreSQL, and SQLite files); None for another kind of pool.

    No pool event fires before a checkout, so the waiting callers are read from the pool's
    queue: the waiting getters of the asyncio.Queue inside SQLAlchemy's AsyncAdaptedQueue
    (`QueuePool._pool._queue._getters`). tests/test_metrics.py holds those internals to it.
    """
    if not isinstance(pool, QueuePool):
        return None
    getters = getattr(getattr(pool._pool, "_queue", None), "_getters", None) or ()
    waiting = sum(1 for getter in getters if not getter.done())
    overflow = max(pool._max_overflow, 0)  # -1: without limit (pool_size=0)
    return pool.checkedout(), waiting, pool.size() + overflow


def observe_pools(state: Any) -> None:
    """Set the gauges from this process's database pool and CPU work pools."""
    engine = getattr(state, "engine", None)
    usage = pool_usage(engine.pool) if engine is not None else None
    if usage is not None:
        in_use, waiting, most = usage
        DB_IN_USE.set(in_use)
        DB_WAITING.set(waiting)
        DB_MAX.set(most)
    for label, attribute in CPU_POOLS.items():
        pool: BoundedPool | None = getattr(state, attribute, None)
        if pool is not None:
            running = min(pool.in_flight, pool.threads)
            CPU_IN_PROGRESS.labels(label).set(running)
            CPU_QUEUED.labels(label).set(pool.in_flight - running)


@contextlib.asynccontextmanager
async def observing_pools(state: Any, interval: float = 1.0) -> AsyncIterator[None]:
    """In multiprocess mode, write this worker's pool gauges every `interval` seconds while the
    app runs (the worker answering a scrape cannot read the others' pools). A worker that ends
    leaves the sums when `serve`'s supervisor sees it gone."""
    if not MULTIPROCESS:
        yield
        return

    async def observe_forever() -> None:
        while True:
            observe_pools(state)
            await asyncio.sleep(interval)

    task = asyncio.create_task(observe_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def admits(allowed: list[str], client: tuple[str, int] | None) -> bool:
    """Whether the client's address (an IPv4-mapped IPv6 one as IPv4) is in an allowed network."""
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowed)


def _registry() -> Any:
    if not MULTIPROCESS:
        return REGISTRY  # with the process, platform and garbage collector metrics
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


router = APIRouter(tags=["operations"], include_in_schema=False, dependencies=[Public])


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text, or OpenMetrics when asked for; 404, as for an unknown path, to a client
    whose address (after TRUSTED_PROXIES' forwarded headers) is not in METRICS_ALLOWED."""
    if not admits(request.app.state.settings.metrics_allowed, request.client):
        raise NotFound()
    observe_pools(request.app.state)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    # In a thread: in multiprocess mode the workers' files are read.
    body = await asyncio.to_thread(encode, _registry())
    return Response(body, headers={"Content-Type": content_type})
