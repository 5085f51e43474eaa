"""Migrations build exactly the schema the models describe, on either backend."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.models import Base
from tests.conftest import run_migrations

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
