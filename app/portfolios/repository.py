"""Portfolio SQL: the list statement built from the parsed list request, the rows the Python
builder reads (one query per related table, whatever the number of portfolios, selecting only
the columns the response shows), a portfolio by id (locked for a write), and the writes (add
and flush, never commit)."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, exists, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import get_or_404
from app.common.filters import time_conditions
from app.common.listing import ListQuery, apply_list_query
from app.common.ordering import parse_ordering
from app.common.sql import AnySelect, read
from app.models import (
    Employer,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    TrashReservation,
    portfolio_images,
    portfolio_tags,
)
from app.portfolios.schemas import PortfolioQuery

ORDERING_FIELDS = ("id", "title", "order", "completed_at", "created_at", "updated_at")
DEFAULT_ORDER = ("order", "-created_at")
ORDERING_COLUMNS: dict[str, Any] = {name: getattr(Portfolio, name) for name in ORDERING_FIELDS}
DEFAULT_ORDERING = parse_ordering(None, ORDERING_FIELDS, DEFAULT_ORDER)
DEFAULT_ORDER_BY = DEFAULT_ORDERING.clauses(ORDERING_COLUMNS)
PORTFOLIOS = Portfolio.__table__
# What the Python builder reads of a portfolio.
COLUMNS = (
    Portfolio.id,
    Portfolio.title,
    Portfolio.slug,
    Portfolio.excerpt,
    Portfolio.order,
    Portfolio.image_id,
    Portfolio.employer_id,
    Portfolio.is_active,
    Portfolio.completed_at,
    Portfolio.created_at,
    Portfolio.updated_at,
    Portfolio.description,
)
# A portfolio's links, as its `links_data` shows them.
LINK_ORDER = (PortfolioLink.order, PortfolioLink.created_at.desc(), PortfolioLink.id.desc())


def is_plain(query: PortfolioQuery) -> bool:
    """No filter, no search, the default order: the page most requests ask for."""
    return (
        not query.narrows
        and query.employer is None
        and not query.tags
        and query.completed_from is None
        and query.completed_to is None
        and query.ordering == DEFAULT_ORDERING
    )


def order_by(query: ListQuery) -> list[Any]:
    return query.ordering.clauses(ORDERING_COLUMNS)


def select_portfolios(query: PortfolioQuery) -> AnySelect:
    """The portfolios that `query` asks for, unordered: the columns of `COLUMNS`."""
    statement = apply_list_query(select(*COLUMNS), query, PORTFOLIOS)
    conditions = time_conditions(
        Portfolio.completed_at,
        query.filters.zone,
        start=query.completed_from,
        end=query.completed_to,
    )
    if query.employer is not None:
        conditions.append(Portfolio.employer_id == query.employer)
    if query.tags:
        conditions.append(
            exists().where(
                portfolio_tags.c.portfolio_id == Portfolio.id,
                portfolio_tags.c.tag_id.in_(query.tags),
            )
        )
    return statement.where(*conditions)


def _grouped(rows: Any) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.portfolio_id].append(row)
    return grouped


IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
# Built once: constructing and cache-keying statements costs more than running them.
TAGS = (
    select(portfolio_tags.c.portfolio_id, Tag.id, Tag.name, Tag.image_id)
    .join(Tag, Tag.id == portfolio_tags.c.tag_id)
    .where(portfolio_tags.c.portfolio_id.in_(IDS))
    .order_by(portfolio_tags.c.portfolio_id, portfolio_tags.c.position)
)
GALLERY = (
    select(portfolio_images.c.portfolio_id, portfolio_images.c.media_id)
    .where(portfolio_images.c.portfolio_id.in_(IDS))
    .order_by(portfolio_images.c.portfolio_id, portfolio_images.c.position)
)
LINKS = (
    select(
        PortfolioLink.portfolio_id,
        PortfolioLink.id,
        PortfolioLink.name,
        PortfolioLink.url,
        PortfolioLink.description,
        PortfolioLink.image_id,
    )
    .where(PortfolioLink.portfolio_id.in_(IDS))
    .order_by(PortfolioLink.portfolio_id, *LINK_ORDER)
)
META = (
    select(
        PortfolioMeta.portfolio_id,
        PortfolioMeta.id,
        PortfolioMeta.key,
        PortfolioMeta.value_text,
        PortfolioMeta.value_file_id,
    )
    .where(PortfolioMeta.portfolio_id.in_(IDS))
    .order_by(PortfolioMeta.portfolio_id, PortfolioMeta.id)
)
EMPLOYERS = select(Employer.id, Employer.name, Employer.description, Employer.image_id).where(
    Employer.id.in_(IDS)
)
ONE_PORTFOLIO = select(*COLUMNS).where(Portfolio.id == bindparam("id"))


async def related(session: AsyncSession, ids: list[int]) -> dict[str, dict[int, list[Any]]]:
    """The tags, gallery, links and meta of the portfolios `ids`, by portfolio id, in order."""
    params = {"ids": ids}
    return {
        name: _grouped(await read(session, statement, params))
        for name, statement in (
            ("tags", TAGS),
            ("gallery", GALLERY),
            ("links", LINKS),
            ("meta", META),
        )
    }


async def employers(session: AsyncSession, ids: Sequence[int]) -> dict[int, Any]:
    """The employers `ids` (the columns a portfolio shows of them), by id."""
    if not ids:
        return {}
    return {row.id: row for row in await read(session, EMPLOYERS, {"ids": list(ids)})}


async def portfolio_rows(session: AsyncSession, portfolio_id: int) -> list[Any]:
    """The portfolio's row (the columns of `COLUMNS`), or none."""
    return list(await read(session, ONE_PORTFOLIO, {"id": portfolio_id}))


