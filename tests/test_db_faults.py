"""PostgreSQL connections dying under traffic: clean 503s, never a hang or a 500, and recovery
without a restart. Faults are real: backends terminated with `pg_terminate_backend`, and new
connections refused with `ALLOW_CONNECTIONS false`."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Integer, cast, literal, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.common.sql import Prepared
from app.settings import Settings
from tests.conftest import committing_app, make_client
from tests.factories import Caller, create_superuser

SLOWEST_ANSWER = 5.0  # seconds: a request may fail while the database is away, but not hang


@pytest.fixture
async def faulty_app(settings: Settings, backend: str) -> AsyncIterator[FastAPI]:
    """The app on its own pool, committing for real; the tables are emptied afterwards."""
    if backend != "postgresql":
        pytest.skip("connection faults are a PostgreSQL matter; SQLite has no server to lose")
    async with committing_app(
        settings, database_pool_timeout=2.0, database_connect_timeout=2.0
    ) as app:
        yield app


@pytest.fixture
async def server_admin(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A connection to the server's `postgres` database, outside the database under test."""
    url = make_url(settings.database_url).set(database="postgres")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    yield engine
    await engine.dispose()


async def terminate_backends(admin: AsyncEngine, database: str) -> int:
    async with admin.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :database AND pid <> pg_backend_pid()"
            ),
            {"database": database},
        )
        return int(result.scalar_one())


async def allow_connections(admin: AsyncEngine, database: str, allowed: bool) -> None:
    async with admin.connect() as connection:
        await connection.execute(
            text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        )


def assert_clean_failure(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "Service temporarily unavailable, try again later."}


async def timed(request: asyncio.Future[httpx.Response]) -> httpx.Response:
    started = time.monotonic()
    response = await asyncio.wait_for(request, SLOWEST_ANSWER)
    assert time.monotonic() - started < SLOWEST_ANSWER
    return response


@pytest.fixture
async def caller(faulty_app: FastAPI) -> Caller:
    return await create_superuser(faulty_app)


@pytest.fixture
def database(settings: Settings) -> str:
    name = make_url(settings.database_url).database
    assert name
    return name


async def test_connections_closed_while_idle_are_replaced_unnoticed(
    faulty_app, caller, server_admin, database
):
    async with make_client(faulty_app, raise_app_exceptions=False) as client:
        client.headers.update(caller.headers)
        warm = await asyncio.gather(*(client.get("/api/portfolios/") for _ in range(6)))
        assert {response.status_code for response in warm} == {200}

        assert await terminate_backends(server_admin, database) >= 1
        await asyncio.sleep(0.2)  # the event loop reads each closed socket

        after = await asyncio.gather(*(client.get("/api/portfolios/") for _ in range(6)))
        assert [response.status_code for response in after] == [200] * 6


async def test_traffic_through_repeated_terminations_gets_answers_or_clean_503s(
    faulty_app, caller, server_admin, database
):
    portfolio = None
    statuses: Counter[int] = Counter()
    stop = asyncio.Event()

    async with make_client(faulty_app, raise_app_exceptions=False) as client:
        client.headers.update(caller.headers)
        created = await client.post("/api/portfolios/", json={"title": "under fire"})
        portfolio = created.json()["id"]

        async def editor(number: int) -> None:
            sequence = 0
            while not stop.is_set():
                sequence += 1
                for request in (
                    client.get(f"/api/portfolios/{portfolio}/links/?limit=10"),
                    client.post(
                        f"/api/portfolios/{portfolio}/links/",
                        json={"name": f"link {number}-{sequence}"},
                    ),
                    client.get(f"/api/portfolios/{portfolio}"),
                ):
                    response = await timed(asyncio.ensure_future(request))
                    statuses[response.status_code] += 1
                    if response.status_code != 503:
                        assert response.status_code in (200, 201), response.text
                    else:
                        assert_clean_failure(response)

        editors = [asyncio.create_task(editor(number)) for number in range(6)]
        for _ in range(5):
            await asyncio.sleep(0.3)
            await terminate_backends(server_admin, database)
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*editors)

        # Recovered without a restart: every request succeeds again.
        after = await asyncio.gather(*(client.get("/api/portfolios/") for _ in range(10)))
        assert [response.status_code for response in after] == [200] * 10
        links = (await client.get(f"/api/portfolios/{portfolio}/links/?limit=1")).json()

    assert statuses[200] + statuses[201] > 50
    assert set(statuses) <= {200, 201, 503}
    # Every 201 the clients saw is a link that exists; no 503 left one behind half made.
    assert links["count"] == statuses[201]


async def test_outage_is_reported_by_readyz_and_answered_with_503_until_it_ends(
    faulty_app, caller, server_admin, database
):
    async with make_client(faulty_app, raise_app_exceptions=False) as client:
        client.headers.update(caller.headers)
        assert (await client.get("/readyz")).status_code == 200
        try:
            await allow_connections(server_admin, database, False)
            await terminate_backends(server_admin, database)
            await asyncio.sleep(0.2)

            outage = await timed(asyncio.ensure_future(client.get("/readyz")))
            assert_clean_failure(outage)
            listed = await timed(asyncio.ensure_future(client.get("/api/portfolios/")))
            assert_clean_failure(listed)
            written = await timed(
                asyncio.ensure_future(client.post("/api/tags/", json={"name": "lost"}))
            )
            assert_clean_failure(written)
            assert (await client.get("/healthz")).status_code == 200  # the process is alive
        finally:
            await allow_connections(server_admin, database, True)

        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/api/portfolios/")).status_code == 200
        tag = await client.post("/api/tags/", json={"name": "kept"})
        assert tag.status_code == 201
        assert (await client.get("/api/tags/?search=lost")).json()["count"] == 0


async def test_a_failing_direct_statement_is_an_error_not_a_lost_connection(faulty_app):
    """Statements run straight on asyncpg: only a lost connection becomes a 503."""
    broken = Prepared(select(cast(literal("not a number"), Integer)))
    async with faulty_app.state.read_sessionmaker() as session:
        with pytest.raises(asyncpg.exceptions.InvalidTextRepresentationError):
            await broken.rows(session, {})
    async with faulty_app.state.read_sessionmaker() as session:
        assert (await Prepared(select(literal(1))).rows(session, {}))[0][0] == 1
