"""Where workers run: inside `portfolio-api serve` (RUN_WORKER=true, the default), or as
`portfolio-api worker` processes. On SQLite only the process holding the consumer lock works;
the others stand by and take over if it goes away."""

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.lock import ConsumerLock
from app.jobs.worker import Worker
from app.settings import Settings

logger = logging.getLogger("app.jobs")
STANDBY_RETRY = 5.0


async def run_worker(engine: AsyncEngine, settings: Settings, stop: asyncio.Event) -> None:
    """Work until `stop` is set; on SQLite only while holding the consumer lock."""
    lock = ConsumerLock(settings.database_url) if settings.is_sqlite else None
    if lock is not None and not lock.try_acquire():
        logger.info("another process consumes jobs on this SQLite database; standing by")
        while not lock.try_acquire():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), STANDBY_RETRY)
            if stop.is_set():
                return
    worker = Worker(engine, settings)
    stopper = asyncio.create_task(_stop_when(stop, worker))
    try:
        await worker.run()
    finally:
        stopper.cancel()
        if lock is not None:
            lock.release()


async def _stop_when(stop: asyncio.Event, worker: Worker) -> None:
    await stop.wait()
    worker.stop()


@asynccontextmanager
async def jobs_in_process(engine: AsyncEngine, settings: Settings) -> AsyncIterator[None]:
    """A worker beside the API in this process, for as long as the context lasts."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(engine, settings, stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, settings.worker_shutdown_grace + 5)
        except Exception:
            logger.exception("the in-process worker did not stop cleanly")


async def run_until_signalled(settings: Settings) -> None:
    """`portfolio-api worker`: until SIGTERM or SIGINT, then a graceful stop."""
    from app.db import create_engine

    engine = create_engine(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run_worker(engine, settings, stop)
    finally:
        await engine.dispose()
