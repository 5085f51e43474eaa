"""Imports from a stand-in original (tests/importer/original.py) into the test database, with
real commits (`committing_client` empties the tables afterwards) and a media folder per test."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.importer.report import ImportReport
from app.importer.run import import_original
from app.importer.verify import Verification
from app.importer.writer import Options
from app.settings import Settings
from tests.factories import create_superuser
from tests.importer.original import Original, OriginalData

TOKEN = "original-token"


@pytest.fixture
def import_settings(settings: Settings, tmp_path) -> Settings:
    return settings.model_copy(
        update={"media_root": tmp_path / "media", "media_storage": "local", "import_attempts": 3}
    )


@pytest.fixture
async def original() -> AsyncIterator[Original]:
    async with Original(OriginalData.sample()) as server:
        yield server


@pytest.fixture
async def staff(app, committing_client):
    """The committing client as a superuser of this service."""
    caller = await create_superuser(app)
    committing_client.headers.update(caller.headers)
    return committing_client


async def run_import(
    settings: Settings,
    original: Original,
    *,
    verify: bool = False,
    token: str = TOKEN,
    **options: Any,
) -> tuple[ImportReport, Verification | None]:
    """What `portfolio-api import-original --from <original> ...` does, in this event loop."""
    return await import_original(
        settings, Options(source=original.url, **options), token, check=verify, retry_delay=0.01
    )
