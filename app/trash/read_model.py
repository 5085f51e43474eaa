"""A trash item as `/api/trash/` lists it."""

from typing import Any

from pydantic import BaseModel

from app.common.schemas import DateTimeOut, drf_datetime
from app.history.read_model import ActorOut, actor_payload
from app.models import TrashItem


class TrashItemOut(BaseModel):
    kind: str
    id: int
    label: str
    deleted_at: DateTimeOut
    deleted_by: ActorOut | None


def trash_payload(item: TrashItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.object_id,
        "label": item.label,
        "deleted_at": drf_datetime(item.deleted_at),
        "deleted_by": actor_payload(item.deleted_by_id, item.deleted_by_username),
    }
