"""The job queue: rows in `job`, taken by any worker (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
workers on many machines never take the same one; on SQLite one process consumes jobs), each
held under a lease so that a job whose worker died is taken again once the lease runs out.

A job kind is a coroutine registered with `@handler("kind")`; it gets a session whose transaction
commits with the job's completion, its payload, and the worker's `JobContext` (storage, image
threads). A job that raises is tried again after
`RETRY_DELAYS`, then kept as `failed` for `portfolio-api jobs status`."""

import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import unit_of_work
from app.events import outbox
from app.jobs.context import JobContext
from app.models import Job
from app.models.base import utcnow

logger = logging.getLogger("app.jobs")
Handler = Callable[[AsyncSession, dict[str, Any], JobContext], Awaitable[None]]
RETRY_DELAYS = (10.0, 60.0, 600.0)
_handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        _handlers[kind] = function
        return function

    return register


async def enqueue(
    session: AsyncSession, kind: str, payload: dict[str, Any], run_at: datetime | None = None
) -> int:
    """Add a job to the caller's transaction (it exists if and only if the caller commits); its
    id."""
    if kind not in _handlers:
        raise ValueError(f"no handler for job kind {kind!r}")
    values = {"kind": kind, "payload": payload, "run_at": run_at or utcnow()}
    inserted = await session.execute(insert(Job).values(values).returning(Job.id))
    job_id: int = inserted.scalar_one()
    return job_id


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Job.status == "pending", Job.run_at <= now),
        and_(Job.status == "running", Job.locked_until < now),  # its worker died
    )


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    lease: float,
    limit: int,
    kinds: Collection[str] | None = None,
) -> list[Job]:
    """Up to `limit` due jobs (of `kinds`, default any with a handler), leased to `owner`."""
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        jobs = (
            await session.scalars(
                select(Job)
                .where(_claimable(now), Job.kind.in_(list(kinds or _handlers)))
                .order_by(Job.run_at, Job.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for job in jobs:
            job.status = "running"
            job.locked_by = owner
            job.locked_until = now + timedelta(seconds=lease)
            job.attempts += 1
    return list(jobs)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], job: Job, owner: str, context: JobContext
) -> None:
    """Run the job; done, it is deleted in the transaction of its work."""
    try:
        async with unit_of_work(sessionmaker) as session:
            outbox.act_via(session, "worker")
            await _handlers[job.kind](session, job.payload, context)
            await session.execute(delete(Job).where(Job.id == job.id, Job.locked_by == owner))
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.id, job.kind)
        await _failed(sessionmaker, job, owner, exc)


async def _failed(
    sessionmaker: async_sessionmaker[AsyncSession], job: Job, owner: str, exc: Exception
) -> None:
    delay = RETRY_DELAYS[job.attempts - 1] if job.attempts <= len(RETRY_DELAYS) else None
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == owner)
            .values(
                status="failed" if delay is None else "pending",
                run_at=utcnow() + timedelta(seconds=delay or 0),
                locked_by=None,
                locked_until=None,
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
        )


async def release(sessionmaker: async_sessionmaker[AsyncSession], owner: str) -> None:
    """Give back the jobs `owner` holds (a stopping worker that could not finish them)."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(Job)
            .where(Job.status == "running", Job.locked_by == owner)
            .values(status="pending", locked_by=None, locked_until=None)
        )
