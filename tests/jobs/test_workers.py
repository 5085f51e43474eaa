"""The worker machinery: a real `portfolio-api worker` process killed outright is taken over,
PostgreSQL wakes an idle worker by NOTIFY, jobs run once and failing ones are kept, the queue's
status, and on SQLite one consumer at a time."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from app.events import outbox
from app.jobs import queue
from app.jobs.lock import ConsumerLock
from app.jobs.running import run_worker
from app.jobs.status import queue_status
from app.jobs.worker import Worker
from app.models import Base, Job, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.webhooks.signing import new_secret
from tests.factories import create_row
from tests.webhooks.receiver import Answer, Receiver
from tests.webhooks.test_delivery import fast, until

ran: list[dict] = []


@queue.handler("test.record")
async def record_payload(session, payload, _context):
    ran.append(payload)


@queue.handler("test.explode")
async def explode(session, payload, _context):
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
async def _empty_tables(app):
    ran.clear()
    yield
    async with app.state.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))


@pytest.fixture
async def start_worker(app, settings):
    running = []

    def start(**overrides):
        worker = Worker(app.state.engine, fast(settings, **overrides))
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    for worker, _task in running:
        worker.stop()
    await asyncio.gather(*(task for _worker, task in running))


async def record_event(app) -> None:
    """An event committed without this process's local wake-up (as another replica's would)."""
    async with app.state.sessionmaker() as session:
        await outbox.record(session, "tag.created", {"id": 1, "name": "t"})
        await session.commit()


async def test_a_killed_worker_process_is_taken_over_once_its_lease_runs_out(app, settings):
    answers = iter([Answer(200, delay=60), Answer(200)])
    async with Receiver(lambda _request: next(answers)) as receiver:
        hook = await create_row(app, WebhookEndpoint, url=receiver.url, secret=new_secret())
        await record_event(app)
        environment = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "WEBHOOK_TIMEOUT": "1",
            "WORKER_LEASE_SECONDS": "3",
            "WORKER_POLL_INTERVAL": "0.2",
            "LOG_LEVEL": "WARNING",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "worker",
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await receiver.wait_for(1, within=20)  # the attempt is under way...
        finally:
            process.send_signal(signal.SIGKILL)  # ...when the worker dies
            await process.wait()
        async with app.state.sessionmaker() as session:
            endpoint = await session.get(WebhookEndpoint, hook.id)
            assert endpoint.lease_owner is not None  # left behind, running out
            [delivery] = (await session.scalars(select(WebhookDelivery))).all()
            assert (delivery.status, delivery.attempts) == ("pending", 0)

        worker = Worker(app.state.engine, fast(settings, worker_poll_interval=0.2))
        task = asyncio.create_task(worker.run())
        try:
            received = await receiver.wait_for(2, within=15)

            async def succeeded():
                async with app.state.sessionmaker() as session:
                    found = await session.get(WebhookDelivery, delivery.id)
                    return found.status == "succeeded"

            await until(succeeded)
        finally:
            worker.stop()
            await task
    assert received[0].headers["webhook-id"] == received[1].headers["webhook-id"]


async def test_postgresql_wakes_an_idle_worker_at_once(app, backend, start_worker):
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite has one consumer, woken in-process")
    async with Receiver() as receiver:
        await create_row(app, WebhookEndpoint, url=receiver.url, secret=new_secret())
        start_worker(worker_poll_interval=60)
        await asyncio.sleep(0.5)  # connected, caught up, asleep
        loop = asyncio.get_running_loop()
        committed = loop.time()
        await record_event(app)
        await receiver.wait_for(1, within=5)
        assert loop.time() - committed < 1.0


async def test_a_job_runs_once_and_is_deleted(app, start_worker):
    async with app.state.sessionmaker() as session:
        await queue.enqueue(session, "test.record", {"n": 1})
        await queue.enqueue(session, "test.record", {"n": 2})
        await session.commit()
    start_worker()
    start_worker()

    async def done():
        async with app.state.sessionmaker() as session:
            return not (await session.scalars(select(Job))).all()

    await until(done)
    await asyncio.sleep(0.2)
    assert sorted(payload["n"] for payload in ran) == [1, 2]


async def test_a_rolled_back_enqueue_leaves_no_job(app):
    async with app.state.sessionmaker() as session:
        await queue.enqueue(session, "test.record", {"n": 1})
        await session.rollback()
        assert (await session.scalars(select(Job))).all() == []


async def test_a_failing_job_is_tried_again_then_kept_as_failed(app, start_worker, monkeypatch):
    monkeypatch.setattr(queue, "RETRY_DELAYS", (0.05, 0.05))
    async with app.state.sessionmaker() as session:
        await queue.enqueue(session, "test.explode", {})
        await session.commit()
    start_worker()

    async def failed():
        async with app.state.sessionmaker() as session:
            job = (await session.scalars(select(Job))).one()
            return job if job.status == "failed" else None

    job = await until(failed)
    assert job.attempts == 3
    assert job.last_error == "RuntimeError: boom"


async def test_a_job_held_by_a_dead_worker_is_run_again(app, start_worker):
    async with app.state.sessionmaker() as session:
        session.add(
            Job(
                kind="test.record",
                payload={"n": 7},
                status="running",
                locked_by="dead",
                locked_until=utcnow() - timedelta(seconds=1),
            )
        )
        await session.commit()
    start_worker()
    await until(lambda: asyncio.sleep(0, result=ran == [{"n": 7}]))


async def test_jobs_status_counts_per_kind(app, settings):
    async with app.state.sessionmaker() as session:
        await queue.enqueue(session, "test.record", {}, run_at=utcnow() - timedelta(minutes=5))
        session.add(Job(kind="test.explode", status="failed", attempts=4))
        await outbox.record(session, "tag.created", {"id": 1})
        await session.commit()
        statuses = {status.kind: status for status in await queue_status(session)}
    assert (statuses["test.record"].pending, statuses["test.record"].failed) == (1, 0)
    assert statuses["test.record"].oldest_pending_age(utcnow()) >= 299
    assert statuses["test.explode"].failed == 1
    assert statuses["event.dispatch"].pending == 1

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "jobs",
        "status",
        "--json",
        env={**os.environ, "DATABASE_URL": settings.database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    rows = {row["kind"]: row for row in json.loads(stdout)}
    assert rows["test.record"]["pending"] == 1
    assert rows["webhook.delivery"] == {
        "kind": "webhook.delivery",
        "pending": 0,
        "running": 0,
        "failed": 0,
        "oldest_pending_age_seconds": None,
    }


def test_on_sqlite_one_process_holds_the_consumer_lock(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    first, second = ConsumerLock(url), ConsumerLock(url)
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


async def test_a_standby_worker_on_sqlite_takes_over_when_the_holder_stops(
    app, settings, backend, monkeypatch
):
    if backend != "sqlite":
        pytest.skip("the consumer lock is SQLite's")
    from app.jobs import running

    monkeypatch.setattr(running, "STANDBY_RETRY", 0.1)
    holder = ConsumerLock(settings.database_url)
    assert holder.try_acquire()
    stop = asyncio.Event()
    standby = asyncio.create_task(run_worker(app.state.engine, fast(settings), stop))
    try:
        async with app.state.sessionmaker() as session:
            await queue.enqueue(session, "test.record", {"n": 1})
            await session.commit()
        await asyncio.sleep(0.5)
        assert ran == []  # standing by
        holder.release()
        await until(lambda: asyncio.sleep(0, result=ran == [{"n": 1}]))
    finally:
        stop.set()
        await standby
