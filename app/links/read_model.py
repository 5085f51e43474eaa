"""A link as the API shows it, in its forms side by side: the Pydantic models (OpenAPI), the
Python builders and the SQL JSON builder, which tests/links/test_read_model.py holds equal.

`one_link` and `link_page` are the one place that chooses between JSON written by PostgreSQL
and JSON serialised here.
"""

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import json_body, uses_database_json
from app.common.json_sql import (
    MEDIA_PREFIX,
    PAGE_IDS,
    as_utf8,
    drf_datetime_sql,
    embedded_media_sql,
    json_page,
    ordered_json_array,
    whole_page,
    whole_page_json,
)
from app.common.listing import ListQuery
from app.common.pagination import PageRequest, fetch_page
from app.common.parents import require_portfolio
from app.common.schemas import DateTimeOut, drf_datetime
from app.common.sql import AnySelect, Prepared
from app.links import repository
from app.links.repository import LINKS
from app.media.dependencies import MediaUrls
from app.media.read_model import ImageOut
from app.media.repository import load_media
from app.media.serialize import UrlFor
from app.models import PortfolioLink


class LinkData(BaseModel):
    """An item of `links_data` inside a portfolio."""

    id: int
    name: str
    url: str | None
    description: str | None
    image_data: ImageOut | None


class LinkOut(BaseModel):
    id: int
    name: str
    url: str | None
    image_data: ImageOut | None
    description: str | None
    order: int
    created_at: DateTimeOut
    updated_at: DateTimeOut


def link_data(row: Any, media: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "description": row.description,
        "image_data": media.get(row.image_id) if row.image_id else None,
    }


def link_payload(row: Any, media: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The seeds' link object, in their order, plus `order`."""
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "image_data": media.get(row.image_id) if row.image_id else None,
        "description": row.description,
        "order": row.order,
        "created_at": drf_datetime(row.created_at),
        "updated_at": drf_datetime(row.updated_at),
    }


async def link_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    media = await load_media(session, [row.image_id for row in rows], url_for)
    return [link_payload(row, media) for row in rows]


def _links_json(ids: Any = PAGE_IDS) -> AnySelect:
    """`link_payload` for the links in `ids` (by default the parameter `:ids`), as one JSON
    array written by PostgreSQL, in the order of `ids`."""
    media, image_data = embedded_media_sql(MEDIA_PREFIX)
    item = func.json_build_object(
        "id", PortfolioLink.id,
        "name", PortfolioLink.name,
        "url", PortfolioLink.url,
        "image_data", image_data,
        "description", PortfolioLink.description,
        "order", PortfolioLink.order,
        "created_at", drf_datetime_sql(PortfolioLink.created_at),
        "updated_at", drf_datetime_sql(PortfolioLink.updated_at),
    )  # fmt: skip
    return (
        select(as_utf8(ordered_json_array(item, PortfolioLink.id, ids)))
        .select_from(PortfolioLink)
        .outerjoin(media, media.id == PortfolioLink.image_id)
        .where(PortfolioLink.id == func.any(ids))
    )


LINKS_JSON = Prepared(_links_json())
# The page without filters, search or ordering (the one most requests ask for), in one statement.
PLAIN_PAGE_JSON = whole_page_json(
    repository.PORTFOLIO_LINK_IDS, LINKS.c.id, repository.DEFAULT_ORDER_BY, _links_json
)


async def one_link(session: AsyncSession, link: PortfolioLink, url_for: MediaUrls) -> bytes:
    """The link's JSON body as the seeds show it (on PostgreSQL written by the database, in
    one statement)."""
    if uses_database_json(session, url_for.prefix):
        params = {"ids": [link.id], "media_prefix": url_for.prefix}
        one_element_array: bytes = await LINKS_JSON.scalar(session, params)
        return one_element_array[1:-1]
    return json_body((await link_payloads(session, [link], url_for))[0])


async def get_link(
    session: AsyncSession, link_id: int, portfolio_id: int | None, url_for: MediaUrls
) -> bytes:
    """The JSON body of the portfolio's link (`None`: of any portfolio), or 404."""
    return await one_link(session, await repository.get(session, link_id, portfolio_id), url_for)


async def link_page(
    session: AsyncSession,
    portfolio_id: int,
    query: ListQuery,
    page: PageRequest,
    url_for: MediaUrls,
) -> tuple[int, bytes]:
    """The total and the page's results as a JSON array (UTF-8); 404 if the portfolio does
    not exist.

    On PostgreSQL the plain page takes one prepared statement, any other two (ids, then JSON).
    An empty page asks whether the portfolio exists (links found prove it does)."""
    database_json = uses_database_json(session, url_for.prefix)
    if repository.is_plain(query) and database_json:
        params = {"portfolio_id": portfolio_id, "media_prefix": url_for.prefix}
        total, results = await whole_page(session, PLAIN_PAGE_JSON, page, params)
        if total is not None:
            return total, results
    statement = repository.select_links(portfolio_id, query)
    order_by = repository.order_by(query)
    if database_json:
        total, results = await json_page(
            session, statement, LINKS.c.id, order_by, page,
            LINKS_JSON, {"media_prefix": url_for.prefix},
        )  # fmt: skip
        if total is None:  # an empty page: is there a portfolio, and how much was skipped?
            await require_portfolio(session, portfolio_id)
            total, _rows = await fetch_page(session, statement, page)
        return total, results
    count, rows = await fetch_page(session, statement.order_by(*order_by), page)
    if not rows:
        await require_portfolio(session, portfolio_id)
    return count, json_body(await link_payloads(session, rows, url_for))
