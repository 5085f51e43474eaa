"""Media on the local filesystem under MEDIA_ROOT, served by the app at MEDIA_URL."""

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import quote

from app.media.naming import with_random_suffix
from app.media.storage import Backend, MissingObject, NewObject, StorageError, StoredObject

CHUNK = 1024 * 1024


class LocalStorage:
    name: Backend = "local"

    def __init__(self, root: Path, media_url: str, base_url: str | None) -> None:
        self.root = root.resolve()
        self.media_url = "/" + media_url.strip("/") + "/"
        self.base_url = base_url

    def _path(self, key: str) -> str:
        """By string arithmetic alone, with no system call (resolving would `lstat` each folder
        on the way): `..` still cannot lead out of the root. Keys are ours, never a client's;
        a symbolic link inside the root is the root owner's, and followed."""
        path = os.path.normpath(os.path.join(self.root, key))
        if path != str(self.root) and not path.startswith(f"{self.root}{os.sep}"):
            raise ValueError(f"key outside the media root: {key!r}")
        return path

    def path(self, key: str) -> Path:
        """Where the object lives on disk (it may not exist)."""
        return Path(self._path(key))

    async def save(self, key: str, content: bytes | IO[bytes], content_type: str) -> str:
        [stored] = await self.save_all([NewObject(key, content, content_type)])
        return stored

    async def save_all(self, objects: Sequence[NewObject]) -> list[str]:
        try:
            return await asyncio.to_thread(self._save_all, objects)
        except OSError as error:  # a full or read-only disk, a lost mount
            raise StorageError(f"cannot write under {self.root}: {error}") from error

    def _save_all(self, objects: Sequence[NewObject]) -> list[str]:
        """One after another in one thread: writes to a local disk gain nothing from running
        side by side, and each thread more would wait for the GIL after every system call."""
        stored: list[str] = []
        try:
            for new in objects:
                stored.append(self._save(new.key, new.content))
        except BaseException:
            with contextlib.suppress(OSError):  # the disk that failed may refuse this too
                self._delete(stored)
            raise
        return stored

    def _save(self, key: str, content: bytes | IO[bytes]) -> str:
        candidate = key
        while True:
            path = self._path(candidate)
            try:
                target = _create(path)
            except FileExistsError:  # two uploads of one name never overwrite each other
                candidate = with_random_suffix(key)
                continue
            with target:
                try:
                    if isinstance(content, bytes):
                        target.write(content)
                    else:
                        content.seek(0)
                        shutil.copyfileobj(content, target, CHUNK)
                except BaseException:
                    os.unlink(path)
                    raise
            return candidate

    async def open(self, key: str) -> IO[bytes]:
        try:
            return await asyncio.to_thread(open, self._path(key), "rb")
        except FileNotFoundError as missing:
            raise MissingObject(f"no file {key!r} under {self.root}") from missing

    async def delete(self, keys: list[str]) -> None:
        await asyncio.to_thread(self._delete, keys)

    def _delete(self, keys: list[str]) -> None:
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path(key))

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


def _create(path: str) -> BinaryIO:
    """A new file, opened exclusively; its folder is made only when missing (usually it is
    there: one system call, not two)."""
    try:
        return open(path, "xb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "xb")
