"""`/api/portfolios/{id}/links/`: the links of a portfolio, exactly as the link seeds show."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import (
    apply_changes,
    page_response,
    raw_page_response,
    uses_database_json,
)
from app.common.filters import CommonFiltersDep, apply_common_filters, presence_condition
from app.common.json_sql import (
    MEDIA_PREFIX,
    PAGE_IDS,
    as_text,
    drf_datetime_sql,
    embedded_media_sql,
    json_page,
    ordered_json_array,
    whole_page,
    whole_page_json,
)
from app.common.ordering import Ordering, ordering_dependency, parse_ordering
from app.common.pagination import Page, PageDep, fetch_page
from app.common.parents import child_or_404, require_portfolio
from app.common.query import BooleanQuery, PathId
from app.common.references import FieldErrors, check_images
from app.common.routing import APIRouter
from app.common.search import SearchQuery, apply_search, search_description
from app.common.sql import AnySelect, Prepared
from app.db import SessionDep
from app.links.schemas import LinkIn, LinkOut, LinkPatch, link_payload
from app.media.dependencies import MediaUrls, UrlForDep
from app.media.repository import load_media
from app.media.serialize import UrlFor
from app.models import PortfolioLink

router = APIRouter(tags=["portfolio links"])

LinkCreate = Annotated[Principal, Depends(require(Permission.LINK_CREATE))]
LinkView = Annotated[Principal, Depends(require(Permission.LINK_VIEW))]
LinkUpdate = Annotated[Principal, Depends(require(Permission.LINK_UPDATE))]
LinkDelete = Annotated[Principal, Depends(require(Permission.LINK_DELETE))]

ORDERING_FIELDS = ("id", "name", "order", "created_at", "updated_at")
# List queries are built per request from table columns: cheaper to build than ORM attributes.
LINKS = PortfolioLink.__table__
ORDERING_COLUMNS: dict[str, Any] = {name: LINKS.c[name] for name in ORDERING_FIELDS}
DEFAULT_ORDER = ("order", "-created_at")
LinkOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, DEFAULT_ORDER))]
COLUMNS = tuple(
    LINKS.c[name]
    for name in (
        "id", "portfolio_id", "name", "url", "image_id", "description", "order",
        "created_at", "updated_at",
    )
)  # fmt: skip
RENAMED = {"image": "image_id"}


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
        select(as_text(ordered_json_array(item, PortfolioLink.id, ids)))
        .select_from(PortfolioLink)
        .outerjoin(media, media.id == PortfolioLink.image_id)
        .where(PortfolioLink.id == func.any(ids))
    )


LINKS_JSON = Prepared(_links_json())
DEFAULT_ORDERING = parse_ordering(None, ORDERING_FIELDS, DEFAULT_ORDER)
# The page without filters, search or ordering (the one most requests ask for), in one statement.
PLAIN_PAGE_JSON = whole_page_json(
    select(LINKS.c.id).where(LINKS.c.portfolio_id == bindparam("portfolio_id")),
    LINKS.c.id,
    DEFAULT_ORDERING.clauses(ORDERING_COLUMNS),
    _links_json,
)


async def link_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    media = await load_media(session, [row.image_id for row in rows], url_for)
    return [link_payload(row, media) for row in rows]


async def _respond(
    session: AsyncSession, link: Any, url_for: MediaUrls, status: int = 200
) -> Response:
    """The link as the seeds show it (on PostgreSQL written by the database, in one statement)."""
    if uses_database_json(session, url_for.prefix):
        params = {"ids": [link.id], "media_prefix": url_for.prefix}
        one_element_array: str = await LINKS_JSON.scalar(session, params)
        return Response(one_element_array[1:-1], status, media_type="application/json")
    return JSONResponse((await link_payloads(session, [link], url_for))[0], status)


async def _validate_image(session: AsyncSession, changes: dict[str, Any]) -> None:
    errors = FieldErrors()
    await check_images(session, errors, "image", [changes.get("image")])
    errors.raise_if_any()


@router.get(
    "/api/portfolios/{id}/links/",
    response_model=Page[LinkOut],
    summary="List a portfolio's links, with filtering, searching and ordering",
)
async def list_portfolio_links(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkView,
    id: PathId,
    page: PageDep,
    ordering: LinkOrdering,
    filters: CommonFiltersDep,
    search: Annotated[
        SearchQuery, Query(description=search_description(["id", "name", "url"]))
    ] = None,
    has_image: Annotated[BooleanQuery, Query(description="With or without an image.")] = None,
    has_description: Annotated[BooleanQuery, Query(description="Empty counts as none.")] = None,
    has_url: Annotated[BooleanQuery, Query(description="Empty counts as none.")] = None,
) -> Response:
    plain = not filters.any and search is None and ordering == DEFAULT_ORDERING
    plain = plain and has_image is None and has_description is None and has_url is None
    if plain and uses_database_json(session, url_for.prefix):
        params = {"portfolio_id": id, "media_prefix": url_for.prefix}
        total, results = await whole_page(session, PLAIN_PAGE_JSON, page, params)
        if total is not None:
            return raw_page_response(request, page, total, results)
    statement = select(*COLUMNS).where(LINKS.c.portfolio_id == id)
    statement = apply_common_filters(
        statement, filters, LINKS.c.id, LINKS.c.created_at, LINKS.c.updated_at
    )
    statement = apply_search(statement, search, LINKS.c.search_text, LINKS.c.id)
    if has_image is not None:
        statement = statement.where(presence_condition(LINKS.c.image_id, has_image))
    for column, wanted in (
        (LINKS.c.description, has_description),
        (LINKS.c.url, has_url),
    ):
        if wanted is not None:
            statement = statement.where(presence_condition(column, wanted, blank_is_absent=True))
    order_by = ordering.clauses(ORDERING_COLUMNS)
    if uses_database_json(session, url_for.prefix):
        total, results = await json_page(
            session, statement, LINKS.c.id, order_by, page,
            LINKS_JSON, {"media_prefix": url_for.prefix},
        )  # fmt: skip
        if total is None:  # an empty page: is there a portfolio, and how much was skipped?
            await require_portfolio(session, id)
            total, _rows = await fetch_page(session, statement, page)
        return raw_page_response(request, page, total, results)
    count, rows = await fetch_page(session, statement.order_by(*order_by), page)
    if not rows:  # links found prove the portfolio exists; no links might mean it does not
        await require_portfolio(session, id)
    return page_response(request, page, count, await link_payloads(session, rows, url_for))


@router.post(
    "/api/portfolios/{id}/links/",
    status_code=201,
    response_model=LinkOut,
    summary="Create a link of a portfolio",
)
async def create_portfolio_link(
    session: SessionDep, url_for: UrlForDep, _caller: LinkCreate, id: PathId, payload: LinkIn
) -> Response:
    await require_portfolio(session, id)
    changes = payload.model_dump()
    await _validate_image(session, changes)
    link = PortfolioLink(portfolio_id=id)
    apply_changes(link, changes, RENAMED)
    session.add(link)
    await session.flush()
    return await _respond(session, link, url_for, 201)


@router.get(
    "/api/portfolios/{portfolio_id}/links/{id}",
    response_model=LinkOut,
    summary="Retrieve a link of a portfolio",
)
async def get_portfolio_link(
    session: SessionDep, url_for: UrlForDep, _caller: LinkView, portfolio_id: PathId, id: PathId
) -> Response:
    return await _respond(
        session, await child_or_404(session, PortfolioLink, id, portfolio_id), url_for
    )


@router.get("/api/portfolios/links/{id}", response_model=LinkOut, include_in_schema=False)
async def get_link_by_id(
    session: SessionDep, url_for: UrlForDep, _caller: LinkView, id: PathId
) -> Response:
    """The form the retrieve-link seed's example uses; an alias of the route above."""
    return await _respond(session, await child_or_404(session, PortfolioLink, id, None), url_for)


