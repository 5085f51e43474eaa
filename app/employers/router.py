"""`/api/employers/`: the clients portfolios were made for."""

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
from app.employers.read_model import EmployerOut
from app.employers.schemas import EmployerIn, EmployerPatch
from app.employers.service import employers
from app.media.dependencies import UrlForDep
from app.named.repository import ORDERING_FIELDS

router = APIRouter(tags=["employers"])

EmployerCreate = Annotated[Principal, Depends(require(Permission.EMPLOYER_CREATE))]
EmployerView = Annotated[Principal, Depends(require(Permission.EMPLOYER_VIEW))]
EmployerUpdate = Annotated[Principal, Depends(require(Permission.EMPLOYER_UPDATE))]
EmployerDelete = Annotated[Principal, Depends(require(Permission.EMPLOYER_DELETE))]
EmployerOrdering = Annotated[
    Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("-created_at",)))
]


@router.get("/api/employers/", response_model=Page[EmployerOut], summary="List employers")
async def list_employers(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: EmployerView,
    page: PageDep,
    ordering: EmployerOrdering,
    filters: CommonFiltersDep,
    search: Annotated[
        SearchQuery, Query(description=search_description(["id", "name", "description"]))
    ] = None,
    has_image: Annotated[BooleanQuery, Query(description="With or without an image.")] = None,
    has_description: Annotated[BooleanQuery, Query()] = None,
) -> JSONResponse:
    present = {"image_id": has_image, "description": has_description}
    query = ListQuery(filters, ordering, search, present)
    count, results = await employers.list_page(session, query, page, url_for)
    return page_response(request, page, count, results)


@router.post(
    "/api/employers/",
    status_code=201,
    response_model=EmployerOut,
    responses=tag_documented(201),
    summary="Create an employer",
)
async def create_employer(
    session: SessionDep, url_for: UrlForDep, _caller: EmployerCreate, payload: EmployerIn
) -> JSONResponse:
    return tagged(JSONResponse(await employers.create(session, payload.model_dump(), url_for), 201))


@router.get(
    "/api/employers/{id}",
    response_model=EmployerOut,
    responses=tag_documented(),
    summary="Retrieve an employer",
)
async def get_employer(
    session: SessionDep, url_for: UrlForDep, _caller: EmployerView, id: PathId
) -> JSONResponse:
    return tagged(JSONResponse(await employers.get(session, id, url_for)))


@router.patch(
    "/api/employers/{id}",
    response_model=EmployerOut,
    responses=if_match_documented(),
    summary="Update an employer",
)
async def update_employer(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: EmployerUpdate,
    id: PathId,
    payload: EmployerPatch,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    return tagged(
        JSONResponse(await employers.update(session, id, payload.given(), url_for, if_match))
    )


@router.put(
    "/api/employers/{id}",
    response_model=EmployerOut,
    responses=if_match_documented(),
    summary="Replace an employer",
)
async def replace_employer(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: EmployerUpdate,
    id: PathId,
    payload: EmployerIn,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    return tagged(
        JSONResponse(await employers.update(session, id, payload.given(), url_for, if_match))
    )


@router.delete(
    "/api/employers/{id}",
    status_code=204,
    responses=if_match_documented(204),
    summary="Delete an employer; its portfolios keep going without one",
)
async def delete_employer(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: EmployerDelete,
    id: PathId,
    if_match: IfMatchHeader = None,
) -> None:
    await employers.delete(session, id, url_for, if_match)