async def get(session: AsyncSession, portfolio_id: int, *, for_update: bool = False) -> Portfolio:
    """The portfolio, or 404; locked for a write."""
    return await get_or_404(session, Portfolio, portfolio_id, for_update=for_update)


async def taken_slugs(session: AsyncSession, candidates: Sequence[str]) -> set[str]:
    """Those of `candidates` a portfolio has, or a trashed one keeps (probed through the
    slug's unique index and the reservations' primary key)."""
    live = select(Portfolio.slug).where(Portfolio.slug.in_(candidates))
    trashed = select(TrashReservation.value).where(
        TrashReservation.table == Portfolio.__tablename__,
        TrashReservation.column == "slug",
        TrashReservation.scope == "",
        TrashReservation.value.in_(candidates),
    )
    return set(await session.scalars(union_all(live, trashed)))


INSERT_UNLESS_SLUG_TAKEN = {
    backend.dialect.name: backend.insert(Portfolio.__table__)
    .on_conflict_do_nothing(index_elements=["slug"])
    .returning(Portfolio.id)
    for backend in (postgresql, sqlite)
}


async def insert_unless_slug_taken(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """The new portfolio's id, or None when its slug is taken (by a concurrent request too:
    `ON CONFLICT DO NOTHING` waits for it to commit). A taken title is an IntegrityError."""
    statement = INSERT_UNLESS_SLUG_TAKEN[session.get_bind().dialect.name]
    row = {**values, "search_text": Portfolio.search_text_of(values)}
    inserted: int | None = await session.scalar(statement.values(row))
    return inserted


async def flush_with_slug(session: AsyncSession, portfolio: Portfolio, slug: str) -> bool | None:
    """Flush an update with `slug`; None if it is taken. The savepoint keeps the transaction
    usable for another try; any other unique violation is the client's 400."""
    portfolio.slug = slug
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        if "slug" not in str(error.orig):
            raise
        return None
    return True


async def flush(session: AsyncSession) -> None:
    """Write the changes made to loaded portfolios (a unique violation raises)."""
    await session.flush()


async def replace_sets(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any], created: bool
) -> dict[str, list[int]]:
    """`tags` and `images` replace the whole set, in the order given (a new portfolio has
    none to delete); returns the ids each replaced set held, in their order."""
    replaced: dict[str, list[int]] = {}
    for name, table, column in (
        ("tags", portfolio_tags, "tag_id"),
        ("images", portfolio_images, "media_id"),
    ):
        if name not in changes:
            continue
        if not created:
            removed = await session.execute(
                table.delete()
                .where(table.c.portfolio_id == portfolio_id)
                .returning(table.c[column], table.c.position)
            )
            replaced[name] = [pk for pk, _position in sorted(removed.all(), key=lambda r: r[1])]
        if changes[name]:
            await session.execute(
                table.insert(),
                [
                    {"portfolio_id": portfolio_id, column: pk, "position": position}
                    for position, pk in enumerate(changes[name])
                ],
            )
    return replaced
