"""History SQL: a page of entries, newest first, narrowed to the kinds the caller may view."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.filters import time_conditions
from app.common.pagination import PageRequest, fetch_page
from app.models import HistoryEntry

HISTORY = HistoryEntry.__table__
COLUMNS = tuple(
    HISTORY.c[name]
    for name in (
        "id", "at", "actor_id", "actor_username", "via", "action", "kind", "object_id", "changes",
    )
)  # fmt: skip


@dataclass(frozen=True)
class HistoryFilters:
    zone: ZoneInfo
    kinds: list[str]  # what the caller may view (and asked for): never empty-means-all
    object_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    start: date | datetime | None = None  # `from`, inclusive
    end: date | datetime | None = None  # `to`, inclusive (a date covers its whole day)


def conditions(filters: HistoryFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [HISTORY.c.kind.in_(filters.kinds)]
    if filters.object_id is not None:
        found.append(HISTORY.c.object_id == filters.object_id)
    if filters.actor_id is not None:
        found.append(HISTORY.c.actor_id == filters.actor_id)
    if filters.action is not None:
        found.append(HISTORY.c.action == filters.action)
    found += time_conditions(HISTORY.c.at, filters.zone, start=filters.start, end=filters.end)
    return found


async def page(
    session: AsyncSession, filters: HistoryFilters, page: PageRequest
) -> tuple[int, list[Any]]:
    """The entries, newest first, and their count; nothing at all for a caller who may view no
    kind (without a query)."""
    if not filters.kinds:
        return 0, []
    statement = select(*COLUMNS).where(*conditions(filters)).order_by(HISTORY.c.id.desc())
    return await fetch_page(session, statement, page)
