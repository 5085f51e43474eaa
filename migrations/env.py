"""Alembic environment: async engine, the application's models, and a lock for replicas."""

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.db import ensure_sqlite_directory
from app.models import Base
from app.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata
# Any constant works: it only has to be the same in every replica running migrations at start.
MIGRATION_LOCK_ID = 4_242_000_001


def database_url() -> str:
    return str(config.attributes.get("database_url") or get_settings().database_url)


def configure(connection: Connection | None = None, **kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite alters tables by copying them
        connection=connection,
        **kwargs,
    )


def run_migrations_offline() -> None:
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Replicas starting together queue here; the first migrates, the rest find nothing to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    url = database_url()
    ensure_sqlite_directory(url)
    # A plain engine: SQLite table rebuilds must run with foreign keys off (the app turns them on).
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as async_connection:
        await async_connection.run_sync(do_run_migrations)
        await async_connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
