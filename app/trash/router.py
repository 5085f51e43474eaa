"""`/api/trash/`: what staff deleted, restorable for TRASH_RETENTION_DAYS, then purged."""

from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import JSONResponse, Response

from app.auth.dependencies import AnyStaff, Superuser
from app.common.crud import page_response
from app.common.etags import tag_documented, tagged
from app.common.pagination import Page, PageDep
from app.common.query import PathId
from app.common.routing import APIRouter
from app.db import SessionDep
from app.errors import BadRequest, NotFound, PermissionDenied, openapi_responses
from app.history.kinds import DELETE_CODES, KindQuery, viewable_kinds
from app.media.dependencies import StorageDep, UrlForDep
from app.trash import service
from app.trash.read_model import TrashItemOut, trash_payload

router = APIRouter(tags=["trash"])

KindPath = Annotated[
    str, Path(description="portfolio, link, meta, employer, tag or media (others: 404).")
]


@router.get(
    "/api/trash/",
    response_model=Page[TrashItemOut],
    summary="List what is in the trash, newest first",
    description="Items of the kinds whose view code the caller holds (a superuser: every "
    "kind); `kind` names one of them (403 for a kind the caller may not view).",
)
async def list_trash(
    request: Request, session: SessionDep, caller: AnyStaff, page: PageDep, kind: KindQuery = None
) -> JSONResponse:
    count, items = await service.page(session, viewable_kinds(caller, kind), page)
    return page_response(request, page, count, [trash_payload(item) for item in items])


@router.post(
    "/api/trash/{kind}/{id}/restore",
    summary="Restore an object from the trash (the kind's delete code)",
    description="200 with the object as its retrieve route shows it. A link or meta item whose "
    "portfolio is still in the trash: 400 `Restore portfolio N first.`",
    responses={**openapi_responses([BadRequest, NotFound]), **tag_documented()},
)
async def restore_from_trash(
    session: SessionDep, url_for: UrlForDep, caller: AnyStaff, kind: KindPath, id: PathId
) -> Response:
    code = DELETE_CODES.get(kind)
    if code is None:
        raise NotFound()
    if not caller.may(code):
        raise PermissionDenied()
    body: Any = await service.restore(session, kind, id, url_for)
    if isinstance(body, bytes):
        return tagged(Response(body, media_type="application/json"))
    return tagged(JSONResponse(body))


@router.delete(
    "/api/trash/{kind}/{id}",
    status_code=204,
    summary="Purge an object from the trash for good, files included (superusers)",
    responses=openapi_responses([NotFound]),
)
async def purge_from_trash(
    session: SessionDep, storage: StorageDep, _caller: Superuser, kind: KindPath, id: PathId
) -> None:
    await service.purge(session, storage, kind, id)
