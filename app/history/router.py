"""The history of changes (`/api/history/`): recorded with each change event, in its transaction."""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator

from app.auth.dependencies import AnyStaff
from app.common.crud import page_response
from app.common.pagination import Page, PageDep
from app.common.query import DateTimeQuery, Int64Query, blank_is_absent
from app.common.routing import APIRouter
from app.db import SessionDep
from app.history import repository
from app.history.kinds import KindQuery, viewable_kinds
from app.history.read_model import HistoryAction, HistoryEntryOut, history_payload
from app.history.repository import HistoryFilters

router = APIRouter(tags=["history"])


async def history_filters(
    request: Request,
    caller: AnyStaff,
    kind: KindQuery = None,
    id: Annotated[Int64Query, Query(description="Only changes to the object with this id.")] = None,
    user: Annotated[Int64Query, Query(description="Only changes made by this user id.")] = None,
    action: Annotated[
        HistoryAction | None,
        BeforeValidator(blank_is_absent),
        Query(description="Only this action."),
    ] = None,
    start: Annotated[
        DateTimeQuery, Query(alias="from", description="Made at or after this time.")
    ] = None,
    end: Annotated[
        DateTimeQuery,
        Query(alias="to", description="Made at or before this time (a date covers the whole day)."),
    ] = None,
) -> HistoryFilters:
    return HistoryFilters(
        zone=request.app.state.settings.zone,
        kinds=viewable_kinds(caller, kind),
        object_id=id,
        actor_id=user,
        action=None if action is None else action.value,
        start=start,
        end=end,
    )


@router.get(
    "/api/history/",
    response_model=Page[HistoryEntryOut],
    summary="List changes, newest first",
    description="Creates, updates, deletes, restores, purges, reorders and imports of the kinds "
    "whose view code the caller holds (a superuser: every kind); `kind` names one of them "
    "(403 for a kind the caller may not view).",
)
async def list_history(
    request: Request,
    session: SessionDep,
    filters: Annotated[HistoryFilters, Depends(history_filters)],
    page: PageDep,
) -> JSONResponse:
    count, rows = await repository.page(session, filters, page)
    return page_response(request, page, count, [history_payload(row) for row in rows])
