"""Small pieces every resource's endpoints share: fetch-or-404, apply changes, page bodies."""

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.pagination import PageRequest, next_link, previous_link
from app.common.schemas import drf_datetime
from app.errors import NotFound
from app.models import Base
from app.models.base import utcnow

M = TypeVar("M", bound=Base)
# `FOR NO KEY UPDATE`: the lock the UPDATE itself would take, taken when the row is read. It
# does not hold up inserts that merely reference the row (their foreign key takes KEY SHARE).
ROW_LOCK = {"key_share": True}


async def get_or_404(
    session: AsyncSession, model: type[M], object_id: int, *, for_update: bool = False
) -> M:
    """The object, or 404. A write passes `for_update`: the row stays locked until the request
    commits (PostgreSQL; SQLite's writers take turns already), so a concurrent write to it
    waits and then reads it as committed, or finds it deleted (404). Nothing is then computed
    from a stale row: not `search_text`, not a second DELETE, not an UPDATE of a deleted row."""
    found = await session.get(model, object_id, with_for_update=ROW_LOCK if for_update else None)
    if found is None:
        raise NotFound()
    return found


FieldChanges = dict[str, tuple[Any, Any]]
"""What a write changed: `{field: (old, new)}`, by the names a client writes (`image`, `tags`)."""


def apply_changes(
    target: Any, changes: Mapping[str, Any], columns: Mapping[str, str]
) -> FieldChanges:
    """Set the fields the client sent; `columns` maps request names to other attribute names
    (`image` -> `image_id`). Like a DRF save, an update always moves `updated_at`. Returns the
    fields whose value differs from before (all of them for a new object)."""
    is_new = getattr(target, "id", None) is None
    changed: FieldChanges = {}
    for field, value in changes.items():
        attribute = columns.get(field, field)
        old = None if is_new else getattr(target, attribute)
        if is_new or old != value:
            changed[field] = (old, value)
        setattr(target, attribute, value)
    if not is_new:
        target.updated_at = utcnow()
    return changed


def page_response(
    request: Request, page: PageRequest, count: int, results: list[dict[str, Any]]
) -> JSONResponse:
    """The DRF page body, serialised once from ready dicts."""
    return JSONResponse(
        {
            "count": count,
            "next": next_link(request, page, count),
            "previous": previous_link(request, page),
            "results": results,
        }
    )


def raw_page_response(
    request: Request, page: PageRequest, count: int, results_json: bytes
) -> Response:
    """The DRF page body around a results array already written as JSON (UTF-8)."""
    links = [next_link(request, page, count), previous_link(request, page)]
    next_json, previous_json = (json.dumps(link, ensure_ascii=False) for link in links)
    head = f'{{"count":{count},"next":{next_json},"previous":{previous_json},"results":'
    return Response(b"".join((head.encode(), results_json, b"}")), media_type="application/json")


def json_text(value: Any) -> str:
    """The JSON text FastAPI's JSONResponse would send for `value` (read models write the Python
    path's bodies with it, as PostgreSQL writes the other path's)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_body(value: Any) -> bytes:
    """`json_text` as a response body (UTF-8), as the pages and objects PostgreSQL writes are."""
    return json_text(value).encode()


def json_response(body: bytes, status: int = 200) -> Response:
    """A body a read model wrote as JSON, sent as it is."""
    return Response(body, status, media_type="application/json")


def uses_database_json(session: AsyncSession, prefix: str | None) -> bool:
    """Whether this request's page can be written as JSON by PostgreSQL."""
    return prefix is not None and session.get_bind().dialect.name == "postgresql"


def with_timestamps(payload: dict[str, Any], row: Any) -> dict[str, Any]:
    """A resource's own endpoint adds `created_at`/`updated_at` to its embedded shape."""
    payload["created_at"] = drf_datetime(row.created_at)
    payload["updated_at"] = drf_datetime(row.updated_at)
    return payload
