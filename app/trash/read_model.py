"""A trash item as `/api/trash/` lists it."""

from typing import Any

from pydantic import BaseModel

from app.common.schemas import DateTimeOut, drf_datetime
from app.models import TrashItem


class ActorOut(BaseModel):
    id: int
    username: str


class TrashItemOut(BaseModel):
    kind: str
    id: int
    label: str
    deleted_at: DateTimeOut
    deleted_by: ActorOut | None


def trash_payload(item: TrashItem) -> dict[str, Any]:
    deleted_by = None
    if item.deleted_by_id is not None:
        deleted_by = {"id": item.deleted_by_id, "username": item.deleted_by_username}
    return {
        "kind": item.kind,
        "id": item.object_id,
        "label": item.label,
        "deleted_at": drf_datetime(item.deleted_at),
        "deleted_by": deleted_by,
    }
