"""`/api/media/`: upload, list, retrieve, rename and delete media files."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import page_response
from app.common.filters import CommonFiltersDep, apply_common_filters
from app.common.ordering import Ordering, ordering_dependency
from app.common.pagination import Page, PageDep, fetch_page
from app.common.query import PathId, blank_is_absent
from app.common.routing import APIRouter
from app.common.schemas import NoNullCharacters
from app.common.search import SearchQuery, apply_search, search_description
from app.db import SessionDep, end_read_transaction
from app.errors import (
    NotFound,
    PayloadTooLarge,
    ServerBusy,
    UnsupportedMediaType,
    openapi_responses,
)
from app.media import repository, service
from app.media.dependencies import ImagePoolDep, StorageDep, UrlForDep
from app.media.schemas import MediaFileOut, MediaPatch, MediaType
from app.media.serialize import UrlFor, media_payload
from app.models import MediaFile

router = APIRouter(tags=["media"])

MediaCreate = Annotated[Principal, Depends(require(Permission.MEDIA_CREATE))]
MediaView = Annotated[Principal, Depends(require(Permission.MEDIA_VIEW))]
MediaUpdate = Annotated[Principal, Depends(require(Permission.MEDIA_UPDATE))]
MediaDelete = Annotated[Principal, Depends(require(Permission.MEDIA_DELETE))]

ORDERING_FIELDS = ("id", "name", "size", "created_at", "updated_at")
ORDERING_COLUMNS: dict[str, Any] = {name: getattr(MediaFile, name) for name in ORDERING_FIELDS}
MediaOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, ("-created_at",)))]


def _payload(media: MediaFile, url_for: UrlFor) -> dict[str, Any]:
    return media_payload(media, media.thumbnails if media.kind == "image" else (), url_for)


@router.post(
    "/api/media/",
    status_code=201,
    response_model=MediaFileOut,
    responses=openapi_responses([PayloadTooLarge, UnsupportedMediaType, ServerBusy]),
    summary="Upload a file; images get inspected and four thumbnails",
)
async def upload_media(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    images: ImagePoolDep,
    url_for: UrlForDep,
    _caller: MediaCreate,
    file: Annotated[UploadFile, File(description="The file. Its type is decided by its content.")],
    name: Annotated[
        str | None,
        Form(max_length=255, description="Default: the file name without its extension."),
        NoNullCharacters,
    ] = None,
    alt: Annotated[str | None, Form(max_length=1000), NoNullCharacters] = None,
) -> JSONResponse:
    await end_read_transaction(session)
    upload = service.Upload(file.file, file.filename, file.size or 0, name, alt)
    media = await service.create_media(
        session, storage, images, request.app.state.settings, upload, datetime.now(UTC)
    )
    return JSONResponse(_payload(media, url_for), status_code=201)


@router.get("/api/media/", response_model=Page[MediaFileOut], summary="List media files")
async def list_media(
    request: Request,
    session: SessionDep,
    url_for: UrlForDep,
    _caller: MediaView,
    page: PageDep,
    ordering: MediaOrdering,
    filters: CommonFiltersDep,
    search: Annotated[SearchQuery, Query(description=search_description(["id", "name"]))] = None,
    type: Annotated[
        MediaType | None,
        BeforeValidator(blank_is_absent),
        Query(description="Only files of this type."),
    ] = None,
) -> JSONResponse:
    statement = repository.select_files()
    statement = apply_common_filters(
        statement, filters, MediaFile.id, MediaFile.created_at, MediaFile.updated_at
    )
    statement = apply_search(statement, search, MediaFile.search_text, MediaFile.id)
    if type is not None:
        statement = statement.where(MediaFile.kind == type.value)
    statement = statement.order_by(*ordering.clauses(ORDERING_COLUMNS))
    count, rows = await fetch_page(session, statement, page)
    results = await repository.payloads_for_rows(session, rows, url_for)
    return page_response(request, page, count, results)


async def _media_or_404(session: SessionDep, media_id: PathId) -> MediaFile:
    media = await repository.get_with_thumbnails(session, media_id)
    if media is None:
        raise NotFound()
    return media


async def _locked_media_or_404(session: SessionDep, media_id: PathId) -> MediaFile:
    """For a write: concurrent writes to the file wait their turn (see `crud.get_or_404`)."""
    media = await repository.get_with_thumbnails(session, media_id, for_update=True)
    if media is None:
        raise NotFound()
    return media


TargetMedia = Annotated[MediaFile, Depends(_media_or_404)]
LockedMedia = Annotated[MediaFile, Depends(_locked_media_or_404)]


@router.get("/api/media/{media_id}", response_model=MediaFileOut, summary="Retrieve a media file")
async def get_media(_caller: MediaView, media: TargetMedia, url_for: UrlForDep) -> JSONResponse:
    return JSONResponse(_payload(media, url_for))


@router.patch(
    "/api/media/{media_id}",
    response_model=MediaFileOut,
    summary="Rename a file or change its alt text",
)
async def update_media(
    session: SessionDep,
    _caller: MediaUpdate,
    media: LockedMedia,
    url_for: UrlForDep,
    payload: MediaPatch,
) -> JSONResponse:
    for field, value in payload.given().items():
        setattr(media, field, value)
    media.updated_at = datetime.now(UTC)
    await session.flush()
    return JSONResponse(_payload(media, url_for))


@router.delete(
    "/api/media/{media_id}",
    status_code=204,
    summary="Delete a file, its thumbnails and every reference to it",
)
async def delete_media(
    session: SessionDep, storage: StorageDep, _caller: MediaDelete, media: LockedMedia
) -> None:
    await service.delete_media(session, storage, media)
