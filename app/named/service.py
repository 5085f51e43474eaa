"""The rules of a named resource: `name` unique, `image` an image, both reported in one 400;
every write and read answers with the resource's read model, its images loaded once."""

from collections.abc import Mapping
from typing import Any, Generic

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.common.crud import apply_changes, with_timestamps
from app.common.etags import as_is, require_unchanged
from app.common.listing import ListQuery
from app.common.pagination import PageRequest
from app.common.references import ErrorCollector, check_images, check_unique
from app.events import outbox as events
from app.media.repository import load_media
from app.media.serialize import UrlFor
from app.named.read_model import Payload
from app.named.repository import M, NamedRepository
from app.trash.bin import move_to_trash

RENAMED = {"image": "image_id"}


async def validate_named(
    session: AsyncSession,
    name_column: InstrumentedAttribute[str],
    changes: Mapping[str, Any],
    object_id: int | None = None,
) -> None:
    """`name` unique (other than this object's own) and `image` an image, in one 400."""
    errors = ErrorCollector()
    if "name" in changes:
        await check_unique(session, errors, name_column, changes["name"], except_id=object_id)
    await check_images(session, errors, "image", [changes.get("image")])
    errors.raise_if_any()


class NamedService(Generic[M]):
    def __init__(self, kind: str, repository: NamedRepository[M], payload: Payload) -> None:
        self.kind = kind  # in change events: "employer", "tag"
        self.repository = repository
        self.payload = payload

    async def payloads(
        self, session: AsyncSession, rows: list[Any], url_for: UrlFor
    ) -> list[dict[str, Any]]:
        """The resource's own objects: its embedded shape, its images loaded once, timestamps."""
        media = await load_media(session, [row.image_id for row in rows], url_for)
        return [with_timestamps(self.payload(row, media), row) for row in rows]

    async def list_page(
        self,
        session: AsyncSession,
        query: ListQuery,
        page: PageRequest,
        url_for: UrlFor,
        where: ColumnElement[bool] | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        count, rows = await self.repository.page(session, query, page, where)
        return count, await self.payloads(session, rows, url_for)

    async def get(self, session: AsyncSession, object_id: int, url_for: UrlFor) -> dict[str, Any]:
        return await self._payload(session, await self.repository.get(session, object_id), url_for)

    async def add(self, session: AsyncSession, changes: dict[str, Any]) -> M:
        """A new row, validated and flushed (it has its id)."""
        await validate_named(session, self.repository.column("name"), changes)
        row = self.repository.model()
        apply_changes(row, changes, RENAMED)
        await self.repository.add(session, row)
        return row

    async def create(
        self, session: AsyncSession, changes: dict[str, Any], url_for: UrlFor
    ) -> dict[str, Any]:
        payload = await self._payload(session, await self.add(session, changes), url_for)
        await events.created(session, self.kind, payload["id"], payload, changes)
        return payload

    async def update(
        self,
        session: AsyncSession,
        object_id: int,
        changes: dict[str, Any],
        url_for: UrlFor,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """PATCH and PUT: the row locked first, so the checks see it as it is committed."""
        row = await self.repository.get(session, object_id, for_update=True)
        await require_unchanged(if_match, lambda: self._payload(session, row, url_for))
        await validate_named(session, self.repository.column("name"), changes, object_id)
        changed = apply_changes(row, changes, RENAMED)
        await self.repository.save(session)
        payload = await self._payload(session, row, url_for)
        await events.updated(session, self.kind, object_id, payload, changed)
        return payload

    async def delete(
        self, session: AsyncSession, object_id: int, url_for: UrlFor, if_match: str | None = None
    ) -> None:
        """Into the trash (`if_match`: unless the object changed since it was read)."""
        row = await self.repository.get(session, object_id, for_update=True)
        payload = await self._payload(session, row, url_for)
        await require_unchanged(if_match, lambda: as_is(payload))
        await move_to_trash(session, self.kind, object_id)
        await events.deleted(session, self.kind, object_id, payload)

    async def _payload(self, session: AsyncSession, row: M, url_for: UrlFor) -> dict[str, Any]:
        return (await self.payloads(session, [row], url_for))[0]
