"""`/api/portfolios/{portfolio_id}/meta/`: key/value data attached to a portfolio."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import apply_changes, page_response, with_timestamps
from app.common.filters import CommonFiltersDep, apply_common_filters, presence_condition
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep, fetch_page
from app.common.parents import child_or_404, require_portfolio
from app.common.query import BooleanQuery, PathId
from app.common.references import FieldErrors, check_files, check_unique
from app.common.routing import APIRouter
from app.common.schemas import DateTimeOut
from app.common.search import SearchQuery, apply_search, search_description
from app.db import SessionDep
from app.media.dependencies import UrlForDep
from app.media.repository import load_files
from app.media.serialize import UrlFor
from app.meta.schemas import MetaIn, MetaOut, MetaPatch, meta_payload
from app.models import PortfolioMeta

router = APIRouter(tags=["portfolio meta"])

MetaCreate = Annotated[Principal, Depends(require(Permission.META_CREATE))]
MetaView = Annotated[Principal, Depends(require(Permission.META_VIEW))]
MetaUpdate = Annotated[Principal, Depends(require(Permission.META_UPDATE))]
MetaDelete = Annotated[Principal, Depends(require(Permission.META_DELETE))]

ORDERING_FIELDS = ("id", "key", "created_at", "updated_at")
ORDERING_COLUMNS: dict[str, Any] = {name: getattr(PortfolioMeta, name) for name in ORDERING_FIELDS}
MetaOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("-created_at",)))]
COLUMNS = (
    PortfolioMeta.id,
    PortfolioMeta.key,
    PortfolioMeta.value_text,
    PortfolioMeta.value_file_id,
    PortfolioMeta.created_at,
    PortfolioMeta.updated_at,
)
RENAMED = {"value_file": "value_file_id"}


class MetaItemOut(MetaOut):
    created_at: DateTimeOut
    updated_at: DateTimeOut


async def meta_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    files = await load_files(session, [row.value_file_id for row in rows], url_for)
    return [with_timestamps(meta_payload(row, files), row) for row in rows]


async def _respond(
    session: AsyncSession, item: Any, url_for: UrlFor, status: int = 200
) -> JSONResponse:
    return JSONResponse((await meta_payloads(session, [item], url_for))[0], status)


async def _validate(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any], meta_id: int | None = None
) -> None:
    errors = FieldErrors()
    if "key" in changes:
        await check_unique(
            session,
            errors,
            PortfolioMeta.key,
            changes["key"],
            except_id=meta_id,
            scope=PortfolioMeta.portfolio_id == portfolio_id,
        )
    await check_files(session, errors, "value_file", [changes.get("value_file")])
    errors.raise_if_any()


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
    statement = select(*COLUMNS).where(PortfolioMeta.portfolio_id == portfolio_id)
    statement = apply_common_filters(
        statement, filters, PortfolioMeta.id, PortfolioMeta.created_at, PortfolioMeta.updated_at
    )
    statement = apply_search(statement, search, PortfolioMeta.search_text, PortfolioMeta.id)
    if has_value_file is not None:
        statement = statement.where(presence_condition(PortfolioMeta.value_file_id, has_value_file))
    count, rows = await fetch_page(
        session, statement.order_by(*ordering.clauses(ORDERING_COLUMNS)), page
    )
    if not rows:  # items found prove the portfolio exists; none might mean it does not
        await require_portfolio(session, portfolio_id)
    return page_response(request, page, count, await meta_payloads(session, rows, url_for))


@router.post(
    "/api/portfolios/{portfolio_id}/meta/",
    status_code=201,
    response_model=MetaItemOut,
    summary="Add a meta item to a portfolio",
)
async def create_portfolio_meta(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaCreate,
    portfolio_id: PathId,
    payload: MetaIn,
) -> JSONResponse:
    await require_portfolio(session, portfolio_id)
    changes = payload.model_dump()
    await _validate(session, portfolio_id, changes)
    item = PortfolioMeta(portfolio_id=portfolio_id)
    apply_changes(item, changes, RENAMED)
    session.add(item)
    await session.flush()
    return await _respond(session, item, url_for, 201)


@router.get(
    "/api/portfolios/{portfolio_id}/meta/{id}",
    response_model=MetaItemOut,
    summary="Retrieve a meta item",
)
async def get_portfolio_meta(
    session: SessionDep, url_for: UrlForDep, _caller: MetaView, portfolio_id: PathId, id: PathId
) -> JSONResponse:
    return await _respond(
        session, await child_or_404(session, PortfolioMeta, id, portfolio_id), url_for
    )


async def _update(
    session: AsyncSession, portfolio_id: int, meta_id: int, changes: dict[str, Any], url_for: UrlFor
) -> JSONResponse:
    item = await child_or_404(session, PortfolioMeta, meta_id, portfolio_id, for_update=True)
    await _validate(session, portfolio_id, changes, item.id)
    apply_changes(item, changes, RENAMED)
    await session.flush()
    return await _respond(session, item, url_for)


@router.patch(
    "/api/portfolios/{portfolio_id}/meta/{id}",
    response_model=MetaItemOut,
    summary="Update a meta item",
)
async def update_portfolio_meta(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: MetaPatch,
) -> JSONResponse:
    return await _update(session, portfolio_id, id, payload.given(), url_for)


@router.put(
    "/api/portfolios/{portfolio_id}/meta/{id}",
    response_model=MetaItemOut,
    summary="Replace a meta item",
)
async def replace_portfolio_meta(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MetaUpdate,
    portfolio_id: PathId,
    id: PathId,
    payload: MetaIn,
) -> JSONResponse:
    return await _update(session, portfolio_id, id, payload.given(), url_for)


@router.delete(
    "/api/portfolios/{portfolio_id}/meta/{id}", status_code=204, summary="Delete a meta item"
)
async def delete_portfolio_meta(
    session: SessionDep, _caller: MetaDelete, portfolio_id: PathId, id: PathId
) -> None:
    await session.delete(
        await child_or_404(session, PortfolioMeta, id, portfolio_id, for_update=True)
    )
