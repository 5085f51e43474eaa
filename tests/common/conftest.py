from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from app.main import create_app
from app.settings import Settings
from tests.common.notes import Note, NoteBase, router
from tests.conftest import make_client, rolled_back, started


@pytest.fixture(scope="session")
async def notes_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    app.include_router(router)
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
