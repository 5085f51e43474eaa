"""Recording one history entry in the transaction of the change it describes."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.schemas import drf_datetime
from app.models import HistoryEntry
from app.models.base import utcnow

_INSERT = insert(HistoryEntry)


def plain(value: Any) -> Any:
    """A value as JSON holds it (datetimes as the API writes them)."""
    if isinstance(value, datetime):
        return drf_datetime(value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    return value


def values(
    actor: Mapping[str, Any] | None,
    via: str,
    action: str,
    kind: str,
    object_id: int | None,
    changes: Mapping[str, tuple[Any, Any]],
) -> dict[str, Any]:
    """The entry's columns (but `at`, which is the change's time)."""
    return {
        "actor_id": actor["id"] if actor else None,
        "actor_username": actor["username"] if actor else None,
        "via": via,
        "action": action,
        "kind": kind,
        "object_id": object_id,
        "changes": {field: [plain(old), plain(new)] for field, (old, new) in changes.items()},
    }


async def record(
    session: AsyncSession,
    actor: Mapping[str, Any] | None,
    via: str,
    action: str,
    kind: str,
    object_id: int | None,
    changes: Mapping[str, tuple[Any, Any]],
) -> None:
    connection = await session.connection()
    entry = values(actor, via, action, kind, object_id, changes)
    await connection.execute(_INSERT, {"at": utcnow(), **entry})
