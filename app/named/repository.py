"""The SQL of a named resource: one row (locked for a write), one list page, add and delete.

A resource subclasses `NamedRepository`, naming its model and the columns its read model shows.
"""

from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.common.crud import get_or_404
from app.common.listing import ListQuery, apply_list_query
from app.common.pagination import PageRequest, fetch_page
from app.models import Base

ORDERING_FIELDS = ("id", "name", "created_at", "updated_at")
M = TypeVar("M", bound=Base)


class NamedRepository(Generic[M]):
    model: type[M]
    columns: tuple[InstrumentedAttribute[Any], ...]  # the read model's, in its order

    def column(self, name: str) -> InstrumentedAttribute[Any]:
        """One of the columns every named model has: `id`, `name`, `image_id`, `search_text`,
        `created_at`, `updated_at`."""
        column: InstrumentedAttribute[Any] = getattr(self.model, name)
        return column

    async def get(self, session: AsyncSession, object_id: int, *, for_update: bool = False) -> M:
        """The row, or 404; a write passes `for_update` to hold the row until the commit."""
        return await get_or_404(session, self.model, object_id, for_update=for_update)

    async def page(
        self,
        session: AsyncSession,
        query: ListQuery,
        page: PageRequest,
        where: ColumnElement[bool] | None = None,
    ) -> tuple[int, list[Any]]:
        """The total and one page of rows (those `where` admits), with only the read model's
        columns."""
        statement = apply_list_query(select(*self.columns), query, self.model.__table__)
        if where is not None:
            statement = statement.where(where)
        ordering = {name: self.column(name) for name in ORDERING_FIELDS}
        return await fetch_page(
            session, statement.order_by(*query.ordering.clauses(ordering)), page
        )

    async def add(self, session: AsyncSession, row: M) -> None:
        session.add(row)
        await session.flush()

    async def save(self, session: AsyncSession) -> None:
        await session.flush()
