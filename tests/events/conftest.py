"""Change events as a webhook receiver would get them: read back from the `event` table (the
outbox) in the test's own transaction, their bodies parsed strictly."""

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import Event, MediaFile, Portfolio
from tests.conftest import make_client
from tests.factories import ALL_CODES, Caller, create_image, create_row, create_staff

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
BODY_KEYS = {"id", "type", "timestamp", "actor", "via", "data"}


def strict_json(text: str) -> Any:
    """`json.loads`, refusing what a lenient parser would let through: duplicate keys (the last
    one would silently win), NaN and Infinity."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _value in pairs]
        duplicated = {key for key in keys if keys.count(key) > 1}
        assert not duplicated, f"duplicate keys {duplicated} in {text}"
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise AssertionError(f"{name} in {text}")

    return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)


@dataclass
class Recorded:
    """One row of the outbox, with its body parsed."""

    seq: int
    id: str
    type: str
    created_at: datetime
    text: str  # `body`: what receivers get, byte for byte
    dispatched: bool
    endpoint_id: int | None
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        return self.body["data"]

    @property
    def changed(self) -> list[str]:
        return self.body["changed"]


class Outbox:
    """The `event` table as the test's transaction sees it."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def count(self) -> int:
        return (await self.connection.execute(select(func.count()).select_from(Event))).scalar_one()

    async def mark(self) -> int:
        """The last seq so far (0 when empty): what `since` counts from."""
        found = await self.connection.execute(select(func.max(Event.seq)))
        return found.scalar_one() or 0

    async def since(self, mark: int) -> list[Recorded]:
        rows = await self.connection.execute(
            select(
                Event.seq,
                Event.id,
                Event.type,
                Event.created_at,
                Event.body,
                Event.dispatched,
                Event.endpoint_id,
            )
            .where(Event.seq > mark)
            .order_by(Event.seq)
        )
        return [Recorded(*row, body=strict_json(row.body)) for row in rows]

    async def only(self, mark: int) -> Recorded:
        """The one event recorded since `mark`."""
        found = await self.since(mark)
        assert len(found) == 1, [event.type for event in found]
        return found[0]


@pytest.fixture
def outbox(db_connection: AsyncConnection) -> Outbox:
    return Outbox(db_connection)


@pytest.fixture
async def staff(app: FastAPI, db_connection: AsyncConnection) -> Caller:
    """A staff user (not a superuser) holding every permission code."""
    return await create_staff(app, *ALL_CODES)


@pytest.fixture
async def api(app: FastAPI, staff: Caller) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as http:
        http.headers.update(staff.headers)
        yield http


@pytest.fixture
async def parent(app: FastAPI, db_connection: AsyncConnection) -> Portfolio:
    """A portfolio for links and meta, made without the API (so without an event)."""
    return await create_row(app, Portfolio, title="Parent", slug="parent")


@pytest.fixture
async def image(app: FastAPI, db_connection: AsyncConnection) -> MediaFile:
    """An image row (with thumbnails, without files), made without the API."""
    return await create_image(app, "picture")


def assert_envelope(event: Recorded, type: str, caller: Caller) -> None:
    """What every event body of an API write carries, consistent with its row."""
    body = event.body
    assert set(body) == BODY_KEYS | ({"changed"} if type.endswith(".updated") else set())
    assert body["type"] == event.type == type
    assert body["id"] == event.id
    assert re.fullmatch(r"evt_[0-9a-zA-Z_-]+", body["id"]), body["id"]
    assert body["actor"] == {"id": caller.user_id, "username": caller.username}
    assert body["via"] == "api"
    assert TIMESTAMP.match(body["timestamp"]), body["timestamp"]
    moment = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    assert moment == event.created_at.astimezone(UTC)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60
    assert event.dispatched is False
    assert event.endpoint_id is None
    if "changed" in body:
        changed = body["changed"]
        assert isinstance(changed, list)
        assert len(set(changed)) == len(changed), changed
