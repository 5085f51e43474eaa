"""Running SQL on the hot paths: Core statements without the ORM (`read`), statements prepared
once and run straight through asyncpg on PostgreSQL (`Prepared`), and `AnySelect`, the type of
a select of any columns (SQLAlchemy 2.1 types a Select by its row's column types)."""

from collections.abc import Sequence
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import ClauseElement, Executable, Result, Select
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncSession

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
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            result = await connection.execute(self.statement, params)  # type: ignore[call-overload]
            return result.mappings().all()  # type: ignore[no-any-return]
        sql, names, constants = self._compiled(connection.dialect)
        arguments = [params[name] if name in params else constants[name] for name in names]
        driver: Any = (await connection.get_raw_connection()).driver_connection
        # SQLAlchemy's cursor events still fire, so statement counters and tracing see this too.
        events: Any = connection.sync_connection.dispatch  # type: ignore[union-attr]
        events.before_cursor_execute(connection.sync_connection, None, sql, arguments, None, False)
        try:
            rows = await driver.fetch(sql, *arguments)
        except BaseException as exc:
            lost = driver.is_closed() or isinstance(exc, CONNECTION_LOST)
            # After a failure mid-statement the connection's state is unknown: never reuse it.
            await connection.invalidate(exc)
            if lost:
                raise DisconnectionError("the database connection was lost") from exc  # 503
            raise
        events.after_cursor_execute(connection.sync_connection, None, sql, arguments, None, False)
        return rows  # type: ignore[no-any-return]

    async def scalar(self, session: AsyncSession, params: dict[str, Any]) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = await self.rows(session, params)
        return next(iter(rows[0].values())) if rows else None