async def _update(
    session: AsyncSession,
    portfolio_id: int,
    link_id: int,
    changes: dict[str, Any],
    url_for: MediaUrls,
) -> Response:
    link = await child_or_404(session, PortfolioLink, link_id, portfolio_id, for_update=True)
    await _validate_image(session, changes)
    apply_changes(link, changes, RENAMED)
    await session.flush()
    return await _respond(session, link, url_for)


@router.patch(
    "/api/portfolios/{portfolio_id}/links/{id}",
    response_model=LinkOut,
    summary="Update a link: only the fields given change",
)
async def update_portfolio_link(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: LinkPatch,
) -> Response:
    return await _update(session, portfolio_id, id, payload.given(), url_for)


@router.put(
    "/api/portfolios/{portfolio_id}/links/{id}",
    response_model=LinkOut,
    summary="Replace a link",
)
async def replace_portfolio_link(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: LinkIn,
) -> Response:
    return await _update(session, portfolio_id, id, payload.given(), url_for)


@router.delete(
    "/api/portfolios/{portfolio_id}/links/{id}", status_code=204, summary="Delete a link"
)
async def delete_portfolio_link(
    session: SessionDep, _caller: LinkDelete, portfolio_id: PathId, id: PathId
) -> None:
    await session.delete(
        await child_or_404(session, PortfolioLink, id, portfolio_id, for_update=True)
    )
