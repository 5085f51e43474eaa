"""Restores and purges as webhook receivers and the history see them: one `<kind>.restored`
event whose data is the restore's body, one `<kind>.purged` with the id, and a history entry
for each with no changes (API.md, "Change events and webhooks", "Editorial safety")."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import unit_of_work
from app.events.outbox import act_via
from app.models import TrashItem
from app.models.base import utcnow
from app.trash.service import expire
from tests.events.conftest import Outbox, assert_envelope
from tests.factories import Caller
from tests.history.conftest import entries
from tests.trash.conftest import TIMESTAMP, World, body

OBJECTS = ["portfolio", "link", "meta", "employer", "tag", "media"]


def target(world: World, kind: str) -> tuple[str, int]:
    """The object of the kind in the world: its retrieve path and id."""
    pid = world.id
    if kind == "portfolio":
        return f"/api/portfolios/{pid}", pid
    if kind == "link":
        return f"/api/portfolios/{pid}/links/{world.links[0]['id']}", world.links[0]["id"]
    if kind == "meta":
        return f"/api/portfolios/{pid}/meta/{world.meta[0]['id']}", world.meta[0]["id"]
    if kind == "employer":
        return f"/api/employers/{world.employer['id']}", world.employer["id"]
    if kind == "tag":
        return f"/api/tags/{world.tags[0]['id']}", world.tags[0]["id"]
    return f"/api/media/{world.cover['id']}", world.cover["id"]


@pytest.fixture
def outbox(db_connection: AsyncConnection) -> Outbox:
    return Outbox(db_connection)


def entry(caller: Caller | None, action: str, kind: str, object_id: int, found: Any) -> Any:
    """A history entry as `/api/history/` shows it, checked whole."""
    assert TIMESTAMP.match(found["at"]), found
    actor = None if caller is None else {"id": caller.user_id, "username": caller.username}
    assert found == {
        "id": found["id"],
        "at": found["at"],
        "actor": actor,
        "via": "api" if caller else "worker",
        "action": action,
        "kind": kind,
        "object_id": object_id,
        "changes": {},
    }
    return found


@pytest.mark.parametrize("kind", OBJECTS)
async def test_restore_and_purge_each_record_an_event_and_a_history_entry(
    api: httpx.AsyncClient, root: Caller, world: World, outbox: Outbox, kind: str
):
    path, object_id = target(world, kind)
    child = kind in ("link", "meta")
    assert (await api.delete(path)).status_code == 204

    mark = await outbox.mark()
    restored = body(await api.post(f"/api/trash/{kind}/{object_id}/restore"))
    event = await outbox.only(mark)
    assert_envelope(event, f"{kind}.restored", root)
    assert event.data == ({**restored, "portfolio_id": world.id} if child else restored)

    assert (await api.delete(path)).status_code == 204
    mark = await outbox.mark()
    purged = await api.delete(f"/api/trash/{kind}/{object_id}")
    assert purged.status_code == 204
    event = await outbox.only(mark)
    assert_envelope(event, f"{kind}.purged", root)
    # API.md: `{"id": N}`, plus `portfolio_id` for children.
    assert event.data == (
        {"id": object_id, "portfolio_id": world.id} if child else {"id": object_id}
    )

    history = await entries(api, kind=kind, id=object_id)
    assert [found["action"] for found in history] == [
        "purged",
        "deleted",
        "restored",
        "deleted",
        "created",
    ]
    entry(root, "purged", kind, object_id, history[0])
    entry(root, "restored", kind, object_id, history[2])
    assert history[0]["at"] >= history[1]["at"] >= history[2]["at"]
    assert await entries(api, action="restored") == [history[2]]
    assert await entries(api, action="purged") == [history[0]]


async def test_a_refused_restore_records_nothing(
    api: httpx.AsyncClient, world: World, outbox: Outbox
):
    link = world.links[0]["id"]
    assert (await api.delete(f"/api/portfolios/{world.id}/links/{link}")).status_code == 204
    assert (await api.delete(f"/api/portfolios/{world.id}")).status_code == 204
    mark = await outbox.mark()
    early = await api.post(f"/api/trash/link/{link}/restore")
    assert early.status_code == 400
    missing = await api.post("/api/trash/tag/999999/restore")
    assert missing.status_code == 404
    assert await outbox.since(mark) == []
    assert await entries(api, action="restored") == []


async def test_a_portfolio_restore_is_one_event_with_its_links_and_meta(
    api: httpx.AsyncClient, root: Caller, world: World, outbox: Outbox
):
    """The links and meta that went with it come back inside it, not as events of their own."""
    shown = body(await api.get(f"/api/portfolios/{world.id}"))
    assert (await api.delete(f"/api/portfolios/{world.id}")).status_code == 204
    mark = await outbox.mark()
    assert body(await api.post(f"/api/trash/portfolio/{world.id}/restore")) == shown
    event = await outbox.only(mark)
    assert_envelope(event, "portfolio.restored", root)
    assert event.data == shown


async def test_expiry_records_purges_by_the_worker(
    app: FastAPI,
    api: httpx.AsyncClient,
    world: World,
    outbox: Outbox,
    db_connection: AsyncConnection,
):
    tag = world.tags[0]["id"]
    assert (await api.delete(f"/api/tags/{tag}")).status_code == 204
    await db_connection.execute(
        update(TrashItem).values(deleted_at=utcnow().replace(year=utcnow().year - 1))
    )
    mark = await outbox.mark()
    async with unit_of_work(app.state.sessionmaker) as session:
        act_via(session, "worker")
        await expire(session, app.state.settings)
    event = await outbox.only(mark)
    assert event.type == "tag.purged"
    assert (event.body["actor"], event.body["via"]) == (None, "worker")
    assert event.data == {"id": tag}
    history = await entries(api, kind="tag", id=tag, action="purged")
    assert len(history) == 1
    entry(None, "purged", "tag", tag, history[0])
