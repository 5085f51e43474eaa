"""GET requests read through `get_read_session`, on PostgreSQL a `ReadSession`: prepared
statements on a pooled driver connection of their own, handed back before the ORM takes the
session's, so that a request never holds two connections and a failed or cancelled statement
never leaves one half used."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from fastapi import FastAPI
from sqlalchemy import Integer, cast, event, func, literal, select

from app.common.routing import READING_METHODS, DRFRoute, walk
from app.common.sql import Prepared, ReadSession
from app.db import get_read_session, get_session
from app.settings import Settings
from tests.conftest import committing_app, make_client
from tests.factories import create_superuser

ONE = Prepared(select(literal(1)))


@pytest.fixture
async def one_connection_app(settings: Settings, backend: str) -> AsyncIterator[FastAPI]:
    """The app committing for real on a pool of one connection: a request that wanted a second
    would wait for itself until the pool's timeout."""
    if backend != "postgresql":
        pytest.skip("SQLite's sessions read through SQLAlchemy as before")
    async with committing_app(
        settings, database_pool_size=1, database_max_overflow=0, database_pool_timeout=2.0
    ) as app:
        yield app


class CheckedOut:
    """How many pooled connections are out now, and the most there ever were."""

    def __init__(self) -> None:
        self.now = self.most = 0

    def checkout(self, *_args: object) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def checkin(self, *_args: object) -> None:
        self.now -= 1


@pytest.fixture
def checked_out(one_connection_app: FastAPI) -> Iterator[CheckedOut]:
    counter = CheckedOut()
    engine = one_connection_app.state.engine.sync_engine
    event.listen(engine, "checkout", counter.checkout)
    event.listen(engine, "checkin", counter.checkin)
    yield counter
    event.remove(engine, "checkout", counter.checkout)
    event.remove(engine, "checkin", counter.checkin)


async def test_prepared_statements_and_the_orm_share_one_connection(
    one_connection_app: FastAPI, checked_out: CheckedOut
) -> None:
    async with one_connection_app.state.read_sessionmaker() as session:
        assert isinstance(session, ReadSession)
        assert (await ONE.rows(session, {}))[0][0] == 1
        assert checked_out.now == 1
        assert (await session.execute(select(literal(2)))).scalar_one() == 2
        assert (await ONE.scalar(session, {})) == 1  # on the session's connection now
        assert checked_out.now == 1
    assert (checked_out.now, checked_out.most) == (0, 1)


async def test_closing_hands_the_connection_back_whether_the_session_began_or_not(
    one_connection_app: FastAPI, checked_out: CheckedOut
) -> None:
    prepared_only = one_connection_app.state.read_sessionmaker()
    assert (await ONE.scalar(prepared_only, {})) == 1
    await prepared_only.close()  # never began: only its pooled connection to hand back
    assert checked_out.now == 0
    began = one_connection_app.state.read_sessionmaker()
    assert (await began.execute(select(literal(2)))).scalar_one() == 2
    assert began.in_transaction()
    await began.close()
    assert not began.in_transaction()
    assert (checked_out.now, checked_out.most) == (0, 1)


async def test_statement_listeners_see_the_prepared_statements(
    one_connection_app: FastAPI,
) -> None:
    seen: list[str] = []

    def listen(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    engine = one_connection_app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        async with one_connection_app.state.read_sessionmaker() as session:
            await ONE.rows(session, {})
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(seen) == 1
    assert seen[0].startswith("SELECT")


async def test_a_failed_statement_discards_its_connection_and_the_session_goes_on(
    one_connection_app: FastAPI, checked_out: CheckedOut
) -> None:
    broken = Prepared(select(cast(literal("not a number"), Integer)))
    async with one_connection_app.state.read_sessionmaker() as session:
        with pytest.raises(asyncpg.exceptions.InvalidTextRepresentationError):
            await broken.rows(session, {})
        assert checked_out.now == 0
        assert (await ONE.scalar(session, {})) == 1
    assert checked_out.now == 0


async def test_a_cancelled_statement_never_leaves_a_busy_connection_in_the_pool(
    one_connection_app: FastAPI,
) -> None:
    slow = Prepared(select(func.pg_sleep(5)))

    async def hang_up_during_a_slow_read() -> None:
        async with one_connection_app.state.read_sessionmaker() as session:
            await slow.rows(session, {})

    reading = asyncio.ensure_future(hang_up_during_a_slow_read())
    await asyncio.sleep(0.3)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    async with one_connection_app.state.read_sessionmaker() as session:
        # The pool's only connection answers at once: not "another operation is in progress".
        assert (await asyncio.wait_for(ONE.scalar(session, {}), 2.0)) == 1


async def test_a_get_request_that_reads_both_ways_needs_one_connection(
    one_connection_app: FastAPI, checked_out: CheckedOut
) -> None:
    """The token by a prepared statement, then a searched page through SQLAlchemy: on a pool of
    one, holding two connections would wait out the pool's timeout and answer 503."""
    caller = await create_superuser(one_connection_app)
    async with make_client(one_connection_app) as client:
        client.headers.update(caller.headers)
        portfolio = await client.post("/api/portfolios/", json={"title": "Read twice"})
        assert portfolio.status_code == 201
        links = f"/api/portfolios/{portfolio.json()['id']}/links/"
        assert await client.post(links, json={"name": "Atlas", "url": "https://a.example"})
        checked_out.most = 0
        found = await asyncio.wait_for(client.get(links, params={"search": "atlas"}), 1.5)
        assert found.status_code == 200, found.text
        assert [link["name"] for link in found.json()["results"]] == ["Atlas"]
        assert (await client.get(f"/api/portfolios/{portfolio.json()['id']}")).status_code == 200
    assert (checked_out.now, checked_out.most) == (0, 1)


def test_routes_that_only_read_take_the_reading_session(app: FastAPI) -> None:
    """GET routes get `get_read_session` (no yield machinery) wherever `get_session` was asked
    for, their access dependency's included; a route that writes keeps `get_session`."""
    reading = writing = 0
    for route in app.routes:
        if not isinstance(route, DRFRoute):
            continue
        calls = {dependant.call for dependant in walk(route.dependant)}
        if route.methods <= READING_METHODS:
            assert get_session not in calls, route.path
            reading += get_read_session in calls
        else:
            assert get_read_session not in calls, route.path
            writing += get_session in calls
    assert reading > 20
    assert writing > 20
