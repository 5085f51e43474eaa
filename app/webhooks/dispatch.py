"""Turning committed events into deliveries: one per active endpoint whose filter takes the event
type (or the one endpoint an event names), in commit order. One dispatcher at a time (an
advisory lock on PostgreSQL; on SQLite one process consumes jobs), so deliveries are numbered in
the order their events committed, the order in which each endpoint receives them."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow

BATCH = 500
_DISPATCH_LOCK = 0x706F7274_66000001  # pg_try_advisory_xact_lock key: "port" + 1


def accepts(filters: Iterable[str], event_type: str) -> bool:
    """`*` takes every type, `portfolio.*` every portfolio type, else the type itself."""
    kind = event_type.split(".", 1)[0]
    return any(item in ("*", event_type, f"{kind}.*") for item in filters)


async def _dispatcher_lock(session: AsyncSession) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    locked = await session.scalar(select(func.pg_try_advisory_xact_lock(_DISPATCH_LOCK)))
    return bool(locked)


async def dispatch(session: AsyncSession, batch: int = BATCH) -> int:
    """Deliveries for up to `batch` undispatched events, in the caller's transaction; how many
    events were dispatched (0: none waiting, or another worker is dispatching)."""
    if not await _dispatcher_lock(session):
        return 0
    events = (
        await session.execute(
            select(Event.seq, Event.id, Event.type, Event.endpoint_id)
            .where(text("NOT event.dispatched"))
            .order_by(Event.seq)
            .limit(batch)
        )
    ).all()
    if not events:
        return 0
    endpoints = (
        await session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.is_active)
        )
    ).all()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for event in events:
        for endpoint in endpoints:
            targeted = event.endpoint_id is not None
            if (targeted and endpoint.id == event.endpoint_id) or (
                not targeted and accepts(endpoint.events, event.type)
            ):
                rows.append(_delivery(endpoint.id, event, now))
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    await session.execute(
        update(Event).where(Event.seq.in_([event.seq for event in events])).values(dispatched=True)
    )
    return len(events)


def _delivery(endpoint_id: int, event: Any, now: Any) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint_id,
        "event_seq": event.seq,
        "event_id": event.id,
        "type": event.type,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
