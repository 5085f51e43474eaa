"""Typing helpers for SQLAlchemy 2.1, whose Select is typed by its row's column types."""

from typing import Any, TypeVar

from sqlalchemy import Executable, Result, Select
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
