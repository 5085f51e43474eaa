"""Link SQL: the list statement built from the parsed list request, a link by id (locked for a
write), and the ORM writes (add and flush, never commit)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import apply_changes
from app.common.filters import CommonFilters, apply_common_filters, presence_condition
from app.common.ordering import Ordering, parse_ordering
from app.common.parents import child_or_404
from app.common.search import apply_search
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


@dataclass(frozen=True)
class LinkQuery:
    """A list request, parsed: whose links, which of them, in what order."""

    portfolio_id: int
    filters: CommonFilters
    ordering: Ordering
    search: str | None = None
    has_image: bool | None = None
    has_description: bool | None = None
    has_url: bool | None = None

    @property
    def plain(self) -> bool:
        """No filter, no search, the default order: the page most requests ask for."""
        return (
            not self.filters.any
            and self.search is None
            and self.ordering == DEFAULT_ORDERING
            and self.has_image is None
            and self.has_description is None
            and self.has_url is None
        )

    def order_by(self) -> list[Any]:
        return self.ordering.clauses(ORDERING_COLUMNS)


def select_links(query: LinkQuery) -> AnySelect:
    """The portfolio's links that `query` asks for, unordered: the columns of `COLUMNS`."""
    statement = select(*COLUMNS).where(LINKS.c.portfolio_id == query.portfolio_id)
    statement = apply_common_filters(
        statement, query.filters, LINKS.c.id, LINKS.c.created_at, LINKS.c.updated_at
    )
    statement = apply_search(statement, query.search, LINKS.c.search_text, LINKS.c.id)
    if query.has_image is not None:
        statement = statement.where(presence_condition(LINKS.c.image_id, query.has_image))
    for column, wanted in (
        (LINKS.c.description, query.has_description),
        (LINKS.c.url, query.has_url),
    ):
        if wanted is not None:
            statement = statement.where(presence_condition(column, wanted, blank_is_absent=True))
    return statement


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


async def update(session: AsyncSession, link: PortfolioLink, changes: dict[str, Any]) -> None:
    apply_changes(link, changes, RENAMED)
    await session.flush()


async def delete(session: AsyncSession, link: PortfolioLink) -> None:
    """Deleted when the request's unit of work flushes."""
    await session.delete(link)
