"""`/api/tags/`: labels portfolios are filed under."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import apply_changes, get_or_404, page_response
from app.common.filters import CommonFiltersDep, apply_common_filters, presence_condition
from app.common.named import payloads_with_images, validate_named
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep, fetch_page
from app.common.query import BooleanQuery, PathId
from app.common.routing import APIRouter
from app.common.search import SearchQuery, apply_search, search_description
from app.db import SessionDep
from app.media.dependencies import UrlForDep
from app.media.serialize import UrlFor
from app.models import Tag
from app.tags.schemas import TagIn, TagOut, TagPatch, tag_payload

router = APIRouter(tags=["tags"])

TagCreate = Annotated[Principal, Depends(require(Permission.TAG_CREATE))]
TagView = Annotated[Principal, Depends(require(Permission.TAG_VIEW))]
TagUpdate = Annotated[Principal, Depends(require(Permission.TAG_UPDATE))]
TagDelete = Annotated[Principal, Depends(require(Permission.TAG_DELETE))]

ORDERING_FIELDS = ("id", "name", "created_at", "updated_at")
ORDERING_COLUMNS: dict[str, Any] = {name: getattr(Tag, name) for name in ORDERING_FIELDS}
TagOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("-created_at",)))]
COLUMNS = (Tag.id, Tag.name, Tag.image_id, Tag.created_at, Tag.updated_at)
RENAMED = {"image": "image_id"}


async def tag_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    return await payloads_with_images(session, rows, url_for, tag_payload)


async def _validate(
    session: AsyncSession, changes: dict[str, Any], tag_id: int | None = None
) -> None:
    await validate_named(session, Tag.name, changes, tag_id)


async def _respond(
    session: AsyncSession, tag: Tag, url_for: UrlFor, status: int = 200
) -> JSONResponse:
    return JSONResponse((await tag_payloads(session, [tag], url_for))[0], status)


@router.get("/api/tags/", response_model=Page[TagOut], summary="List tags")
async def list_tags(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: TagView,
    page: PageDep,
    ordering: TagOrdering,
    filters: CommonFiltersDep,
    search: Annotated[SearchQuery, Query(description=search_description(["id", "name"]))] = None,
    has_image: Annotated[BooleanQuery, Query(description="With or without an image.")] = None,
) -> JSONResponse:
    statement = select(*COLUMNS)
    statement = apply_common_filters(statement, filters, Tag.id, Tag.created_at, Tag.updated_at)
    statement = apply_search(statement, search, Tag.search_text, Tag.id)
    if has_image is not None:
        statement = statement.where(presence_condition(Tag.image_id, has_image))
    count, rows = await fetch_page(
        session, statement.order_by(*ordering.clauses(ORDERING_COLUMNS)), page
    )
    return page_response(request, page, count, await tag_payloads(session, rows, url_for))


@router.post("/api/tags/", status_code=201, response_model=TagOut, summary="Create a tag")
async def create_tag(
    session: SessionDep, url_for: UrlForDep, _caller: TagCreate, payload: TagIn
) -> JSONResponse:
    changes = payload.model_dump()
    await _validate(session, changes)
    tag = Tag()
    apply_changes(tag, changes, RENAMED)
    session.add(tag)
    await session.flush()
    return await _respond(session, tag, url_for, 201)


@router.get("/api/tags/{id}", response_model=TagOut, summary="Retrieve a tag")
async def get_tag(
    session: SessionDep, url_for: UrlForDep, _caller: TagView, id: PathId
) -> JSONResponse:
    return await _respond(session, await get_or_404(session, Tag, id), url_for)


async def _update(
    session: AsyncSession, tag_id: int, changes: dict[str, Any], url_for: UrlFor
) -> JSONResponse:
    tag = await get_or_404(session, Tag, tag_id, for_update=True)
    await _validate(session, changes, tag.id)
    apply_changes(tag, changes, RENAMED)
    await session.flush()
    return await _respond(session, tag, url_for)


@router.patch("/api/tags/{id}", response_model=TagOut, summary="Update a tag")
async def update_tag(
    session: SessionDep, url_for: UrlForDep, _caller: TagUpdate, id: PathId, payload: TagPatch
) -> JSONResponse:
    return await _update(session, id, payload.given(), url_for)


@router.put("/api/tags/{id}", response_model=TagOut, summary="Replace a tag")
async def replace_tag(
    session: SessionDep, url_for: UrlForDep, _caller: TagUpdate, id: PathId, payload: TagIn
) -> JSONResponse:
    return await _update(session, id, payload.given(), url_for)


@router.delete("/api/tags/{id}", status_code=204, summary="Delete a tag; portfolios drop it")
async def delete_tag(session: SessionDep, _caller: TagDelete, id: PathId) -> None:
    await session.delete(await get_or_404(session, Tag, id, for_update=True))
