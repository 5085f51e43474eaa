"""Migrations build exactly the schema the models describe, on either backend."""

import asyncio
import os
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import Base
from tests.conftest import ROOT, fresh_database, run_migrations

TEST_ONLY_TABLES = {"test_note"}


def differences(connection):
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, kind, _parent: (
                not (kind == "table" and name in TEST_ONLY_TABLES)
            ),
        },
    )
    return compare_metadata(context, Base.metadata)


async def test_models_and_migrations_agree(app):
    async with app.state.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_upgrading_an_up_to_date_database_is_a_no_op(settings):
    await asyncio.to_thread(run_migrations, settings.database_url)


async def test_every_migration_downgrades_and_upgrades_again(backend, tmp_path):
    async with fresh_database(backend, tmp_path) as url:
        await asyncio.to_thread(run_migrations, url)
        await asyncio.to_thread(downgrade, url, "base")
        await asyncio.to_thread(run_migrations, url)


async def test_replicas_migrating_at_once_queue_on_the_advisory_lock(backend, tmp_path):
    if backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite is single-host")
    async with fresh_database(backend, tmp_path) as url:
        # Separate processes, as replicas are (Alembic's context is process-global).
        replicas = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app.cli", "migrate", env={**os.environ, "DATABASE_URL": url}
            )
            for _ in range(4)
        ]
        assert [await replica.wait() for replica in replicas] == [0, 0, 0, 0]
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
            version = await connection.execute(text("SELECT count(*) FROM alembic_version"))
            assert version.scalar_one() == 1
        await engine.dispose()


def downgrade(database_url, revision):
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.downgrade(config, revision)
