"""A restore and a purge of the same item at once, with real commits on real connections: one
wins, the other finds nothing (404), never a 500, and the database is consistent either way."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.models import (
    Event,
    HistoryEntry,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    TrashItem,
    TrashReservation,
    portfolio_images,
    portfolio_tags,
)
from tests.factories import create_superuser
from tests.trash.conftest import NOT_FOUND, body, build_world, read_all, while_trashed

ROUNDS = 3


async def scalar(app: FastAPI, statement: Any) -> Any:
    async with app.state.engine.connect() as connection:
        return (await connection.execute(statement)).scalar_one()


async def count(app: FastAPI, table: Any, *conditions: Any) -> int:
    return int(await scalar(app, select(func.count()).select_from(table).where(*conditions)))


async def race(
    http: httpx.AsyncClient, kind: str, object_id: int, restore_first: bool
) -> tuple[httpx.Response, httpx.Response]:
    restore = http.post(f"/api/trash/{kind}/{object_id}/restore")
    purge = http.delete(f"/api/trash/{kind}/{object_id}")
    if restore_first:
        restored, purged = await asyncio.gather(restore, purge)
    else:
        purged, restored = await asyncio.gather(purge, restore)
    return restored, purged


async def events_of(app: FastAPI, kind: str, object_id: int) -> list[str]:
    async with app.state.engine.connect() as connection:
        rows = await connection.execute(
            select(HistoryEntry.action)
            .where(HistoryEntry.kind == kind, HistoryEntry.object_id == object_id)
            .order_by(HistoryEntry.id)
        )
        return list(rows.scalars())


@pytest.mark.parametrize("restore_first", [True, False], ids=["restore-first", "purge-first"])
async def test_restore_and_purge_of_one_portfolio_at_once(
    app: FastAPI, committing_client: httpx.AsyncClient, restore_first: bool
):
    http = committing_client
    http.headers.update((await create_superuser(app)).headers)
    world = await build_world(http)
    for _round in range(ROUNDS):
        pid, paths = world.id, world.reads()
        before = await read_all(http, paths)
        assert (await http.delete(f"/api/portfolios/{pid}")).status_code == 204
        types_before = await count(app, Event)
        restored, purged = await race(http, "portfolio", pid, restore_first)
        outcome = (restored.status_code, purged.status_code)
        assert outcome in ((200, 404), (404, 204)), (restored.text, purged.text)
        assert await count(app, TrashItem) == 0
        assert await count(app, TrashReservation) == 0
        assert await count(app, Event) == types_before + 1
        if outcome == (200, 404):
            assert restored.json() == before[f"/api/portfolios/{pid}"][1]
            assert purged.json() == NOT_FOUND
            assert await read_all(http, paths) == before
            assert (await events_of(app, "portfolio", pid))[-1] == "restored"
            continue
        assert restored.json() == NOT_FOUND
        assert await read_all(http, paths) == while_trashed(before, "portfolio", pid)
        assert (await events_of(app, "portfolio", pid))[-1] == "purged"
        assert await count(app, Portfolio, Portfolio.id == pid) == 0
        for table in (PortfolioLink, PortfolioMeta):
            assert await count(app, table, table.portfolio_id == pid) == 0
        for joined in (portfolio_tags, portfolio_images):
            assert await count(app, joined, joined.c.portfolio_id == pid) == 0
        world = await build_again(http, world)


async def build_again(http: httpx.AsyncClient, world: Any) -> Any:
    """A new world once the last one's portfolio is purged (its names are free again; the tags
    and employer of the old one are renamed out of the way)."""
    for tag in world.tags:
        body(await http.patch(f"/api/tags/{tag['id']}", json={"name": f"old-{tag['id']}"}))
    employer = world.employer["id"]
    body(await http.patch(f"/api/employers/{employer}", json={"name": f"old-{employer}"}))
    other = world.other["id"]
    body(await http.patch(f"/api/portfolios/{other}", json={"title": f"old-{other}"}))
    return await build_world(http)


async def test_restore_and_purge_of_tags_at_once(
    app: FastAPI, committing_client: httpx.AsyncClient
):
    http = committing_client
    http.headers.update((await create_superuser(app)).headers)
    world = await build_world(http)
    pid = world.id
    shown = body(await http.get(f"/api/portfolios/{pid}"))
    for number, tag in enumerate(world.tags):
        assert (await http.delete(f"/api/tags/{tag['id']}")).status_code == 204
        restored, purged = await race(http, "tag", tag["id"], restore_first=number % 2 == 0)
        outcome = (restored.status_code, purged.status_code)
        assert outcome in ((200, 404), (404, 204)), (restored.text, purged.text)
        assert await count(app, TrashItem) == 0
        assert await count(app, TrashReservation) == 0
        live = await count(app, Tag, Tag.id == tag["id"])
        joined = await count(app, portfolio_tags, portfolio_tags.c.tag_id == tag["id"])
        if outcome == (200, 404):
            assert restored.json() == body(await http.get(f"/api/tags/{tag['id']}"))
            assert (live, joined) == (1, 2 if number == 1 else 1)  # the second: two portfolios
        else:
            assert (live, joined) == (0, 0)
            shown = {
                **shown,
                "tags_data": [item for item in shown["tags_data"] if item["id"] != tag["id"]],
            }
        assert body(await http.get(f"/api/portfolios/{pid}")) == shown
