"""Delivering to one endpoint at a time per worker, under a lease: the worker holding it sends
the endpoint's due deliveries in order and records the outcomes; a worker that dies leaves the
lease to run out, and another takes over (at least once: an attempt whose outcome was not yet
recorded is sent again, with the same `webhook-id`).

Outcomes (API.md): a 2xx succeeds; 410 deactivates the endpoint at once; anything else is tried
again after the next step of WEBHOOK_RETRY_SCHEDULE (jittered; a longer `Retry-After` on 429
and 503 is honoured), and after the last the delivery is `failed`. An endpoint that has failed
every attempt for WEBHOOK_DEACTIVATE_AFTER is deactivated, with a `webhook.deactivated` event
to the others."""

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import unit_of_work
from app.events import outbox
from app.models import Event, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.settings import Settings
from app.webhooks import signing
from app.webhooks.read_model import webhook_payload
from app.webhooks.sender import Outcome, Sender

BATCH = 50
DEACTIVATED = "The endpoint was deactivated."
_DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]
_RECORD = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("delivery_id"))
    .values(
        status=bindparam("new_status"),
        attempts=bindparam("new_attempts"),
        last_status_code=bindparam("new_status_code"),
        last_error=bindparam("new_error"),
        next_attempt_at=bindparam("new_next_attempt_at"),
        updated_at=bindparam("new_updated_at"),
    )
)


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    attempts: int  # counting this one
    outcome: Outcome
    at: datetime


def keys_in_force(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        keys.append(endpoint.previous_secret)
    return keys


def retry_delay(settings: Settings, attempts: int, outcome: Outcome) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones; None when none is left."""
    schedule = settings.webhook_retry_schedule
    if attempts > len(schedule):
        return None
    jitter = settings.webhook_retry_jitter
    delay = schedule[attempts - 1] * random.uniform(1 - jitter, 1 + jitter)
    return max(delay, outcome.retry_after or 0.0)


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str, lease: float, limit: int
) -> list[int]:
    """Endpoints with deliveries due and nobody delivering to them, leased to `owner`."""
    now = utcnow()
    free = or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until < now)
    due = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.endpoint_id == WebhookEndpoint.id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .exists()
    )
    claimed = []
    async with unit_of_work(sessionmaker) as session:
        candidates = await session.scalars(
            select(WebhookEndpoint.id)
            .where(WebhookEndpoint.is_active, free, due)
            .order_by(WebhookEndpoint.lease_until.nulls_first(), WebhookEndpoint.id)
            .limit(limit)
        )
        for endpoint_id in candidates.all():
            taken = await session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id, free)
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease))
            )
            if taken.rowcount:  # type: ignore[attr-defined]
                claimed.append(endpoint_id)
    return claimed


async def release(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str, endpoint_ids: Sequence[int]
) -> None:
    if not endpoint_ids:
        return
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(endpoint_ids), WebhookEndpoint.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


class EndpointCourier:
    """Sends one leased endpoint's due deliveries, in order, until none is due or the lease is
    nearly spent (it must not run out while an attempt is under way)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sender: Sender,
        settings: Settings,
        stopping: Any,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.sender = sender
        self.settings = settings
        self.stopping = stopping  # an asyncio.Event: finish the attempt under way, then stop

    async def run(self, endpoint_id: int) -> int:
        """Deliver what is due; how many attempts were made."""
        budget = self.settings.worker_lease_seconds - self.settings.webhook_timeout - 1
        deadline = time.monotonic() + max(budget, 1.0)
        made = 0
        while not self.stopping.is_set() and time.monotonic() < deadline:
            endpoint, due = await self._due(endpoint_id)
            if endpoint is None or not due:
                break
            attempts = await self._send(endpoint, due, deadline)
            made += len(attempts)
            if await self._record(endpoint.id, attempts):
                break  # deactivated
        return made

    async def _due(self, endpoint_id: int) -> tuple[WebhookEndpoint | None, list[Any]]:
        async with self.sessionmaker() as session:
            endpoint = await session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None or not endpoint.is_active:
                return None, []
            rows = await session.execute(
                select(WebhookDelivery.id, WebhookDelivery.attempts, Event.id, Event.body)
                .join(Event, Event.seq == WebhookDelivery.event_seq)
                .where(
                    WebhookDelivery.endpoint_id == endpoint_id,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= utcnow(),
                )
                .order_by(WebhookDelivery.id)
                .limit(BATCH)
            )
            return endpoint, list(rows.all())

    async def _send(
        self, endpoint: WebhookEndpoint, due: list[Any], deadline: float
    ) -> list[Attempt]:
        attempts = []
        for delivery_id, previous_attempts, event_id, body_text in due:
            if self.stopping.is_set() or time.monotonic() >= deadline:
                break
            now = utcnow()
            body = body_text.encode()
            headers = signing.headers(
                keys_in_force(endpoint, now), event_id, int(time.time()), body
            )
            outcome = await self.sender.send(endpoint.url, headers, body)
            attempts.append(Attempt(delivery_id, previous_attempts + 1, outcome, utcnow()))
            if outcome.gone:
                break
        return attempts

    async def _record(self, endpoint_id: int, attempts: list[Attempt]) -> bool:
        """The outcomes, the endpoint's health and, when it must go, its deactivation, in one
        transaction; whether the endpoint was deactivated."""
        if not attempts:
            return False
        async with unit_of_work(self.sessionmaker) as session:
            connection = await session.connection()
            await connection.execute(_RECORD, [self._outcome_row(attempt) for attempt in attempts])
            endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
            if endpoint is None:
                return True
            failing_since = endpoint.failing_since
            for attempt in attempts:
                failing_since = None if attempt.outcome.succeeded else (failing_since or attempt.at)
            endpoint.failing_since = failing_since
            last = attempts[-1]
            too_long = (
                failing_since is not None
                and (last.at - failing_since).total_seconds()
                >= self.settings.webhook_deactivate_after
            )
            if endpoint.is_active and (last.outcome.gone or too_long):
                await deactivate(session, endpoint, "gone" if last.outcome.gone else "failing")
                return True
        return False

    def _outcome_row(self, attempt: Attempt) -> dict[str, Any]:
        outcome = attempt.outcome
        status, next_attempt_at = "succeeded", None
        if not outcome.succeeded:
            delay = None if outcome.gone else retry_delay(self.settings, attempt.attempts, outcome)
            status = "failed" if delay is None else "pending"
            next_attempt_at = None if delay is None else attempt.at + timedelta(seconds=delay)
        error = outcome.error
        if error is None and not outcome.succeeded:
            error = f"The endpoint answered {outcome.status_code}."
        return {
            "delivery_id": attempt.delivery_id,
            "new_status": status,
            "new_attempts": attempt.attempts,
            "new_status_code": outcome.status_code,
            "new_error": error,
            "new_next_attempt_at": next_attempt_at,
            "new_updated_at": attempt.at,
        }


async def deactivate(session: AsyncSession, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop delivering to the endpoint: its waiting deliveries fail, and the other endpoints
    hear of it (`webhook.deactivated`, recorded by the worker)."""
    now = utcnow()
    endpoint.is_active = False
    endpoint.updated_at = now
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="failed", last_error=DEACTIVATED, next_attempt_at=None, updated_at=now)
    )
    await session.flush()
    outbox.act_via(session, "worker")
    data = {**webhook_payload(endpoint), "reason": reason}
    await outbox.record(session, "webhook.deactivated", data)
