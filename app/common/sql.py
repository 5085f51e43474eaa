"""Running SQL on the hot paths: Core statements without the ORM (`read`), statements prepared
once and run straight through asyncpg on PostgreSQL (`Prepared`), the sessions of GET requests
(`ReadSession`), and `AnySelect`, the type of a select of any columns (SQLAlchemy 2.1 types a
Select by its row's column types)."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import ClauseElement, Executable, Result, Select, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

AnySelect = Select[*tuple[Any, ...]]
S = TypeVar("S", bound=AnySelect)


async def read(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | None = None
) -> Result[Any]:
    """Run a Core statement on the session's connection, skipping the ORM layer.

    Hot paths pair this with statements built once at import (bound parameters, expanding for
    id lists): building and cache-keying a statement per request costs more than running it.
    """
    connection = await session.connection()
    return await connection.execute(statement, params or {})


# What asyncpg raises when the server goes away mid-statement (restart, pg_terminate_backend).
CONNECTION_LOST = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.OperatorInterventionError,
)


_POOLED = "pooled_connection"


class _ReadSyncSession(Session):
    pass


class ReadSession(AsyncSession):
    """A GET request's session on PostgreSQL, in autocommit.

    Its `Prepared` statements run on a pooled driver connection checked out by itself, without
    the Session, SessionTransaction and Connection that SQLAlchemy builds around a checkout and
    takes down at the end (about 180 µs of CPU, a fifth of a request). The first ORM or Core
    statement hands that connection back to the pool before the session takes its own, so a
    request never holds two connections (two at once could starve the pool under load).
    """

    sync_session_class = _ReadSyncSession

    async def pooled_connection(self) -> PoolProxiedConnection | None:
        """The connection for `Prepared` statements, or None once the session has begun (they
        share its connection then)."""
        if self.in_transaction():
            return None
        pooled: PoolProxiedConnection | None = self.info.get(_POOLED)
        if pooled is None:
            engine: Any = self.bind
            try:
                pooled = self.info[_POOLED] = await engine.raw_connection()
            except engine.dialect.loaded_dbapi.Error as exc:  # unwrapped, unlike a Connection's
                raise DisconnectionError("could not connect to the database") from exc  # 503
        return pooled

    async def discard_pooled(self, error: BaseException) -> None:
        """After a failure mid-statement the connection's state is unknown: never reuse it."""
        pooled = self.info.pop(_POOLED, None)
        if pooled is not None:
            await greenlet_spawn(pooled.invalidate, error)
            await greenlet_spawn(pooled.close)

    async def close(self) -> None:
        pooled = self.info.pop(_POOLED, None)
        if pooled is not None:
            await greenlet_spawn(pooled.close)
        # A session that only ran `Prepared` statements never began: closing it would only
        # take down what it never built (a greenlet hop and an empty identity map: 2.5% of a
        # retrieve).
        sync = self.sync_session
        if sync.in_transaction() or sync.identity_map or sync.new:
            await super().close()


@event.listens_for(_ReadSyncSession, "after_transaction_create")
def _hand_back_pooled(session: Session, _transaction: SessionTransaction) -> None:
    # Runs before the session checks out its connection (inside SQLAlchemy's greenlet).
    pooled = session.info.pop(_POOLED, None)
    if pooled is not None:
        pooled.close()


class Prepared:
    """A statement built once at import that PostgreSQL runs straight through asyncpg.

    On the hottest paths SQLAlchemy's execution layer (cache key, greenlet hop, cursor and result
    wrappers) costs more than the query. The statement is compiled once per process; SQLite runs
    it through SQLAlchemy as usual. Rows come back as mappings (by name) on both backends.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._postgres: tuple[str, tuple[str, ...], dict[str, Any]] | None = None

    def _compiled(self, dialect: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        if self._postgres is None:
            compiled: Any = self.statement.compile(dialect=dialect)
            # The statement's own constants are bound parameters too, with their values here.
            self._postgres = (compiled.string, tuple(compiled.positiontup or ()), compiled.params)
        return self._postgres

    async def rows(self, session: AsyncSession, params: dict[str, Any]) -> Sequence[Any]:
        if isinstance(session, ReadSession):
            pooled = await session.pooled_connection()
            if pooled is not None:
                engine: Any = session.bind
                return await self._fetch(
                    engine.dialect, pooled.driver_connection, params,
                    engine.sync_engine.dispatch, pooled, session.discard_pooled,
                )  # fmt: skip
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            result = await connection.execute(self.statement, params)  # type: ignore[call-overload]
            return result.mappings().all()  # type: ignore[no-any-return]
        driver = (await connection.get_raw_connection()).driver_connection
        return await self._fetch(
            connection.dialect, driver, params, connection.sync_connection.dispatch,  # type: ignore[union-attr]
            connection.sync_connection, connection.invalidate,
        )  # fmt: skip

    async def _fetch(
        self,
        dialect: Any,
        driver: Any,
        params: dict[str, Any],
        events: Any,
        events_connection: Any,
        discard: Callable[[BaseException], Awaitable[None]],
    ) -> Sequence[Any]:
        sql, names, constants = self._compiled(dialect)
        arguments = [params[name] if name in params else constants[name] for name in names]
        # SQLAlchemy's cursor events still fire, so statement counters and tracing see this too
        # (with the pooled connection, whose `info` is its record's, in place of a Connection).
        events.before_cursor_execute(events_connection, None, sql, arguments, None, False)
        try:
            rows = await driver.fetch(sql, *arguments)
        except BaseException as exc:
            lost = driver.is_closed() or isinstance(exc, CONNECTION_LOST)
            # After a failure mid-statement the connection's state is unknown: never reuse it.
            await discard(exc)
            if lost:
                raise DisconnectionError("the database connection was lost") from exc  # 503
            raise
        events.after_cursor_execute(events_connection, None, sql, arguments, None, False)
        return rows  # type: ignore[no-any-return]

    async def scalar(self, session: AsyncSession, params: dict[str, Any]) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = await self.rows(session, params)
        return next(iter(rows[0].values())) if rows else None
