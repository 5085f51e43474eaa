"""Webhook endpoint writes and their rules: where a URL may point, secrets made and rotated,
deliveries made due again, pings. Sending is the workers' (nothing external happens here but
the DNS lookup of a new URL in production)."""

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.common.pagination import PageRequest
from app.errors import NotFound, ValidationFailed
from app.events import outbox
from app.jobs.wakeup import notify_workers
from app.models import WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.settings import Settings
from app.webhooks import addresses, repository
from app.webhooks.read_model import delivery_payload, webhook_payload
from app.webhooks.schemas import host_and_port
from app.webhooks.signing import new_secret

PING = "webhook.ping"


def _lookup_needed(settings: Settings, changes: dict[str, Any]) -> bool:
    """In production (unless WEBHOOK_ALLOW_PRIVATE=true) a new URL is looked up."""
    return changes.get("url") is not None and not settings.webhooks_reach_private_addresses


async def _check_reachable(settings: Settings, changes: dict[str, Any]) -> None:
    """A URL looked up must resolve to public addresses only: 400 on `url` otherwise."""
    if not _lookup_needed(settings, changes):
        return
    host, port = host_and_port(changes["url"])
    try:
        await addresses.resolve(host, port, allow_private=False)
    except addresses.AddressRefused as refused:
        raise ValidationFailed.field("url", str(refused)) from None


async def list_page(session: AsyncSession, page: PageRequest) -> tuple[int, list[dict[str, Any]]]:
    count, rows = await repository.page(session, page)
    return count, [webhook_payload(row) for row in rows]


async def get(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    return await repository.get(session, endpoint_id)


async def create(
    session: AsyncSession, settings: Settings, changes: dict[str, Any]
) -> WebhookEndpoint:
    """A new endpoint with a new secret, flushed (it has its id)."""
    await _check_reachable(settings, changes)
    return await repository.create(session, {**changes, "secret": new_secret()})


async def update(
    session: AsyncSession, settings: Settings, endpoint_id: int, changes: dict[str, Any]
) -> WebhookEndpoint:
    """The endpoint (404 first) with the fields in `changes` set, flushed. A new URL is
    looked up before the row is locked: no write to the endpoint (a worker's lease) waits
    for DNS."""
    if _lookup_needed(settings, changes):
        if not await repository.exists(session, endpoint_id):
            raise NotFound()
        await _check_reachable(settings, changes)
    endpoint = await repository.get(session, endpoint_id, for_update=True)
    if changes.get("is_active") and not endpoint.is_active:
        # Turned on again: its failures start counting afresh, or the next one would
        # deactivate it at once.
        changes = {**changes, "failing_since": None}
    await repository.update(session, endpoint, changes)
    return endpoint


async def delete(session: AsyncSession, endpoint_id: int) -> None:
    endpoint = await repository.get(session, endpoint_id, for_update=True)
    await repository.delete(session, endpoint)


async def rotate_secret(session: AsyncSession, settings: Settings, endpoint_id: int) -> str:
    """A new secret; the current one keeps signing beside it for `webhook_secret_overlap`
    seconds (one rotated secret at a time: a second rotation drops the oldest)."""
    endpoint = await repository.get(session, endpoint_id, for_update=True)
    now = utcnow()
    secret = new_secret()
    await repository.update(
        session,
        endpoint,
        {
            "secret": secret,
            "previous_secret": endpoint.secret,
            "previous_secret_expires_at": now + timedelta(seconds=settings.webhook_secret_overlap),
        },
    )
    return secret


async def delivery_page(
    session: AsyncSession, endpoint_id: int, status: str | None, page: PageRequest
) -> tuple[int, list[dict[str, Any]]]:
    """The endpoint's deliveries, newest first; 404 if there is no such endpoint (asked only
    when the page is empty: deliveries found prove it exists)."""
    count, rows = await repository.delivery_page(session, endpoint_id, status, page)
    if not rows and not await repository.exists(session, endpoint_id):
        raise NotFound()
    return count, [delivery_payload(row) for row in rows]


async def retry(session: AsyncSession, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    """The endpoint's delivery (404 if it is another's), pending and due now; the workers are
    woken once this commits."""
    delivery = await repository.get_delivery(session, endpoint_id, delivery_id, for_update=True)
    await repository.make_due(session, delivery, utcnow())
    await notify_workers(session)
    return delivery


async def ping(session: AsyncSession, endpoint_id: int) -> WebhookDelivery:
    """A `webhook.ping` event for this endpoint only, and its delivery, due now (the event's
    insert wakes the workers)."""
    await repository.get(session, endpoint_id, for_update=True)
    seq, event_id = await outbox.record(
        session, PING, {"webhook_id": endpoint_id}, endpoint_id=endpoint_id, dispatched=True
    )
    return await repository.add_delivery(session, endpoint_id, seq, event_id, PING, utcnow())
