"""A history entry as the API shows it: the Pydantic models (OpenAPI) beside the Python builder,
which tests/history/test_api.py holds equal.

There is no SQL JSON form: an entry is a handful of plain columns and one JSON value stored as it
is shown, so serialising here costs nothing worth a second form.
"""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from app.common.schemas import DateTimeOut, drf_datetime
from app.history.kinds import ObjectKind


class HistoryAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    RESTORED = "restored"
    PURGED = "purged"
    REORDERED = "reordered"
    IMPORTED = "imported"


class Via(StrEnum):
    API = "api"
    CLI = "cli"
    WORKER = "worker"
    IMPORT = "import"


class ActorOut(BaseModel):
    """Who made a change (history) or a deletion (the trash)."""

    id: int
    username: str = Field(description="The username as it was when the change was made.")


class HistoryEntryOut(BaseModel):
    id: int
    at: DateTimeOut
    actor: ActorOut | None = Field(description="`null` for writes no API user made (see `via`).")
    via: Via
    action: HistoryAction
    kind: ObjectKind
    object_id: int | None = Field(description="`null` for a reorder of all portfolios.")
    changes: dict[str, list[Any]] = Field(
        description="Each changed field's `[old, new]` (`[null, value]` on create; id lists for "
        "`tags` and `images`); `{}` for delete, restore and purge."
    )


def actor_payload(user_id: int | None, username: str | None) -> dict[str, Any] | None:
    """An actor (API.md, "Words used below"): the user as they were named then, or `null`."""
    return None if user_id is None else {"id": user_id, "username": username}


def history_payload(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": drf_datetime(row.at),
        "actor": actor_payload(row.actor_id, row.actor_username),
        "via": row.via,
        "action": row.action,
        "kind": row.kind,
        "object_id": row.object_id,
        "changes": row.changes,
    }
