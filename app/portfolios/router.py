"""`/api/portfolios/`: the projects shown on the site, with everything nested."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exists
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import get_or_404, page_response, raw_page_response, uses_database_json
from app.common.filters import (
    CommonFiltersDep,
    apply_common_filters,
    presence_condition,
    time_conditions,
)
from app.common.json_sql import json_page
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep, fetch_page
from app.common.query import BooleanQuery, DateTimeQuery, Int64ListQuery, Int64Query, PathId
from app.common.routing import APIRouter
from app.common.search import SearchQuery, apply_search, search_description
from app.db import SessionDep
from app.errors import NotFound
from app.media.dependencies import MediaUrls, UrlForDep
from app.models import Portfolio, portfolio_tags
from app.portfolios import repository, service
from app.portfolios.schemas import PortfolioIn, PortfolioOut, PortfolioPatch

router = APIRouter(tags=["portfolios"])

PortfolioCreate = Annotated[Principal, Depends(require(Permission.PORTFOLIO_CREATE))]
PortfolioView = Annotated[Principal, Depends(require(Permission.PORTFOLIO_VIEW))]
PortfolioUpdate = Annotated[Principal, Depends(require(Permission.PORTFOLIO_UPDATE))]
PortfolioDelete = Annotated[Principal, Depends(require(Permission.PORTFOLIO_DELETE))]

ORDERING_FIELDS = ("id", "title", "order", "completed_at", "created_at", "updated_at")
ORDERING_COLUMNS: dict[str, Any] = {name: getattr(Portfolio, name) for name in ORDERING_FIELDS}
PortfolioOrdering = Annotated[
    Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("order", "-created_at")))
]


async def _respond(
    session: AsyncSession, portfolio_id: int, url_for: MediaUrls, status: int = 200
) -> Response:
    """One portfolio: written as JSON by PostgreSQL, else serialised here."""
    if uses_database_json(session, url_for.prefix):
        assert url_for.prefix is not None
        found = await repository.portfolio_json(session, portfolio_id, url_for.prefix)
        if found is None:
            raise NotFound()
        return Response(found.encode(), status, media_type="application/json")
    rows = await repository.get_portfolio_rows(session, portfolio_id)
    if not rows:
        raise NotFound()
    payloads = await repository.portfolio_payloads(session, rows, url_for)
    return JSONResponse(payloads[0], status)


@router.get("/api/portfolios/", response_model=Page[PortfolioOut], summary="List portfolios")
async def list_portfolios(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioView,
    page: PageDep,
    ordering: PortfolioOrdering,
    filters: CommonFiltersDep,
    search: Annotated[
        SearchQuery, Query(description=search_description(["id", "title", "slug", "excerpt"]))
    ] = None,
    is_active: BooleanQuery = None,
    employer: Annotated[Int64Query, Query(description="Employer id.")] = None,
    tag: Annotated[Int64ListQuery, Query(description="Tag id; repeat for any of several.")] = [],  # noqa: B006
    completed_from: Annotated[DateTimeQuery, Query()] = None,
    completed_to: Annotated[
        DateTimeQuery, Query(description="A date alone covers that whole day.")
    ] = None,
    has_image: BooleanQuery = None,
    has_employer: BooleanQuery = None,
) -> Response:
    statement = repository.select_portfolios()
    statement = apply_common_filters(
        statement, filters, Portfolio.id, Portfolio.created_at, Portfolio.updated_at
    )
    statement = apply_search(statement, search, Portfolio.search_text, Portfolio.id)
    conditions = time_conditions(
        Portfolio.completed_at, filters.zone, start=completed_from, end=completed_to
    )
    if is_active is not None:
        conditions.append(Portfolio.is_active.is_(is_active))
    if employer is not None:
        conditions.append(Portfolio.employer_id == employer)
    if tag:
        conditions.append(
            exists().where(
                portfolio_tags.c.portfolio_id == Portfolio.id, portfolio_tags.c.tag_id.in_(tag)
            )
        )
    if has_image is not None:
        conditions.append(presence_condition(Portfolio.image_id, has_image))
    if has_employer is not None:
        conditions.append(presence_condition(Portfolio.employer_id, has_employer))
    statement = statement.where(*conditions)
    order_by = ordering.clauses(ORDERING_COLUMNS)
    if uses_database_json(session, url_for.prefix):
        total, results = await json_page(
            session, statement, Portfolio.id, order_by, page,
            repository.PORTFOLIOS_JSON, {"media_prefix": url_for.prefix},
        )  # fmt: skip
        if total is None:
            total, _rows = await fetch_page(session, statement, page)
        return raw_page_response(request, page, total, results)
    count, rows = await fetch_page(session, statement.order_by(*order_by), page)
    payloads = await repository.portfolio_payloads(session, rows, url_for)
    return page_response(request, page, count, payloads)


@router.post(
    "/api/portfolios/", status_code=201, response_model=PortfolioOut, summary="Create a portfolio"
)
async def create_portfolio(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioCreate,
    payload: PortfolioIn,
) -> Response:
    zone = request.app.state.settings.zone
    portfolio_id = await service.create(session, payload.model_dump(), zone)
    return await _respond(session, portfolio_id, url_for, 201)


@router.get("/api/portfolios/{id}", response_model=PortfolioOut, summary="Retrieve a portfolio")
async def get_portfolio(
    session: SessionDep, url_for: UrlForDep, _caller: PortfolioView, id: PathId
) -> Response:
    return await _respond(session, id, url_for)


async def _update(
    request: Request,
    session: AsyncSession,
    portfolio_id: int,
    changes: dict[str, Any],
    url_for: MediaUrls,
) -> Response:
    portfolio = await get_or_404(session, Portfolio, portfolio_id, for_update=True)
    await service.update(session, portfolio, changes, request.app.state.settings.zone)
    return await _respond(session, portfolio.id, url_for)


@router.patch(
    "/api/portfolios/{id}",
    response_model=PortfolioOut,
    summary="Update a portfolio: only the fields given change",
)
async def update_portfolio(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioUpdate,
    id: PathId,
    payload: PortfolioPatch,
) -> Response:
    return await _update(request, session, id, payload.given(), url_for)


@router.put("/api/portfolios/{id}", response_model=PortfolioOut, summary="Replace a portfolio")
async def replace_portfolio(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioUpdate,
    id: PathId,
    payload: PortfolioIn,
) -> Response:
    return await _update(request, session, id, payload.given(), url_for)


@router.delete(
    "/api/portfolios/{id}",
    status_code=204,
    summary="Delete a portfolio with its links and meta (never its media)",
)
async def delete_portfolio(session: SessionDep, _caller: PortfolioDelete, id: PathId) -> None:
    await session.delete(await get_or_404(session, Portfolio, id, for_update=True))
