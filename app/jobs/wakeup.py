"""Waking workers as soon as there is work: in this process at once, and on PostgreSQL every
other process through `NOTIFY` (the event and job tables' triggers send it on insert)."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import after_commit

CHANNEL = "portfolio_api_jobs"
_local_workers: set[asyncio.Event] = set()


def listen_locally(wake: asyncio.Event) -> None:
    _local_workers.add(wake)


def stop_listening_locally(wake: asyncio.Event) -> None:
    _local_workers.discard(wake)


async def wake_local_workers() -> None:
    for wake in _local_workers:
        wake.set()


async def notify_workers(session: AsyncSession) -> None:
    """Wake every worker when `session` commits work that no insert trigger announces (an
    update that makes a delivery due again)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_notify('{CHANNEL}', '')"))
    after_commit(session, wake_local_workers)
