"""SQL of `/api/portfolios/{portfolio_id}/meta/`: the list page and the item lookup."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.listing import ListQuery, apply_list_query
from app.common.pagination import PageRequest, fetch_page
from app.common.parents import child_or_404
from app.meta.schemas import ORDERING_FIELDS
from app.models import PortfolioMeta

ORDERING_COLUMNS: dict[str, Any] = {name: getattr(PortfolioMeta, name) for name in ORDERING_FIELDS}
# What `meta_payloads` reads: a page selects these, not ORM objects.
COLUMNS = (
    PortfolioMeta.id,
    PortfolioMeta.key,
    PortfolioMeta.value_text,
    PortfolioMeta.value_file_id,
    PortfolioMeta.created_at,
    PortfolioMeta.updated_at,
)


async def list_page(
    session: AsyncSession, page: PageRequest, portfolio_id: int, query: ListQuery
) -> tuple[int, list[Any]]:
    """The total and one page of the portfolio's meta rows (`COLUMNS`), filtered and ordered."""
    statement = select(*COLUMNS).where(PortfolioMeta.portfolio_id == portfolio_id)
    statement = apply_list_query(statement, query, PortfolioMeta.__table__)
    statement = statement.order_by(*query.ordering.clauses(ORDERING_COLUMNS))
    return await fetch_page(session, statement, page)


async def get(
    session: AsyncSession, portfolio_id: int, meta_id: int, *, for_update: bool = False
) -> PortfolioMeta:
    """The portfolio's meta item, or 404; a write locks it (see `child_or_404`)."""
    return await child_or_404(session, PortfolioMeta, meta_id, portfolio_id, for_update=for_update)
