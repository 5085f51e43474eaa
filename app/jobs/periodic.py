"""Periodic tasks, each run by one worker per period whichever workers are running: the first to
move a task's `next_run_at` forward (a compare-and-set on `job_schedule`) runs it."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import unit_of_work
from app.events.outbox import act_via
from app.models import Event, Job, JobSchedule, WebhookDelivery
from app.models.base import utcnow
from app.settings import Settings

logger = logging.getLogger("app.jobs")
DELETE_BATCH = 5000


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    run: Callable[[AsyncSession, Settings], Awaitable[None]]


async def _delete_in_batches(
    session: AsyncSession, table: type, column: str, cutoff: object
) -> int:
    key = getattr(table, "seq" if table is Event else "id")
    deleted = 0
    while True:
        batch = select(key).where(getattr(table, column) < cutoff).limit(DELETE_BATCH)
        result = await session.execute(delete(table).where(key.in_(batch.scalar_subquery())))
        count: int = result.rowcount  # type: ignore[attr-defined]
        deleted += count
        if count < DELETE_BATCH:
            return deleted


async def retention(session: AsyncSession, settings: Settings) -> None:
    """Events and deliveries older than EVENT_RETENTION_DAYS, and failed jobs as old, deleted."""
    cutoff = utcnow() - timedelta(days=settings.event_retention_days)
    deliveries = await _delete_in_batches(session, WebhookDelivery, "created_at", cutoff)
    events = await _delete_in_batches(session, Event, "created_at", cutoff)
    await session.execute(delete(Job).where(Job.status == "failed", Job.created_at < cutoff))
    if deliveries or events:
        logger.info("retention: deleted %d events and %d deliveries", events, deliveries)


async def trash_expiry(session: AsyncSession, settings: Settings) -> None:
    from app.trash.service import expire  # the trash reads every feature: imported late

    await expire(session, settings)


TASKS = (
    Periodic("retention", timedelta(hours=1), retention),
    Periodic("trash-expiry", timedelta(hours=1), trash_expiry),
)


async def run_due(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    for task in TASKS:
        if await _take_turn(sessionmaker, task):
            async with unit_of_work(sessionmaker) as session:
                act_via(session, "worker")
                await task.run(session, settings)


async def _take_turn(sessionmaker: async_sessionmaker[AsyncSession], task: Periodic) -> bool:
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        dialect_insert = postgresql_insert if _is_postgresql(session) else sqlite_insert
        await session.execute(
            dialect_insert(JobSchedule)
            .values(name=task.name, next_run_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        taken = await session.execute(
            update(JobSchedule)
            .where(JobSchedule.name == task.name, JobSchedule.next_run_at <= now)
            .values(next_run_at=now + task.every)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
