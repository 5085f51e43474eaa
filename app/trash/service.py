"""The trash's operations: a page of what is in it, restore (the object back, as retrieve
shows it), purge (gone for good, files included) and expiry after TRASH_RETENTION_DAYS."""

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.pagination import PageRequest
from app.db import after_commit, on_failure
from app.employers.service import employers
from app.events import outbox as events
from app.links import read_model as link_read_model
from app.media import service as media_service
from app.media.dependencies import MediaUrls
from app.media.read_model import loaded_payload
from app.media.storage import Storage, create_storage
from app.media.variant_jobs import request_variants
from app.meta import read_model as meta_read_model
from app.meta import service as meta_service
from app.models import TrashItem
from app.models.base import utcnow
from app.portfolios import read_model as portfolio_read_model
from app.settings import Settings
from app.tags.service import tags
from app.trash import bin

logger = logging.getLogger("app.trash")
EXPIRY_BATCH = 100
Body = bytes | dict[str, Any]


async def page(
    session: AsyncSession, kinds: list[str], request: PageRequest
) -> tuple[int, list[TrashItem]]:
    """The items of these kinds, newest first."""
    where = TrashItem.kind.in_(kinds)
    count = await session.scalar(select(func.count()).select_from(TrashItem).where(where))
    items = await session.scalars(
        select(TrashItem)
        .where(where)
        .order_by(TrashItem.deleted_at.desc(), TrashItem.id.desc())
        .offset(request.offset)
        .limit(request.limit)
    )
    return count or 0, list(items)


async def retrieve(session: AsyncSession, kind: str, object_id: int, url_for: MediaUrls) -> Body:
    """The object's body as its retrieve route answers it."""
    if kind == "portfolio":
        return await portfolio_read_model.one_portfolio(session, object_id, url_for)
    if kind == "link":
        return await link_read_model.get_link(session, object_id, None, url_for)
    if kind == "meta":
        item = await meta_service.get_any(session, object_id)
        return await meta_read_model.one_meta_item(session, item, url_for)
    if kind == "employer":
        return await employers.get(session, object_id, url_for)
    if kind == "tag":
        return await tags.get(session, object_id, url_for)
    return loaded_payload(await media_service.get_media(session, object_id), url_for)


async def restore(session: AsyncSession, kind: str, object_id: int, url_for: MediaUrls) -> Body:
    item = await bin.locked_item(session, kind, object_id)
    parent_id = item.parent_id
    await bin.put_back(session, item)
    if kind == "media":  # trashed before its variants were made: they are made now
        await request_variants(session, object_id)
    body = await retrieve(session, kind, object_id, url_for)
    await events.restored(session, kind, object_id, body, portfolio_id=parent_id)
    return body


async def purge(session: AsyncSession, storage: Storage, kind: str, object_id: int) -> None:
    item = await bin.locked_item(session, kind, object_id)
    await _purge(session, storage, item)


async def _purge(session: AsyncSession, storage: Storage, item: TrashItem) -> None:
    kind, object_id, parent_id = item.kind, item.object_id, item.parent_id
    files, children = await bin.purge(session, item)
    await events.purged(session, kind, object_id, portfolio_id=parent_id)
    for child in children:
        await events.purged(session, child.kind, child.object_id, portfolio_id=object_id)
    if files:

        async def remove_files() -> None:
            await storage.delete(files)

        after_commit(session, remove_files)


async def expire(session: AsyncSession, settings: Settings) -> None:
    """Purge what has been in the trash longer than TRASH_RETENTION_DAYS (a periodic task)."""
    cutoff = utcnow() - timedelta(days=settings.trash_retention_days)
    items = list(
        await session.scalars(
            select(TrashItem)
            .where(TrashItem.deleted_at < cutoff)
            .order_by(TrashItem.id)
            .limit(EXPIRY_BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    if not items:
        return
    storage = create_storage(settings)
    on_failure(session, storage.aclose)
    for item in items:
        await _purge(session, storage, item)
    after_commit(session, storage.aclose)  # after the files went (callbacks run in order)
    logger.info("trash: purged %d expired items", len(items))
