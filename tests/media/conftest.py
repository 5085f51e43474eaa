from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.factories import create_staff


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
    """The storage key inside a media URL."""
    return unquote(urlsplit(url).path).removeprefix("/media/")


def stored_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


async def upload(client, content: bytes, filename="file.bin", **fields):
    return await client.post(
        "/api/media/",
        files={"file": (filename, content, "application/octet-stream")},
        data=fields,
    )
