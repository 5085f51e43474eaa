"""Media on the local filesystem under MEDIA_ROOT, served by the app at MEDIA_URL."""

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import quote

from app.media.naming import with_random_suffix
from app.media.storage import Backend, StorageError, StoredObject

CHUNK = 1024 * 1024


class LocalStorage:
    name: Backend = "local"

    def __init__(self, root: Path, media_url: str, base_url: str | None) -> None:
        self.root = root.resolve()
        self.media_url = "/" + media_url.strip("/") + "/"
        self.base_url = base_url

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"key outside the media root: {key!r}")
        return path

    def path(self, key: str) -> Path:
        """Where the object lives on disk (it may not exist)."""
        return self._path(key)

    async def save(self, key: str, content: bytes | IO[bytes], content_type: str) -> str:
        try:
            return await asyncio.to_thread(self._save, key, content)
        except OSError as error:  # a full or read-only disk, a lost mount
            raise StorageError(f"cannot write {key!r}: {error}") from error

    def _save(self, key: str, content: bytes | IO[bytes]) -> str:
        candidate = key
        while True:
            path = self._path(candidate)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # Exclusive creation: two uploads of one name never overwrite each other.
                with open(path, "xb") as target:
                    try:
                        if isinstance(content, bytes):
                            target.write(content)
                        else:
                            content.seek(0)
                            shutil.copyfileobj(content, target, CHUNK)
                    except BaseException:
                        path.unlink(missing_ok=True)
                        raise
                return candidate
            except FileExistsError:
                candidate = with_random_suffix(key)

    async def delete(self, keys: list[str]) -> None:
        await asyncio.to_thread(self._delete, keys)

    def _delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    async def list_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        for stored in await asyncio.to_thread(self._list, prefix):
            yield stored

    def _list(self, prefix: str) -> list[StoredObject]:
        start = self._path(prefix)
        found = []
        for folder, _dirs, files in os.walk(start):
            for name in files:
                path = Path(folder) / name
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                found.append(StoredObject(path.relative_to(self.root).as_posix(), modified))
        return found

    def url(self, key: str, origin: str) -> str:
        return f"{self.url_prefix(origin)}{quote(key)}"

    def url_prefix(self, origin: str) -> str:
        return f"{self.base_url or origin}{self.media_url}"

    async def aclose(self) -> None:
        pass
