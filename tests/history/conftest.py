"""History read back through `GET /api/history/`, and entries written straight into the table
(for the filters and pages, which need entries at chosen times, by chosen users)."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import HistoryEntry
from app.models.base import utcnow
from tests.conftest import make_client
from tests.factories import ALL_CODES, Caller, create_row, create_staff


async def entries(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every entry the caller may see (up to a page of 100), newest first."""
    response = await client.get("/api/history/", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def add_entry(
    app: FastAPI,
    *,
    kind: str = "tag",
    action: str = "updated",
    object_id: int | None = 1,
    at: datetime | None = None,
    actor: Caller | None = None,
    via: str | None = None,  # `api` for a user's change, else `cli`
    changes: dict[str, Any] | None = None,
) -> int:
    """An entry as the recorder would write it, without the change it would describe."""
    entry = await create_row(
        app,
        HistoryEntry,
        at=at or utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_username=actor.username if actor else None,
        via=via or ("api" if actor else "cli"),
        action=action,
        kind=kind,
        object_id=object_id,
        changes=changes if changes is not None else {"name": ["old", "new"]},
    )
    entry_id: int = entry.id
    return entry_id


@pytest.fixture
async def staff(app: FastAPI, db_connection: AsyncConnection) -> Caller:
    """A staff user (not a superuser) holding every permission code."""
    return await create_staff(app, *ALL_CODES)


@pytest.fixture
async def api(app: FastAPI, staff: Caller) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as http:
        http.headers.update(staff.headers)
        yield http


def client_for(app: FastAPI, caller: Caller | None = None) -> httpx.AsyncClient:
    http = make_client(app)
    if caller is not None:
        http.headers.update(caller.headers)
    return http
