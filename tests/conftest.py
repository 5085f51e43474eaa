"""Fixtures: a real database built by the real migrations, and clients for the real app.

`DATABASE_URL=postgresql+asyncpg://user@host/any` runs the suite on PostgreSQL: a uniquely named
database is created on that server and dropped at the end. Otherwise a temporary SQLite file.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import delete, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.main import create_app
from app.models import Base
from app.settings import Settings
from tests.common.notes import Note, NoteBase
from tests.common.notes import protected_router as protected_notes_router
from tests.common.notes import router as notes_router
from tests.object_storage import TEST_STORAGE, S3Server, bucket_name, s3_server_for_tests

ROOT = Path(__file__).resolve().parent.parent


def run_migrations(database_url: str, revision: str = "head") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)


@pytest.fixture(scope="session")
def backend() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@asynccontextmanager
async def fresh_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """An empty database of its own: a SQLite file, or a uniquely named PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    server = make_url(os.environ["DATABASE_URL"])
    name = f"portfolio_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session")
async def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    async with fresh_database(backend, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
async def migrated_database(database_url: str) -> str:
    await asyncio.to_thread(run_migrations, database_url)
    return database_url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 API on loopback (moto in a subprocess), started on first use."""
    with s3_server_for_tests(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="session")
async def s3_bucket(s3_server: S3Server) -> AsyncIterator[str]:
    """A publicly readable bucket of the session's own."""
    name = bucket_name()
    await s3_server.create_bucket(name)
    yield name
    await s3_server.remove_bucket(name)


@pytest.fixture(scope="session")
def storage_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """TEST_STORAGE=s3: the app stores media in the session's bucket, behind a key prefix."""
    if TEST_STORAGE != "s3":
        return {}
    server: S3Server = request.getfixturevalue("s3_server")
    return server.storage_settings(request.getfixturevalue("s3_bucket"), s3_key_prefix="site/")


@pytest.fixture(scope="session")
def settings(
    migrated_database: str,
    tmp_path_factory: pytest.TempPathFactory,
    storage_settings: dict[str, Any],
) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=migrated_database,
        media_root=tmp_path_factory.mktemp("media"),
        cors_origins=["http://spa.example"],
        login_failures_per_address=8,  # the default 20 would cost 20 argon2 checks per test
        **storage_settings,
    )


async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for running in started(create_app(settings)):
        yield running


@asynccontextmanager
async def rolled_back(app: FastAPI) -> AsyncIterator[AsyncConnection]:
    """Per-test isolation: everything the app commits is a savepoint inside one rollback."""
    original = app.state.sessionmaker, app.state.read_sessionmaker
    async with app.state.engine.connect() as connection:
        transaction = await connection.begin()
        app.state.sessionmaker = app.state.read_sessionmaker = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        try:
            yield connection
        finally:
            app.state.sessionmaker, app.state.read_sessionmaker = original
            await transaction.rollback()


@pytest.fixture
async def db_connection(app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(app) as connection:
        yield connection


def make_client(app: FastAPI, **kwargs: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, **kwargs)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: FastAPI, db_connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as http:
        yield http


async def empty_tables(app: FastAPI) -> None:
    """Delete every row that a test committed for real."""
    async with app.state.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))


@asynccontextmanager
async def committing_app(settings: Settings, **changes: Any) -> AsyncIterator[FastAPI]:
    """An app of its own (its own pool, `changes` to the settings) committing for real; every
    table is emptied afterwards."""
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app):
        yield app
        await empty_tables(app)


@pytest.fixture
async def committing_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Real commits on real connections (for concurrency); every table is emptied afterwards."""
    async with make_client(app) as http:
        yield http
    await empty_tables(app)


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO", "BEGIN")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(app: FastAPI) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


# The test-only notes resource (tests/common/notes.py), for the shared list machinery.


@pytest.fixture(scope="session")
async def notes_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    app.include_router(notes_router)
    app.include_router(protected_notes_router)
    async for running in started(app):
        async with running.state.engine.begin() as connection:
            await connection.run_sync(NoteBase.metadata.create_all)
        yield running


@pytest.fixture
async def notes_db(notes_app: FastAPI) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(notes_app) as connection:
        yield connection


@pytest.fixture
async def notes(notes_app: FastAPI, notes_db: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(notes_app) as http:
        yield http


@pytest.fixture
async def committing_notes(notes_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(notes_app) as http:
        yield http
    async with notes_app.state.engine.begin() as connection:
        await connection.execute(delete(Note))


@pytest.fixture
async def admin(app: FastAPI, db_connection: AsyncConnection):
    from tests.factories import create_superuser

    return await create_superuser(app)


@pytest.fixture
async def admin_client(app: FastAPI, admin) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as http:
        http.headers.update(admin.headers)
        yield http
