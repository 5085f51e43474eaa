"""Webhook SQL: endpoints (pages by id, one by id, locked for a write) and their deliveries;
the ORM writes add and flush, never commit."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import ROW_LOCK, FieldChanges, apply_changes, get_or_404
from app.common.pagination import PageRequest, fetch_page
from app.errors import NotFound
from app.models import WebhookDelivery, WebhookEndpoint

ENDPOINTS = WebhookEndpoint.__table__
DELIVERIES = WebhookDelivery.__table__
# What the read model shows of an endpoint (never its secrets, lease or failure clock).
ENDPOINT_COLUMNS = tuple(
    ENDPOINTS.c[name]
    for name in ("id", "url", "events", "is_active", "description", "created_at", "updated_at")
)
DELIVERY_COLUMNS = tuple(
    DELIVERIES.c[name]
    for name in (
        "id", "event_id", "type", "status", "attempts", "last_status_code", "last_error",
        "next_attempt_at", "created_at",
    )
)  # fmt: skip


async def page(session: AsyncSession, page: PageRequest) -> tuple[int, list[Any]]:
    statement = select(*ENDPOINT_COLUMNS).order_by(ENDPOINTS.c.id)
    return await fetch_page(session, statement, page)


async def get(
    session: AsyncSession, endpoint_id: int, *, for_update: bool = False
) -> WebhookEndpoint:
    """The endpoint, or 404; locked until the request commits for a write."""
    return await get_or_404(session, WebhookEndpoint, endpoint_id, for_update=for_update)


async def exists(session: AsyncSession, endpoint_id: int) -> bool:
    statement = select(ENDPOINTS.c.id).where(ENDPOINTS.c.id == endpoint_id)
    return (await session.execute(statement)).first() is not None


async def create(session: AsyncSession, values: dict[str, Any]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(**values)
    session.add(endpoint)
    await session.flush()
    return endpoint


async def update(
    session: AsyncSession, endpoint: WebhookEndpoint, changes: dict[str, Any]
) -> FieldChanges:
    changed = apply_changes(endpoint, changes, {})
    await session.flush()
    return changed


async def delete(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    """Deleted at the next flush; its deliveries and its own events go with it (ON DELETE
    CASCADE)."""
    await session.delete(endpoint)


async def delivery_page(
    session: AsyncSession, endpoint_id: int, status: str | None, page: PageRequest
) -> tuple[int, list[Any]]:
    """The endpoint's deliveries, newest first (the endpoint's existence is the caller's)."""
    statement = select(*DELIVERY_COLUMNS).where(DELIVERIES.c.endpoint_id == endpoint_id)
    if status is not None:
        statement = statement.where(DELIVERIES.c.status == status)
    return await fetch_page(session, statement.order_by(DELIVERIES.c.id.desc()), page)


async def get_delivery(
    session: AsyncSession, endpoint_id: int, delivery_id: int, *, for_update: bool = False
) -> WebhookDelivery:
    """The endpoint's delivery, or 404 (also when it is another endpoint's)."""
    delivery = await session.get(
        WebhookDelivery, delivery_id, with_for_update=ROW_LOCK if for_update else None
    )
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound()
    return delivery


async def add_delivery(
    session: AsyncSession,
    endpoint_id: int,
    event_seq: int,
    event_id: str,
    type: str,
    now: datetime,
) -> WebhookDelivery:
    """A pending delivery, due now."""
    delivery = WebhookDelivery(
        endpoint_id=endpoint_id,
        event_seq=event_seq,
        event_id=event_id,
        type=type,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def make_due(session: AsyncSession, delivery: WebhookDelivery, now: datetime) -> None:
    """Pending again, due now."""
    delivery.status = "pending"
    delivery.next_attempt_at = now
    delivery.updated_at = now
    await session.flush()
