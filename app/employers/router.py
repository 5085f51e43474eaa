"""`/api/employers/`: the clients portfolios were made for."""

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
from app.employers.schemas import EmployerIn, EmployerOut, EmployerPatch, employer_payload
from app.media.dependencies import UrlForDep
from app.media.serialize import UrlFor
from app.models import Employer

router = APIRouter(tags=["employers"])

EmployerCreate = Annotated[Principal, Depends(require(Permission.EMPLOYER_CREATE))]
EmployerView = Annotated[Principal, Depends(require(Permission.EMPLOYER_VIEW))]
EmployerUpdate = Annotated[Principal, Depends(require(Permission.EMPLOYER_UPDATE))]
EmployerDelete = Annotated[Principal, Depends(require(Permission.EMPLOYER_DELETE))]

ORDERING_FIELDS = ("id", "name", "created_at", "updated_at")
ORDERING_COLUMNS: dict[str, Any] = {name: getattr(Employer, name) for name in ORDERING_FIELDS}
EmployerOrdering = Annotated[
    Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("-created_at",)))
]
COLUMNS = (
    Employer.id,
    Employer.name,
    Employer.description,
    Employer.image_id,
    Employer.created_at,
    Employer.updated_at,
)
RENAMED = {"image": "image_id"}


async def employer_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    return await payloads_with_images(session, rows, url_for, employer_payload)


async def _validate(
    session: AsyncSession, changes: dict[str, Any], employer_id: int | None = None
) -> None:
    await validate_named(session, Employer.name, changes, employer_id)


async def _respond(
    session: AsyncSession, employer: Employer, url_for: UrlFor, status: int = 200
) -> JSONResponse:
    return JSONResponse((await employer_payloads(session, [employer], url_for))[0], status)


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
    statement = select(*COLUMNS)
    statement = apply_common_filters(
        statement, filters, Employer.id, Employer.created_at, Employer.updated_at
    )
    statement = apply_search(statement, search, Employer.search_text, Employer.id)
    if has_image is not None:
        statement = statement.where(presence_condition(Employer.image_id, has_image))
    if has_description is not None:
        statement = statement.where(
            presence_condition(Employer.description, has_description, blank_is_absent=True)
        )
    count, rows = await fetch_page(
        session, statement.order_by(*ordering.clauses(ORDERING_COLUMNS)), page
    )
    return page_response(request, page, count, await employer_payloads(session, rows, url_for))


@router.post(
    "/api/employers/", status_code=201, response_model=EmployerOut, summary="Create an employer"
)
async def create_employer(
    session: SessionDep, url_for: UrlForDep, _caller: EmployerCreate, payload: EmployerIn
) -> JSONResponse:
    changes = payload.model_dump()
    await _validate(session, changes)
    employer = Employer()
    apply_changes(employer, changes, RENAMED)
    session.add(employer)
    await session.flush()
    return await _respond(session, employer, url_for, 201)


@router.get("/api/employers/{id}", response_model=EmployerOut, summary="Retrieve an employer")
async def get_employer(
    session: SessionDep, url_for: UrlForDep, _caller: EmployerView, id: PathId
) -> JSONResponse:
    return await _respond(session, await get_or_404(session, Employer, id), url_for)


async def _update(
    session: AsyncSession, employer_id: int, changes: dict[str, Any], url_for: UrlFor
) -> JSONResponse:
    employer = await get_or_404(session, Employer, employer_id, for_update=True)
    await _validate(session, changes, employer.id)
    apply_changes(employer, changes, RENAMED)
    await session.flush()
    return await _respond(session, employer, url_for)


@router.patch("/api/employers/{id}", response_model=EmployerOut, summary="Update an employer")
async def update_employer(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: EmployerUpdate,
    id: PathId,
    payload: EmployerPatch,
) -> JSONResponse:
    return await _update(session, id, payload.given(), url_for)


@router.put("/api/employers/{id}", response_model=EmployerOut, summary="Replace an employer")
async def replace_employer(
    session: SessionDep,
    url_for: UrlForDep,
    _caller: EmployerUpdate,
    id: PathId,
    payload: EmployerIn,
) -> JSONResponse:
    return await _update(session, id, payload.given(), url_for)


@router.delete(
    "/api/employers/{id}",
    status_code=204,
    summary="Delete an employer; its portfolios keep going without one",
)
async def delete_employer(session: SessionDep, _caller: EmployerDelete, id: PathId) -> None:
    await session.delete(await get_or_404(session, Employer, id, for_update=True))
