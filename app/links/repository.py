"""Link SQL: the list statement built from the parsed list request, a link by id (locked for a
write), and the ORM writes (add and flush, never commit)."""

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import FieldChanges, apply_changes
from app.common.listing import ListQuery, apply_list_query
from app.common.ordering import parse_ordering
from app.common.parents import child_or_404
from app.common.sql import AnySelect
from app.models import PortfolioLink

ORDERING_FIELDS = ("id", "name", "order", "created_at", "updated_at")
DEFAULT_ORDER = ("order", "-created_at")
# List queries are built per request from table columns: cheaper to build than ORM attributes.
LINKS = PortfolioLink.__table__
ORDERING_COLUMNS: dict[str, Any] = {name: LINKS.c[name] for name in ORDERING_FIELDS}
DEFAULT_ORDERING = parse_ordering(None, ORDERING_FIELDS, DEFAULT_ORDER)
# What the Python serialiser reads of a link.
COLUMNS = tuple(
    LINKS.c[name]
    for name in (
        "id", "portfolio_id", "name", "url", "image_id", "description", "order",
        "created_at", "updated_at",
    )
)  # fmt: skip
# A portfolio's links (`:portfolio_id`) in the default order: the plain page's rows, for a
# statement built once.
PORTFOLIO_LINK_IDS = select(LINKS.c.id).where(LINKS.c.portfolio_id == bindparam("portfolio_id"))
DEFAULT_ORDER_BY = DEFAULT_ORDERING.clauses(ORDERING_COLUMNS)
RENAMED = {"image": "image_id"}


def is_plain(query: ListQuery) -> bool:
    """No filter, no search, the default order: the page most requests ask for."""
    return not query.narrows and query.ordering == DEFAULT_ORDERING


def order_by(query: ListQuery) -> list[Any]:
    return query.ordering.clauses(ORDERING_COLUMNS)


def select_links(portfolio_id: int, query: ListQuery) -> AnySelect:
    """The portfolio's links that `query` asks for, unordered: the columns of `COLUMNS`."""
    statement = select(*COLUMNS).where(LINKS.c.portfolio_id == portfolio_id)
    return apply_list_query(statement, query, LINKS)


async def get(
    session: AsyncSession, link_id: int, portfolio_id: int | None, *, for_update: bool = False
) -> PortfolioLink:
    """The link of that portfolio (`None`: of any portfolio), or 404; locked for a write."""
    return await child_or_404(session, PortfolioLink, link_id, portfolio_id, for_update=for_update)


async def create(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any]
) -> PortfolioLink:
    link = PortfolioLink(portfolio_id=portfolio_id)
    apply_changes(link, changes, RENAMED)
    session.add(link)
    await session.flush()
    return link


async def update(
    session: AsyncSession, link: PortfolioLink, changes: dict[str, Any]
) -> FieldChanges:
    changed = apply_changes(link, changes, RENAMED)
    await session.flush()
    return changed
