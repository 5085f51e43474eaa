"""`/api/portfolios/{portfolio_id}/links/`: a portfolio's links, exactly as the link seeds show."""

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
from app.common.listing import ListQuery
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep
from app.common.query import BooleanQuery, PathId
from app.common.routing import APIRouter
from app.common.search import SearchQuery, search_description
from app.db import SessionDep
from app.events import outbox as events
from app.links import read_model, service
from app.links.read_model import LinkOut
from app.links.repository import DEFAULT_ORDER, ORDERING_FIELDS
from app.links.schemas import LinkIn, LinkPatch
from app.media.dependencies import MediaUrls, UrlForDep

router = APIRouter(tags=["portfolio links"])

LinkCreate = Annotated[Principal, Depends(require(Permission.LINK_CREATE))]
LinkView = Annotated[Principal, Depends(require(Permission.LINK_VIEW))]
LinkUpdate = Annotated[Principal, Depends(require(Permission.LINK_UPDATE))]
LinkDelete = Annotated[Principal, Depends(require(Permission.LINK_DELETE))]
LinkOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, DEFAULT_ORDER))]


@router.get(
    "/api/portfolios/{portfolio_id}/links/",
    response_model=Page[LinkOut],
    summary="List a portfolio's links, with filtering, searching and ordering",
)
async def list_portfolio_links(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkView,
    portfolio_id: PathId,
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
    present = {"image_id": has_image, "description": has_description, "url": has_url}
    query = ListQuery(filters, ordering, search, present)
    total, results = await read_model.link_page(session, portfolio_id, query, page, url_for)
    return raw_page_response(request, page, total, results)


@router.post(
    "/api/portfolios/{portfolio_id}/links/",
    status_code=201,
    response_model=LinkOut,
    responses=tag_documented(201),
    summary="Create a link of a portfolio",
)
async def create_portfolio_link(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkCreate,
    portfolio_id: PathId,
    payload: LinkIn,
) -> Response:
    fields = payload.model_dump()
    link = await service.create(session, portfolio_id, fields)
    body = await read_model.one_link(session, link, url_for)
    await events.created(session, "link", link.id, body, fields, portfolio_id=portfolio_id)
    return tagged(json_response(body, 201))


@router.get(
    "/api/portfolios/{portfolio_id}/links/{id}",
    response_model=LinkOut,
    responses=tag_documented(),
    summary="Retrieve a link of a portfolio",
)
async def get_portfolio_link(
    session: SessionDep, url_for: UrlForDep, _caller: LinkView, portfolio_id: PathId, id: PathId
) -> Response:
    return tagged(json_response(await read_model.get_link(session, id, portfolio_id, url_for)))


@router.get("/api/portfolios/links/{id}", response_model=LinkOut, include_in_schema=False)
async def get_link_by_id(
    session: SessionDep, url_for: UrlForDep, _caller: LinkView, id: PathId
) -> Response:
    """The form the retrieve-link seed's example uses; an alias of the route above."""
    return tagged(json_response(await read_model.get_link(session, id, None, url_for)))


@router.patch(
    "/api/portfolios/{portfolio_id}/links/{id}",
    response_model=LinkOut,
    responses=if_match_documented(),
    summary="Update a link: only the fields given change",
)
async def update_portfolio_link(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: LinkPatch,
    if_match: IfMatchHeader = None,
) -> Response:
    return await _update(session, url_for, portfolio_id, id, payload.given(), if_match)


@router.put(
    "/api/portfolios/{portfolio_id}/links/{id}",
    response_model=LinkOut,
    responses=if_match_documented(),
    summary="Replace a link",
)
async def replace_portfolio_link(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: LinkIn,
    if_match: IfMatchHeader = None,
) -> Response:
    return await _update(session, url_for, portfolio_id, id, payload.given(), if_match)


async def _update(
    session: AsyncSession,
    url_for: MediaUrls,
    portfolio_id: int,
    id: int,
    changes: dict[str, Any],
    if_match: str | None,
) -> Response:
    if if_match is not None:
        locked = await service.locked(session, portfolio_id, id)
        await require_unchanged(if_match, lambda: read_model.one_link(session, locked, url_for))
    link, changed = await service.update(session, portfolio_id, id, changes)
    body = await read_model.one_link(session, link, url_for)
    await events.updated(session, "link", id, body, changed, portfolio_id=portfolio_id)
    return tagged(json_response(body))


@router.delete(
    "/api/portfolios/{portfolio_id}/links/{id}",
    status_code=204,
    responses=if_match_documented(204),
    summary="Delete a link (into the trash)",
)
async def delete_portfolio_link(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: LinkDelete,
    portfolio_id: PathId,
    id: PathId,
    if_match: IfMatchHeader = None,
) -> None:
    link = await service.locked(session, portfolio_id, id)
    body = await read_model.one_link(session, link, url_for)
    await require_unchanged(if_match, lambda: as_is(body))
    await service.delete(session, link)
    await events.deleted(session, "link", id, body, portfolio_id=portfolio_id)
