"""`/api/media/`: upload, list, retrieve, rename and delete media files."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator

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
from app.common.query import PathId, blank_is_absent
from app.common.routing import APIRouter
from app.common.schemas import NoNullCharacters
from app.common.search import SearchQuery, search_description
from app.db import SessionDep, end_read_transaction
from app.errors import (
    PayloadTooLarge,
    ServerBusy,
    UnsupportedMediaType,
    openapi_responses,
)
from app.events import outbox as events
from app.media import service
from app.media.dependencies import ImagePoolDep, StorageDep, UrlForDep
from app.media.read_model import MediaFileOut, MediaType, loaded_payload
from app.media.repository import DEFAULT_ORDER, ORDERING_FIELDS
from app.media.schemas import MediaPatch
from app.models import MediaFile

router = APIRouter(tags=["media"])

MediaCreate = Annotated[Principal, Depends(require(Permission.MEDIA_CREATE))]
MediaView = Annotated[Principal, Depends(require(Permission.MEDIA_VIEW))]
MediaUpdate = Annotated[Principal, Depends(require(Permission.MEDIA_UPDATE))]
MediaDelete = Annotated[Principal, Depends(require(Permission.MEDIA_DELETE))]
MediaOrdering = Annotated[Ordering, Depends(ordering_dependency(ORDERING_FIELDS, DEFAULT_ORDER))]


@router.post(
    "/api/media/",
    status_code=201,
    response_model=MediaFileOut,
    responses={
        **openapi_responses([PayloadTooLarge, UnsupportedMediaType, ServerBusy]),
        **tag_documented(201),
    },
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
    await end_read_transaction(session)  # nothing held while the file is inspected and stored
    upload = service.Upload(file.file, file.filename, file.size or 0, name, alt)
    media = await service.create_media(
        session, storage, images, request.app.state.settings, upload, datetime.now(UTC)
    )
    body = loaded_payload(media, url_for)
    fields = {"name": media.name, "alt": media.alt, "file": media.path}
    await events.created(session, "media", media.id, body, fields)
    return tagged(JSONResponse(body, status_code=201))


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
    query = ListQuery(filters, ordering, search)
    count, results = await service.list_page(session, page, query, type, url_for)
    return page_response(request, page, count, results)


# The file is found (and for a write locked) as a dependency, before the body's fields are
# checked: a missing file is a 404, even with invalid fields.
async def _locked_media_or_404(session: SessionDep, id: PathId) -> MediaFile:
    return await service.get_media(session, id, for_update=True)


LockedMedia = Annotated[MediaFile, Depends(_locked_media_or_404)]


@router.get(
    "/api/media/{id}",
    response_model=MediaFileOut,
    responses=tag_documented(),
    summary="Retrieve a media file",
)
async def get_media(
    session: SessionDep, _caller: MediaView, id: PathId, url_for: UrlForDep
) -> JSONResponse:
    return tagged(JSONResponse(await service.retrieve(session, id, url_for)))


@router.patch(
    "/api/media/{id}",
    response_model=MediaFileOut,
    responses=if_match_documented(),
    summary="Rename a file, change its alt text or an image's focal point",
)
async def update_media(
    session: SessionDep,
    _caller: MediaUpdate,
    media: LockedMedia,
    url_for: UrlForDep,
    payload: MediaPatch,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    await require_unchanged(if_match, lambda: as_is(loaded_payload(media, url_for)))
    changed = await service.update_media(session, media, payload.given())
    body = loaded_payload(media, url_for)
    await events.updated(session, "media", media.id, body, changed)
    return tagged(JSONResponse(body))


@router.delete(
    "/api/media/{id}",
    status_code=204,
    responses=if_match_documented(204),
    summary="Delete a file: into the trash, its references empty until it is restored",
)
async def delete_media(
    session: SessionDep,
    _caller: MediaDelete,
    media: LockedMedia,
    url_for: UrlForDep,
    if_match: IfMatchHeader = None,
) -> None:
    body, media_id = loaded_payload(media, url_for), media.id
    await require_unchanged(if_match, lambda: as_is(body))
    await service.delete_media(session, media)
    await events.deleted(session, "media", media_id, body)
