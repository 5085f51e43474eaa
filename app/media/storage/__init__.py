"""Where media bytes live: behind one small interface, chosen by settings."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Literal, Protocol

from app.settings import Settings

Backend = Literal["local", "s3"]


class StorageError(Exception):
    """The backend failed (unreachable, refusing, out of space): the request may be retried."""


class MissingObject(StorageError):
    """No object is stored under the key."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    modified_at: datetime


@dataclass(frozen=True)
class NewObject:
    key: str
    content: bytes | IO[bytes]
    content_type: str


class Storage(Protocol):
    name: Backend  # recorded on each file's row, so that rows can be moved between backends

    async def save(self, key: str, content: bytes | IO[bytes], content_type: str) -> str:
        """Store under `key`, or under a variant of it if taken; return the key used."""

    async def save_all(self, objects: Sequence[NewObject]) -> list[str]:
        """`save` each, or none: after a failure, those stored are removed and it is raised."""

    async def delete(self, keys: list[str]) -> None:
        """Remove these objects; missing ones are not an error."""

    async def open(self, key: str) -> IO[bytes]:
        """The object's bytes as a file at its start (a temporary copy for a bucket), which the
        caller closes; `MissingObject` when there is none."""

    def list_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        """Every stored object under `prefix` (for garbage collection)."""

    def url(self, key: str, origin: str) -> str:
        """The absolute URL a client fetches the object from; `origin` is the request's."""

    def url_prefix(self, origin: str) -> str | None:
        """What every URL is, before the percent-encoded key; None when URLs are not so
        simple (signed ones): the database can then not build them."""

    async def aclose(self) -> None:
        """Release connections; the storage may still be used afterwards (it reconnects)."""


def create_storage(settings: Settings, backend: Backend | None = None) -> Storage:
    """The configured backend (`MEDIA_STORAGE`), or the one named; traced when tracing is on."""
    from app.media.storage.tracing import traced

    if (backend or settings.media_storage) == "s3":
        from app.media.storage.s3 import S3Storage

        return traced(S3Storage.from_settings(settings))
    from app.media.storage.local import LocalStorage

    return traced(LocalStorage(settings.media_root, settings.media_url, settings.media_base_url))
