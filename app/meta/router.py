"""`/api/portfolios/{portfolio_id}/meta/`: key/value data attached to a portfolio."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import page_response
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
from app.media.dependencies import UrlForDep
from app.media.serialize import UrlFor
from app.meta import read_model, service
from app.meta.read_model import MetaItemOut
from app.meta.schemas import ORDERING_FIELDS, MetaIn, MetaPatch

router = APIRouter(tags=["portfolio meta"])

MetaCreate = Annotated[Principal, Depends(require(Permission.META_CREATE))]
MetaView = Annotated[Principal, Depends(require(Permission.META_VIEW))]
MetaUpdate = Annotated[Principal, Depends(require(Permission.META_UPDATE))]
MetaDelete = Annotated[Principal, Depends(require(Permission.META_DELETE))]
MetaOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("-created_at",)))]


async def _update(
    session: AsyncSession,
    url_for: UrlFor,
    portfolio_id: int,
    id: int,
    changes: dict[str, Any],
    if_match: str | None,
) -> Response:
    if if_match is not None:
        locked = await service.locked(session, portfolio_id, id)
        await require_unchanged(
            if_match, lambda: read_model.one_meta_item(session, locked, url_for)
        )
    item, changed = await service.update(session, portfolio_id, id, changes)
    body = await read_model.one_meta_item(session, item, url_for)
    await events.updated(session, "meta", id, body, changed, portfolio_id=portfolio_id)
    return tagged(JSONResponse(body))


@router.get(
    "/api/portfolios/{portfolio_id}/meta/",
    response_model=Page[MetaItemOut],
    summary="List a portfolio's meta items",
)
async def list_portfolio_meta(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaView,
    portfolio_id: PathId,
    page: PageDep,
    ordering: MetaOrdering,
    filters: CommonFiltersDep,
    search: Annotated[
        SearchQuery, Query(description=search_description(["id", "key", "value_text"]))
    ] = None,
    has_value_file: BooleanQuery = None,
) -> JSONResponse:
    query = ListQuery(filters, ordering, search, {"value_file_id": has_value_file})
    count, rows = await service.list_page(session, page, portfolio_id, query)
    return page_response(
        request, page, count, await read_model.meta_payloads(session, rows, url_for)
    )


@router.post(
    "/api/portfolios/{portfolio_id}/meta/",
    status_code=201,
    response_model=MetaItemOut,
    responses=tag_documented(201),
    summary="Add a meta item to a portfolio",
)
async def create_portfolio_meta(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaCreate,
    portfolio_id: PathId,
    payload: MetaIn,
) -> JSONResponse:
    fields = payload.model_dump()
    item = await service.create(session, portfolio_id, fields)
    body = await read_model.one_meta_item(session, item, url_for)
    await events.created(session, "meta", item.id, body, fields, portfolio_id=portfolio_id)
    return tagged(JSONResponse(body, 201))


@router.get(
    "/api/portfolios/{portfolio_id}/meta/{id}",
    response_model=MetaItemOut,
    responses=tag_documented(),
    summary="Retrieve a meta item",
)
async def get_portfolio_meta(
    session: SessionDep, url_for: UrlForDep, _caller: MetaView, portfolio_id: PathId, id: PathId
) -> Response:
    item = await service.get(session, portfolio_id, id)
    return tagged(JSONResponse(await read_model.one_meta_item(session, item, url_for)))


@router.patch(
    "/api/portfolios/{portfolio_id}/meta/{id}",
    response_model=MetaItemOut,
    responses=if_match_documented(),
    summary="Update a meta item",
)
async def update_portfolio_meta(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: MetaPatch,
    if_match: IfMatchHeader = None,
) -> Response:
    return await _update(session, url_for, portfolio_id, id, payload.given(), if_match)


@router.put(
    "/api/portfolios/{portfolio_id}/meta/{id}",
    response_model=MetaItemOut,
    responses=if_match_documented(),
    summary="Replace a meta item",
)
async def replace_portfolio_meta(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: MetaIn,
    if_match: IfMatchHeader = None,
) -> Response:
    return await _update(session, url_for, portfolio_id, id, payload.given(), if_match)


@router.delete(
    "/api/portfolios/{portfolio_id}/meta/{id}",
    status_code=204,
    responses=if_match_documented(204),
    summary="Delete a meta item (into the trash)",
)
async def delete_portfolio_meta(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaDelete,
    portfolio_id: PathId,
    id: PathId,
    if_match: IfMatchHeader = None,
) -> None:
    item = await service.locked(session, portfolio_id, id)
    body = await read_model.one_meta_item(session, item, url_for)
    await require_unchanged(if_match, lambda: as_is(body))
    await service.delete(session, item)
    await events.deleted(session, "meta", id, body, portfolio_id=portfolio_id)
