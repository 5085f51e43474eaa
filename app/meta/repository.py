"""SQL of `/api/portfolios/{portfolio_id}/meta/`: the list page and the item lookup."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.filters import apply_common_filters, presence_condition
from app.common.pagination import PageRequest, fetch_page
from app.common.parents import child_or_404
from app.common.search import apply_search
from app.meta.schemas import ORDERING_FIELDS, MetaQuery
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
    session: AsyncSession, page: PageRequest, portfolio_id: int, query: MetaQuery
) -> tuple[int, list[Any]]:
    """The total and one page of the portfolio's meta rows (`COLUMNS`), filtered and ordered."""
    statement = select(*COLUMNS).where(PortfolioMeta.portfolio_id == portfolio_id)
    statement = apply_common_filters(
        statement,
        query.filters,
        PortfolioMeta.id,
        PortfolioMeta.created_at,
        PortfolioMeta.updated_at,
    )
    statement = apply_search(statement, query.search, PortfolioMeta.search_text, PortfolioMeta.id)
    if query.has_value_file is not None:
        present = presence_condition(PortfolioMeta.value_file_id, query.has_value_file)
        statement = statement.where(present)
    statement = statement.order_by(*query.ordering.clauses(ORDERING_COLUMNS))
    return await fetch_page(session, statement, page)


async def get(
    session: AsyncSession, portfolio_id: int, meta_id: int, *, for_update: bool = False
) -> PortfolioMeta:
    """The portfolio's meta item, or 404; a write locks it (see `child_or_404`)."""
    return await child_or_404(session, PortfolioMeta, meta_id, portfolio_id, for_update=for_update)
