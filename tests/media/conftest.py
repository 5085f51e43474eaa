"""Media fixtures. The tests run against the app's storage, local or S3 (TEST_STORAGE=s3), and
look at what it holds through `media_store`, whichever it is."""

import errno
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from app.media.storage.local import LocalStorage
from app.media.storage.s3 import S3Storage
from app.settings import get_settings
from tests.factories import create_staff
from tests.object_storage import S3Server


@pytest.fixture
async def media_client(app, client):
    """A client holding every media code (1101-1104)."""
    staff = await create_staff(app, 1101, 1102, 1103, 1104)
    client.headers.update(staff.headers)
    return client


@pytest.fixture
def media_root(settings) -> Path:
    return Path(settings.media_root)


def media_path(url: str) -> str:
    """The storage key inside a local media URL."""
    return unquote(urlsplit(url).path).removeprefix("/media/")


def stored_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


async def upload(client, content: bytes, filename="file.bin", **fields):
    return await client.post(
        "/api/media/",
        files={"file": (filename, content, "application/octet-stream")},
        data=fields,
    )


class LocalFiles:
    """Files under MEDIA_ROOT, served by the app at /media/."""

    backend = "local"
    base = "http://testserver/media/"  # what every `f` starts with

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch

    def key(self, url: str) -> str:
        return media_path(url)

    async def keys(self) -> set[str]:
        return stored_files(self.root)

    async def put(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    async def fetch(self, client: httpx.AsyncClient, url: str) -> httpx.Response:
        return await client.get(urlsplit(url).path)

    @asynccontextmanager
    async def failing(self, after: int, mode: str) -> AsyncIterator[None]:
        """Writes after the first `after` fail as a full disk does."""
        original = LocalStorage._save
        calls = 0

        def save(storage: LocalStorage, key: str, content: Any) -> str:
            nonlocal calls
            calls += 1
            if calls > after:
                raise OSError(errno.ENOSPC, "No space left on device")
            return original(storage, key, content)

        self.monkeypatch.setattr(LocalStorage, "_save", save)
        try:
            yield
        finally:
            self.monkeypatch.setattr(LocalStorage, "_save", original)


class BucketObjects:
    """Objects in the session's bucket (behind the app's key prefix), fetched over HTTP."""

    backend = "s3"

    def __init__(self, storage: S3Storage, server: S3Server) -> None:
        self.storage = storage
        self.server = server
        base = storage.url_prefix("")
        assert base is not None
        self.base = base

    def key(self, url: str) -> str:
        return unquote(urlsplit(url).path).removeprefix(unquote(urlsplit(self.base).path))

    async def keys(self) -> set[str]:
        return {stored.key async for stored in self.storage.list_objects("")}

    async def put(self, key: str, data: bytes) -> None:
        await self.storage.put(key, data, "application/octet-stream")

    async def fetch(self, client: httpx.AsyncClient, url: str) -> httpx.Response:
        async with httpx.AsyncClient() as anonymous:
            return await anonymous.get(url)

    @asynccontextmanager
    async def failing(self, after: int, mode: str) -> AsyncIterator[None]:
        """PUTs after the first `after` answer 500 ("error") or lose the connection ("drop")."""
        await self.server.break_puts(after, mode)
        try:
            yield
        finally:
            await self.server.heal()


@pytest.fixture
def media_store(app, media_root, request, monkeypatch) -> LocalFiles | BucketObjects:
    storage = app.state.storage
    if isinstance(storage, S3Storage):
        return BucketObjects(storage, request.getfixturevalue("s3_server"))
    return LocalFiles(media_root, monkeypatch)


@pytest.fixture
def cli_settings(app, settings, storage_settings, monkeypatch) -> Iterator[None]:
    """`portfolio-api` commands run in the test see the app's database and storage."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MEDIA_ROOT", str(settings.media_root))
    for name, value in storage_settings.items():
        monkeypatch.setenv(name.upper(), str(value))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
