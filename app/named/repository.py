"""The SQL of a named resource: one row (locked for a write), one list page, add and delete.

A resource subclasses `NamedRepository`, naming its model and the columns its read model shows.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.common.crud import get_or_404
from app.common.filters import CommonFilters, apply_common_filters, presence_condition
from app.common.ordering import Ordering
from app.common.pagination import PageRequest, fetch_page
from app.common.search import apply_search
from app.models import Base

ORDERING_FIELDS = ("id", "name", "created_at", "updated_at")
M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class NamedQuery:
    """One list request, parsed by the router."""

    filters: CommonFilters
    ordering: Ordering
    page: PageRequest
    search: str | None = None
    has_image: bool | None = None
    # `has_<field>` of optional text fields, by field name; a blank text counts as unset
    has_text: Mapping[str, bool | None] = field(default_factory=dict)


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

    async def page(self, session: AsyncSession, query: NamedQuery) -> tuple[int, list[Any]]:
        """The total and one page of rows, with only the read model's columns."""
        id_, created_at, updated_at = map(self.column, ("id", "created_at", "updated_at"))
        statement = select(*self.columns)
        statement = apply_common_filters(statement, query.filters, id_, created_at, updated_at)
        statement = apply_search(statement, query.search, self.column("search_text"), id_)
        statement = statement.where(*self._conditions(query))
        ordering = {name: self.column(name) for name in ORDERING_FIELDS}
        return await fetch_page(
            session, statement.order_by(*query.ordering.clauses(ordering)), query.page
        )

    def _conditions(self, query: NamedQuery) -> list[ColumnElement[bool]]:
        conditions = []
        if query.has_image is not None:
            conditions.append(presence_condition(self.column("image_id"), query.has_image))
        for name, present in query.has_text.items():
            if present is not None:
                column = self.column(name)
                conditions.append(presence_condition(column, present, blank_is_absent=True))
        return conditions

    async def add(self, session: AsyncSession, row: M) -> None:
        session.add(row)
        await session.flush()

    async def save(self, session: AsyncSession) -> None:
        await session.flush()

    async def delete(self, session: AsyncSession, row: M) -> None:
        await session.delete(row)
