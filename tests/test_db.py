"""The database layer: timestamps, SQLite tuning, commits and concurrent writers."""

import asyncio
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from tests.common.notes import Note

DRF_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


async def test_timestamps_are_set_by_the_app_in_drf_format(notes):
    before = datetime.now(UTC)
    note = (await notes.post("/test/notes/", json={"title": "stamped"})).json()
    assert DRF_DATETIME.fullmatch(note["created_at"])
    created = datetime.fromisoformat(note["created_at"])
    assert before <= created <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (datetime(2024, 12, 14, tzinfo=UTC), "2024-12-14T00:00:00Z"),
        (datetime(2026, 1, 13, 10, 5, 43, 296270, tzinfo=UTC), "2026-01-13T10:05:43.296270Z"),
        (datetime(2026, 1, 13, 10, 5, 43, 1, tzinfo=UTC), "2026-01-13T10:05:43.000001Z"),
    ],
)
async def test_datetimes_round_trip_with_microseconds(notes_app, notes, stored, shown):
    async with notes_app.state.sessionmaker() as session:
        note = Note(title=shown, created_at=stored, updated_at=stored)
        session.add(note)
        await session.commit()
        note_id = note.id
    fetched = (await notes.get(f"/test/notes/{note_id}")).json()
    assert fetched["created_at"] == fetched["updated_at"] == shown


async def test_updated_at_moves_on_update_and_created_at_does_not(notes):
    note = (await notes.post("/test/notes/", json={"title": "moving"})).json()
    await asyncio.sleep(0.002)
    patched = (await notes.patch(f"/test/notes/{note['id']}", json={"rank": 1})).json()
    assert patched["created_at"] == note["created_at"]
    assert patched["updated_at"] > note["updated_at"]


async def test_sqlite_runs_with_foreign_keys_wal_and_a_busy_timeout(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    async with app.state.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() >= 1000


async def test_committed_writes_are_visible_to_other_connections(committing_notes, notes_app):
    response = await committing_notes.post("/test/notes/", json={"title": "durable"})
    assert response.status_code == 201
    async with notes_app.state.engine.connect() as other:
        titles = (await other.execute(select(Note.title))).scalars().all()
    assert titles == ["durable"]


async def test_concurrent_writers_all_succeed(committing_notes):
    responses = await asyncio.gather(
        *(committing_notes.post("/test/notes/", json={"title": f"w{n}"}) for n in range(40))
    )
    assert [r.status_code for r in responses] == [201] * 40
    listing = await committing_notes.get("/test/notes/", params={"limit": 100})
    assert listing.json()["count"] == 40


async def test_unique_value_raced_by_many_requests_gives_one_success(committing_notes):
    responses = await asyncio.gather(
        *(committing_notes.post("/test/notes/", json={"title": "same"}) for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 19
    refused = [r.json() for r in responses if r.status_code == 400]
    assert all(body == {"title": ["note with this title already exists."]} for body in refused)
    listing = await committing_notes.get("/test/notes/", params={"search": "same"})
    assert listing.json()["count"] == 1
