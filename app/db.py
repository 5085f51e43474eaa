"""Engine, sessions and the request-scoped unit of work."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.common.routing import reads_for
from app.common.sql import ReadSession
from app.errors import ServiceUnavailable, raises
from app.settings import Settings, get_settings

logger = logging.getLogger("app.db")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Execution option read by the SQLite BEGIN hook: writers take the write lock up front, so a
# read-then-write transaction waits on the busy timeout instead of failing "database is locked".
SQLITE_BEGIN_IMMEDIATE = "sqlite_begin_immediate"
_CHECKED_IN_AT = "checked_in_at"


def create_engine(settings: Settings) -> AsyncEngine:
    """SQLite, or PostgreSQL with generic plans for prepared statements.

    Left to choose, PostgreSQL plans the nested JSON statements anew for every execution
    (their custom plans look cheaper than a generic one for an `id = ANY($1)` of unknown
    size), and planning them costs more than running them. Every statement here has
    parameters whose values do not change the best plan: ids, keys, page bounds, filters
    on indexed or unindexed columns alike."""
    if settings.is_sqlite:
        return _create_sqlite_engine(settings)
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        connect_args={
            "timeout": settings.database_connect_timeout,
            "server_settings": {"plan_cache_mode": "force_generic_plan"},
        },
    )
    _ping_idle_connections(engine, settings.database_ping_after)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use: closed by the server, or idle and not answering.

    `pool_pre_ping` would ping on every checkout: three round trips on asyncpg (BEGIN, ping,
    ROLLBACK), a third of a busy list request. Instead: asyncpg already knows, for free, when the
    server closed the socket (a restart, `pg_terminate_backend`); only a connection that sat idle
    for `idle_seconds` is pinged, since those are the ones a firewall drops silently. A failing
    check makes the pool open a new connection; a connection lost mid-request gives a 503.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def remember_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def check_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed the connection")  # the pool reconnects
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("an idle connection is gone") from exc


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the database file, but not the folder it lives in."""
    database = make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _create_sqlite_engine(settings: Settings) -> AsyncEngine:
    ensure_sqlite_directory(settings.database_url)
    engine = create_async_engine(
        settings.database_url,
        connect_args={"timeout": settings.sqlite_busy_timeout},
    )
    busy_ms = int(settings.sqlite_busy_timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def configure_connection(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver so SAVEPOINTs and BEGIN IMMEDIATE work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def begin_transaction(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_BEGIN_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that write. On SQLite each of their transactions takes the write lock as it
    begins (BEGIN IMMEDIATE), so reading before writing cannot fail "database is locked"; a
    transaction begins with its first statement, not before (a request that ends its reading
    early, as an upload does, then begins nothing until it writes)."""
    return _sessionmaker(engine.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True}))


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for GET requests. On PostgreSQL they run in autocommit, as DRF's queries do
    without ATOMIC_REQUESTS: no BEGIN and COMMIT round trips around a read. SQLite keeps its
    transactions (they cost nothing there, and its BEGIN is ours to issue)."""
    if engine.dialect.name == "postgresql":
        reading = engine.execution_options(isolation_level="AUTOCOMMIT")
        return async_sessionmaker(
            reading, class_=ReadSession, expire_on_commit=False, autoflush=False
        )
    return _sessionmaker(engine)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@asynccontextmanager
async def standalone_session() -> AsyncIterator[AsyncSession]:
    """A unit of work outside any request (the CLI): its own engine, committed at the end."""
    engine = create_engine(get_settings())
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


async def end_read_transaction(session: AsyncSession) -> None:
    """End what the request has read so far (its authentication) before slow work.

    No database lock (SQLite) or pooled connection (PostgreSQL) is then held while, say, an
    image is processed; the writes that follow begin a transaction of their own.
    """
    await session.commit()


Callback = Callable[[], Awaitable[None]]
_AFTER_COMMIT = "after_commit"
_ON_FAILURE = "on_failure"


def after_commit(session: AsyncSession, callback: Callback) -> None:
    """Run `callback` once the request's transaction has committed (e.g. delete files)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def on_failure(session: AsyncSession, callback: Callback) -> None:
    """Run `callback` if the request's transaction does not commit (e.g. remove new files)."""
    session.info.setdefault(_ON_FAILURE, []).append(callback)


async def _run_callbacks(session: AsyncSession, name: str) -> None:
    for callback in session.info.pop(name, []):
        try:
            # Shielded: a client that hangs up must not leave the clean-up half done.
            await asyncio.shield(callback())
        except Exception:
            logger.exception("%s callback failed", name)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One writing transaction: commit at the end, then run the `after_commit` callbacks; on
    any failure roll back and run the `on_failure` ones (which remove files stored on the way)."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await _run_callbacks(session, _ON_FAILURE)
            raise  # closing the session rolls back
        await _run_callbacks(session, _AFTER_COMMIT)


@raises(ServiceUnavailable)
async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed before the response is sent (scope="function").
    Routes that only read get `get_read_session` in its place (`DRFRoute`)."""
    async with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


@reads_for(get_session)
@raises(ServiceUnavailable)
async def get_read_session(request: Request) -> AsyncSession:
    """`get_session` for a route that only reads (GET, HEAD): the session is closed when the
    route's function scope ends, as `get_session`'s is, without the generator machinery FastAPI
    puts around a yield dependency (an async context manager, cancel scopes and a shielded exit
    on every request). Its closing is shielded here: a cancelled request still returns its
    connection."""
    session: AsyncSession = request.app.state.read_sessionmaker()
    function_scope: AsyncExitStack = request.scope["fastapi_function_astack"]
    function_scope.push_async_callback(_close_shielded, session)
    return session


async def _close_shielded(session: AsyncSession) -> None:
    await asyncio.shield(session.close())


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
