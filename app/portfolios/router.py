"""`/api/portfolios/`: the projects shown on the site, with everything nested."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import json_response, raw_page_response
from app.common.etags import (
    IfMatchHeader,
    as_is,
    if_match_documented,
    require_unchanged,
    tag_documented,
    tagged,
)
from app.common.filters import CommonFiltersDep
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep
from app.common.query import BooleanQuery, DateTimeQuery, Int64ListQuery, Int64Query, PathId
from app.common.routing import APIRouter
from app.common.search import SearchQuery, search_description
from app.db import SessionDep
from app.events import outbox as events
from app.media.dependencies import MediaUrls, UrlForDep
from app.portfolios import read_model, service
from app.portfolios.read_model import PortfolioOut
from app.portfolios.repository import DEFAULT_ORDER, ORDERING_FIELDS
from app.portfolios.schemas import PortfolioIn, PortfolioPatch, PortfolioQuery

router = APIRouter(tags=["portfolios"])

PortfolioCreate = Annotated[Principal, Depends(require(Permission.PORTFOLIO_CREATE))]
PortfolioView = Annotated[Principal, Depends(require(Permission.PORTFOLIO_VIEW))]
PortfolioUpdate = Annotated[Principal, Depends(require(Permission.PORTFOLIO_UPDATE))]
PortfolioDelete = Annotated[Principal, Depends(require(Permission.PORTFOLIO_DELETE))]
PortfolioOrdering = Annotated[
    Ordering, Depends(ordering_dependency(ORDERING_FIELDS, DEFAULT_ORDER))
]


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
    query = PortfolioQuery(
        filters,
        ordering,
        search,
        present={"image_id": has_image, "employer_id": has_employer},
        flags={"is_active": is_active},
        employer=employer,
        tags=tag,
        completed_from=completed_from,
        completed_to=completed_to,
    )
    total, results = await read_model.portfolio_page(session, query, page, url_for)
    return raw_page_response(request, page, total, results)


@router.post(
    "/api/portfolios/",
    status_code=201,
    response_model=PortfolioOut,
    responses=tag_documented(201),
    summary="Create a portfolio",
)
async def create_portfolio(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioCreate,
    payload: PortfolioIn,
) -> Response:
    zone = request.app.state.settings.zone
    fields = payload.model_dump()
    portfolio_id = await service.create(session, fields, zone)
    body = await read_model.one_portfolio(session, portfolio_id, url_for)
    await events.created(session, "portfolio", portfolio_id, body, fields)
    return tagged(json_response(body, 201))


@router.get(
    "/api/portfolios/{id}",
    response_model=PortfolioOut,
    responses=tag_documented(),
    summary="Retrieve a portfolio",
)
async def get_portfolio(
    session: SessionDep, url_for: UrlForDep, _caller: PortfolioView, id: PathId
) -> Response:
    return tagged(json_response(await read_model.one_portfolio(session, id, url_for)))


@router.patch(
    "/api/portfolios/{id}",
    response_model=PortfolioOut,
    responses=if_match_documented(),
    summary="Update a portfolio: only the fields given change",
)
async def update_portfolio(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioUpdate,
    id: PathId,
    payload: PortfolioPatch,
    if_match: IfMatchHeader = None,
) -> Response:
    return await _update(request, session, url_for, id, payload.given(), if_match)


@router.put(
    "/api/portfolios/{id}",
    response_model=PortfolioOut,
    responses=if_match_documented(),
    summary="Replace a portfolio",
)
async def replace_portfolio(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioUpdate,
    id: PathId,
    payload: PortfolioIn,
    if_match: IfMatchHeader = None,
) -> Response:
    return await _update(request, session, url_for, id, payload.given(), if_match)


async def _update(
    request: Request,
    session: AsyncSession,
    url_for: MediaUrls,
    id: int,
    changes: dict[str, Any],
    if_match: str | None,
) -> Response:
    if if_match is not None:
        await service.locked(session, id)
        await require_unchanged(if_match, lambda: read_model.one_portfolio(session, id, url_for))
    changed = await service.update(session, id, changes, request.app.state.settings.zone)
    body = await read_model.one_portfolio(session, id, url_for)
    await events.updated(session, "portfolio", id, body, changed)
    return tagged(json_response(body))


@router.delete(
    "/api/portfolios/{id}",
    status_code=204,
    responses=if_match_documented(204),
    summary="Delete a portfolio with its links and meta (into the trash; never its media)",
)
async def delete_portfolio(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: PortfolioDelete,
    id: PathId,
    if_match: IfMatchHeader = None,
) -> None:
    portfolio = await service.locked(session, id)
    body = await read_model.one_portfolio(session, id, url_for)
    await require_unchanged(if_match, lambda: as_is(body))
    await service.delete(session, portfolio)
    await events.deleted(session, "portfolio", id, body)
