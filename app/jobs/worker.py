"""The worker: dispatches events into deliveries, delivers them (one task per leased endpoint,
up to WORKER_CONCURRENCY at once), runs queued jobs and periodic tasks. It sleeps until woken
(LISTEN/NOTIFY, or this process's own commits) or until the next retry falls due, at most
WORKER_POLL_INTERVAL.

Stopping: no new work is taken; what is under way finishes within WORKER_SHUTDOWN_GRACE, then is
cancelled and its leases given back at once (a worker killed outright leaves them to run out:
WORKER_LEASE_SECONDS)."""

import asyncio
import logging
import os
import socket
import uuid
from contextlib import suppress
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import app.jobs.kinds  # noqa: F401 - registers every job kind's handler
from app.db import create_sessionmaker, unit_of_work
from app.jobs import periodic, queue
from app.jobs.context import JobContext
from app.jobs.listener import listen
from app.jobs.wakeup import listen_locally, stop_listening_locally
from app.models import Job, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.settings import Settings
from app.webhooks import delivery
from app.webhooks.dispatch import BATCH as DISPATCH_BATCH
from app.webhooks.dispatch import dispatch
from app.webhooks.sender import Sender

logger = logging.getLogger("app.jobs")
MIN_SLEEP = 0.01
PERIODIC_CHECK_EVERY = 60.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
        self.name = worker_name()
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.sender = Sender(settings)
        self.courier = delivery.EndpointCourier(
            self.sessionmaker, self.sender, settings, self.stopping
        )
        self.context = JobContext(settings)
        self.endpoints: dict[int, asyncio.Task[int]] = {}
        self.jobs: set[asyncio.Task[None]] = set()
        self._next_periodic_check = 0.0

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    async def run(self) -> None:
        """Work until `stop()`, then wind down within the shutdown grace."""
        listener = None
        if self.engine.dialect.name == "postgresql":
            listener = asyncio.create_task(listen(self.settings.database_url, self.wake))
        listen_locally(self.wake)
        logger.info("worker %s started", self.name)
        try:
            while not self.stopping.is_set():
                self.wake.clear()
                try:
                    sleep = await self.cycle()
                except Exception:
                    logger.exception("worker cycle failed; trying again")
                    sleep = self.settings.worker_poll_interval
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), sleep)
        finally:
            stop_listening_locally(self.wake)
            if listener is not None:
                listener.cancel()
                with suppress(asyncio.CancelledError):
                    await listener
            await self._wind_down()
            await self.sender.aclose()
            logger.info("worker %s stopped", self.name)

    async def cycle(self) -> float:
        """One pass over every kind of work; seconds until the next is due (none when a full
        batch of events was dispatched: more are waiting, while the first ones go out)."""
        backlog = await self._dispatch() == DISPATCH_BATCH
        await self._start_deliveries()
        await self._start_jobs()
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_periodic_check:
            self._next_periodic_check = loop.time() + PERIODIC_CHECK_EVERY
            await periodic.run_due(self.sessionmaker, self.settings)
        return 0.0 if backlog else await self._seconds_until_due()

    async def _dispatch(self) -> int:
        async with unit_of_work(self.sessionmaker) as session:
            return await dispatch(session, DISPATCH_BATCH)

    def _free_slots(self) -> int:
        return self.settings.worker_concurrency - len(self.endpoints) - len(self.jobs)

    async def _start_deliveries(self) -> None:
        if self._free_slots() <= 0:
            return
        claimed = await delivery.claim(
            self.sessionmaker, self.name, self.settings.worker_lease_seconds, self._free_slots()
        )
        for endpoint_id in claimed:
            task = asyncio.create_task(self._deliver(endpoint_id))
            self.endpoints[endpoint_id] = task

    async def _deliver(self, endpoint_id: int) -> int:
        try:
            return await self.courier.run(endpoint_id)
        except Exception:
            logger.exception("delivering to webhook endpoint %s failed", endpoint_id)
            return 0
        finally:
            with suppress(Exception):
                await asyncio.shield(delivery.release(self.sessionmaker, self.name, [endpoint_id]))
            self.endpoints.pop(endpoint_id, None)
            self.wake.set()  # more may be due, for this endpoint or another

    async def _start_jobs(self) -> None:
        if self._free_slots() <= 0:
            return
        for job in await queue.claim(
            self.sessionmaker, self.name, self.settings.worker_lease_seconds, self._free_slots()
        ):
            task = asyncio.create_task(queue.run(self.sessionmaker, job, self.name, self.context))
            self.jobs.add(task)
            task.add_done_callback(self._job_done)

    def _job_done(self, task: asyncio.Task[None]) -> None:
        self.jobs.discard(task)
        self.wake.set()

    async def _seconds_until_due(self) -> float:
        now = utcnow()
        async with self.sessionmaker() as session:
            next_delivery = await session.scalar(
                select(func.min(WebhookDelivery.next_attempt_at))
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookEndpoint.is_active,
                    or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until < now),
                )
            )
            next_job = await session.scalar(
                select(func.min(Job.run_at)).where(Job.status == "pending")
            )
        due = [moment for moment in (next_delivery, next_job) if moment is not None]
        return _clamp(due, now, self.settings.worker_poll_interval)

    async def _wind_down(self) -> None:
        running = [*self.endpoints.values(), *self.jobs]
        if running:
            _done, late = await asyncio.wait(running, timeout=self.settings.worker_shutdown_grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        await delivery.release(self.sessionmaker, self.name, list(self.endpoints))
        await queue.release(self.sessionmaker, self.name)
        await self.context.aclose()


def _clamp(due: list[datetime], now: datetime, poll: float) -> float:
    if not due:
        return poll
    return min(max((min(due) - now).total_seconds(), MIN_SLEEP), poll)
