"""A span around each write of a storage (save, save_all, delete), when tracing is on."""

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from app.common.tracing import current_tracer
from app.media.storage import NewObject, Storage, StoredObject

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer


def traced(storage: Storage) -> Storage:
    """`storage` itself when tracing is off; else wrapped in spans."""
    tracer = current_tracer()
    return storage if tracer is None else TracedStorage(storage, tracer)


class TracedStorage:
    """The storage it wraps, each write in a span (`storage save`, `storage save_all`,
    `storage delete`) naming the backend and the keys; reads and URLs pass straight through."""

    def __init__(self, storage: Storage, tracer: "Tracer") -> None:
        self.storage = storage
        self.name = storage.name
        self.tracer = tracer

    @contextmanager
    def _span(self, operation: str, keys: Sequence[str]) -> Iterator[None]:
        from opentelemetry.trace import SpanKind

        kind = SpanKind.CLIENT if self.name == "s3" else SpanKind.INTERNAL
        attributes = {
            "storage.backend": self.name,
            "storage.count": len(keys),
            "storage.keys": list(keys[:10]),  # the first ten
        }
        # An exception ends the span as an error, with the exception recorded.
        with self.tracer.start_as_current_span(
            f"storage {operation}", kind=kind, attributes=attributes
        ):
            yield

    async def save(self, key: str, content: bytes | IO[bytes], content_type: str) -> str:
        with self._span("save", [key]):
            return await self.storage.save(key, content, content_type)

    async def save_all(self, objects: Sequence[NewObject]) -> list[str]:
        with self._span("save_all", [each.key for each in objects]):
            return await self.storage.save_all(objects)

    async def delete(self, keys: list[str]) -> None:
        with self._span("delete", keys):
            await self.storage.delete(keys)

    async def open(self, key: str) -> IO[bytes]:
        return await self.storage.open(key)

    def list_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        return self.storage.list_objects(prefix)

    def url(self, key: str, origin: str) -> str:
        return self.storage.url(key, origin)

    def url_prefix(self, origin: str) -> str | None:
        return self.storage.url_prefix(origin)

    async def aclose(self) -> None:
        await self.storage.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.storage, name)  # what a backend has beyond the protocol
