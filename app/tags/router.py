"""`/api/tags/`: labels portfolios are filed under."""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import page_response
from app.common.etags import IfMatchHeader, if_match_documented, tag_documented, tagged
from app.common.filters import CommonFiltersDep
from app.common.listing import ListQuery
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep
from app.common.query import BooleanQuery, PathId
from app.common.routing import APIRouter
from app.common.search import SearchQuery, search_description
from app.db import SessionDep
from app.media.dependencies import UrlForDep
from app.named.repository import ORDERING_FIELDS
from app.tags.read_model import TagOut
from app.tags.schemas import TagIn, TagPatch
from app.tags.service import tags

router = APIRouter(tags=["tags"])

TagCreate = Annotated[Principal, Depends(require(Permission.TAG_CREATE))]
TagView = Annotated[Principal, Depends(require(Permission.TAG_VIEW))]
TagUpdate = Annotated[Principal, Depends(require(Permission.TAG_UPDATE))]
TagDelete = Annotated[Principal, Depends(require(Permission.TAG_DELETE))]
TagOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("-created_at",)))]


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
    query = ListQuery(filters, ordering, search, {"image_id": has_image})
    count, results = await tags.list_page(session, query, page, url_for)
    return page_response(request, page, count, results)


@router.post(
    "/api/tags/",
    status_code=201,
    response_model=TagOut,
    responses=tag_documented(201),
    summary="Create a tag",
)
async def create_tag(
    session: SessionDep, url_for: UrlForDep, _caller: TagCreate, payload: TagIn
) -> JSONResponse:
    return tagged(JSONResponse(await tags.create(session, payload.model_dump(), url_for), 201))


@router.get(
    "/api/tags/{id}", response_model=TagOut, responses=tag_documented(), summary="Retrieve a tag"
)
async def get_tag(
    session: SessionDep, url_for: UrlForDep, _caller: TagView, id: PathId
) -> JSONResponse:
    return tagged(JSONResponse(await tags.get(session, id, url_for)))


@router.patch(
    "/api/tags/{id}", response_model=TagOut, responses=if_match_documented(), summary="Update a tag"
)
async def update_tag(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: TagUpdate,
    id: PathId,
    payload: TagPatch,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    return tagged(JSONResponse(await tags.update(session, id, payload.given(), url_for, if_match)))


@router.put(
    "/api/tags/{id}",
    response_model=TagOut,
    responses=if_match_documented(),
    summary="Replace a tag",
)
async def replace_tag(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: TagUpdate,
    id: PathId,
    payload: TagIn,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    return tagged(JSONResponse(await tags.update(session, id, payload.given(), url_for, if_match)))


@router.delete(
    "/api/tags/{id}",
    status_code=204,
    responses=if_match_documented(204),
    summary="Delete a tag; portfolios drop it",
)
async def delete_tag(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: TagDelete,
    id: PathId,
    if_match: IfMatchHeader = None,
) -> None:
    await tags.delete(session, id, url_for, if_match)
