"""The application factory: settings, database, middleware, error handlers and routers."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext, suppress

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.router import router as auth_router
from app.auth.secrets import password_pool
from app.common import fastapi_speedups, tracing
from app.common.docs import install_docs
from app.common.middleware import (
    EXPOSED_HEADERS,
    AllowedHostsMiddleware,
    BodyLimitMiddleware,
    ProxyHeadersMiddleware,
    RequestContextMiddleware,
)
from app.common.route_index import index_routes
from app.common.routing import TrailingSlashMiddleware, install_routes, operation_id
from app.db import create_engine, create_read_sessionmaker, create_sessionmaker
from app.employers.router import router as employers_router
from app.errors import install_error_handlers
from app.health.router import router as health_router
from app.history.router import router as history_router
from app.jobs.running import jobs_in_process
from app.links.reorder import router as links_reorder_router
from app.links.router import router as links_router
from app.media.router import router as media_router
from app.media.service import image_pool
from app.media.serving import MediaFiles
from app.media.storage import create_storage
from app.meta.router import router as meta_router
from app.metrics import RequestMetricsMiddleware, observing_pools
from app.metrics import router as metrics_router
from app.portfolios.reorder import router as portfolios_reorder_router
from app.portfolios.router import router as portfolios_router
from app.public import invalidation as public_invalidation
from app.public.cache import ResponseCache
from app.public.fast_path import PublicCacheMiddleware
from app.public.router import router as public_router
from app.settings import Settings, get_settings
from app.tags.router import router as tags_router
from app.trash.router import router as trash_router
from app.users.router import router as users_router
from app.webhooks.router import router as webhooks_router

API_DESCRIPTION = """
The portfolio section of the website: portfolios, their links, employers, tags, gallery
images and meta data. Clients written against the original Django REST Framework API work
unchanged: `Authorization: Token <key>`, DRF error bodies, limit/offset pages, and every path
answers with or without its trailing slash.
"""


# Sixteen requests in flight keep a few thousand young objects alive between them: at
# Python's default threshold (700) a loaded worker ran a young collection every ten requests
# and a full one every second or so, 3 % of its time on retrieves. At this threshold its
# steady state runs none; cyclic garbage is still collected, a little later.
YOUNG_COLLECTION_THRESHOLD = 10_000


def keep_collector_off_the_request_path() -> None:
    """Everything built so far lives as long as the process: keep it out of the collector (a
    full collection under load then takes milliseconds, not a 100 ms pause), and collect the
    young generation less often."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_engine(app.state.settings)
    app.state.engine = engine
    tracing.trace_sql(engine)  # when tracing is on: a span per statement
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.read_sessionmaker = create_read_sessionmaker(engine)
    app.state.image_pool = image_pool(app.state.settings)
    app.state.password_pool = password_pool(app.state.settings)
    keep_collector_off_the_request_path()
    try:
        async with observing_pools(app.state), _jobs(app, engine), _public_cache(app):
            yield
    finally:
        app.state.image_pool.shutdown()
        app.state.password_pool.shutdown()
        await app.state.storage.aclose()
        await engine.dispose()
        tracing.flush()


@asynccontextmanager
async def _public_cache(app: FastAPI) -> AsyncIterator[None]:
    """This process's public bodies, dropped by its own commits and, on PostgreSQL, by every
    replica's (LISTEN); on SQLite there is one process."""
    settings: Settings = app.state.settings
    cache: ResponseCache = app.state.public_cache
    public_invalidation.register(cache)
    listener = None
    if not settings.is_sqlite:
        listener = asyncio.create_task(public_invalidation.listen(settings.database_url, cache))
    try:
        yield
    finally:
        public_invalidation.unregister(cache)
        if listener is not None:
            listener.cancel()
            with suppress(asyncio.CancelledError):
                await listener


def _jobs(app: FastAPI, engine: AsyncEngine) -> AbstractAsyncContextManager[None]:
    """The in-process worker of `portfolio-api serve` (unless RUN_WORKER=false)."""
    settings: Settings = app.state.settings
    if getattr(app.state, "serves_jobs", False) and settings.run_worker:
        return jobs_in_process(engine, settings)
    return nullcontext()


def create_served_app() -> FastAPI:
    """The application `portfolio-api serve` runs: it also works through background jobs."""
    app = create_app()
    app.state.serves_jobs = True
    return app


def install_media_serving(app: FastAPI, settings: Settings) -> None:
    """Local files at MEDIA_URL; in production a gateway or object storage may serve them."""
    settings.media_root.mkdir(parents=True, exist_ok=True)
    app.mount(
        "/" + settings.media_url.strip("/"),
        MediaFiles(directory=settings.media_root),
        name="media",
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    fastapi_speedups.apply()
    app = FastAPI(
        title="Portfolio API",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        generate_unique_id_function=operation_id,
        telemetry=tracing.fastapi_telemetry(),  # request spans when the OTEL_* variables ask
    )
    app.state.settings = settings
    app.state.storage = create_storage(settings)
    # Live at once on SQLite; on PostgreSQL once its listener hears other replicas' changes.
    app.state.public_cache = ResponseCache(settings.public_cache_max_bytes, live=settings.is_sqlite)
    install_error_handlers(app)
    install_docs(app)
    # Routes are matched in order: the busiest first, but the literal `reorder` paths before
    # the `{id}` routes that would also match them.
    documented = (
        portfolios_reorder_router,  # before the item route whose path it would match
        links_reorder_router,
        links_router,
        portfolios_router,
        public_router,
        media_router,
        meta_router,
        employers_router,
        tags_router,
        auth_router,
        users_router,
        webhooks_router,
        trash_router,
        history_router,
        health_router,
        metrics_router,
    )
    # Routes are tried one by one: the probes (which orchestrators call every few seconds) and
    # the website's reads first. The document keeps its own order.
    tried_first = (health_router, metrics_router, public_router)
    for router in (*tried_first, *(r for r in documented if r not in tried_first)):
        install_routes(app, router)
    app.state.documented_routes = [route for router in documented for route in router.routes]
    if settings.media_storage == "local":  # a bucket serves its own objects
        install_media_serving(app, settings)
    index_routes(app.router)

    # Added innermost first: the request id wraps everything, proxies are resolved before the
    # host is checked (the forwarded host is the one links use), and that before CORS.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=EXPOSED_HEADERS,
        )
    app.add_middleware(
        BodyLimitMiddleware,
        json_limit=settings.json_body_max_bytes,
        upload_limit=settings.upload_max_bytes,
    )
    app.add_middleware(PublicCacheMiddleware, rate_limit=settings.public_rate_limit)
    # Inside TrailingSlashMiddleware, which passes a copy of the scope on: it reads the route
    # the router chose from the scope the router was given.
    app.add_middleware(RequestMetricsMiddleware)
    app.add_middleware(TrailingSlashMiddleware)
    if settings.allowed_hosts and "*" not in settings.allowed_hosts:
        app.add_middleware(AllowedHostsMiddleware, allowed=settings.allowed_hosts)
    app.add_middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxies)
    app.add_middleware(RequestContextMiddleware, tracing=tracing.current_tracer() is not None)
    logging.getLogger("app").setLevel(settings.log_level.upper())
    return app
