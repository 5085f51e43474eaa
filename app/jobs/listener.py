"""LISTEN on PostgreSQL: a connection of its own that sets `wake` on every notification from the
event and job tables' triggers. Notifications sent while it is disconnected are lost, so after
each (re)connection it wakes the worker once to look for what it missed; polling at
WORKER_POLL_INTERVAL stays the fallback."""

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

from app.jobs.wakeup import CHANNEL

logger = logging.getLogger("app.jobs")
HEALTH_CHECK_EVERY = 30.0


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(database_url: str, wake: asyncio.Event, connect_timeout: float = 5.0) -> None:
    """Runs until cancelled."""
    await listen_on(
        database_url,
        CHANNEL,
        lambda _payload: wake.set(),
        connected=wake.set,
        connect_timeout=connect_timeout,
    )


async def listen_on(
    database_url: str,
    channel: str,
    received: Callable[[str], None],
    *,
    connected: Callable[[], None],
    lost: Callable[[], None] = lambda: None,
    connect_timeout: float = 5.0,
) -> None:
    """LISTEN on `channel` until cancelled, handing each payload to `received`; `connected` after
    each (re)connection (what was sent meanwhile is lost), `lost` when a connection ends."""
    delay = 1.0
    while True:
        connection = None
        try:
            connection = await asyncpg.connect(asyncpg_dsn(database_url), timeout=connect_timeout)
            await connection.add_listener(channel, lambda *args: received(args[-1]))
            connected()
            delay = 1.0
            while not connection.is_closed():
                await asyncio.sleep(HEALTH_CHECK_EVERY)
                await asyncio.wait_for(connection.execute("SELECT 1"), connect_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("LISTEN %s lost (%s); trying again in %.0f s", channel, exc, delay)
        finally:
            lost()
            if connection is not None and not connection.is_closed():
                await connection.close(timeout=1)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
