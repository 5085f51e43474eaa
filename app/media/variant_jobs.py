"""The `media.variants` job: an image's WebP and AVIF variants, made after its upload commits (or
by the backfill), then `media.variants_ready`.

Nothing is held while the original is read and rendered: the file's row is locked (against a
delete, and against another such job) only to swap the rows. A file deleted meanwhile gets
nothing, and the files just stored are removed; variants of the same formats made meanwhile by
another job are replaced, their files removed once this commits.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.urls import origin_outside_requests
from app.db import after_commit, end_read_transaction, on_failure
from app.events import outbox
from app.jobs import queue
from app.jobs.context import JobContext
from app.media import naming, repository
from app.media.dependencies import MediaUrls
from app.media.images import InvalidImage
from app.media.sniffing import PILLOW_FORMAT_OF
from app.media.storage import Backend, MissingObject, NewObject, Storage
from app.media.variants import Encoding, RenderedVariant, close_all, render_variants
from app.models import MediaFile, MediaVariant
from app.public import invalidation as public
from app.settings import Settings

logger = logging.getLogger("app.media")
VARIANTS = "media.variants"


@dataclass(frozen=True)
class Wanted:
    boxes: list[int]
    formats: list[str]


async def request_variants(
    session: AsyncSession, media_id: int, formats: list[str] | None = None, *, redo: bool = False
) -> int:
    """Queue the job in the caller's transaction: `formats` (default: MEDIA_VARIANT_FORMATS),
    only those missing unless `redo` (then made afresh and the old ones removed). Its id."""
    payload = {"media_id": media_id, "formats": formats, "redo": redo}
    return await queue.enqueue(session, VARIANTS, payload)


def encoding(settings: Settings) -> Encoding:
    return Encoding(
        webp_quality=settings.media_webp_quality,
        avif_quality=settings.media_avif_quality,
        avif_speed=settings.media_avif_speed,
    )


def wanted(
    made: set[tuple[int, str]], settings: Settings, formats: list[str], redo: bool
) -> Wanted | None:
    """What to render: every box of the formats asked for, or of those with one missing
    (`made`: the boxes and formats the file has)."""
    if not redo:
        formats = [
            f for f in formats if any((box, f) not in made for box in settings.thumbnail_sizes)
        ]
    if not formats or not settings.thumbnail_sizes:
        return None
    return Wanted(sorted(settings.thumbnail_sizes), formats)


@queue.handler(VARIANTS)
async def make_variants(
    session: AsyncSession, payload: dict[str, Any], context: JobContext
) -> None:
    settings = context.settings
    media = await session.get(MediaFile, payload["media_id"])
    if media is None or media.kind != "image" or media.mime_type not in PILLOW_FORMAT_OF:
        return  # deleted (or in the trash) since; or not an image
    made = await session.execute(
        select(MediaVariant.box, MediaVariant.format).where(MediaVariant.file_id == media.id)
    )
    formats: list[str] = payload.get("formats") or list(settings.media_variant_formats)
    plan = wanted({(box, name) for box, name in made}, settings, formats, bool(payload.get("redo")))
    if plan is None:
        return
    backend: Backend = "s3" if media.storage == "s3" else "local"
    storage = context.storage(backend)
    original, pillow_format = media.path, PILLOW_FORMAT_OF[media.mime_type]
    await end_read_transaction(session)  # nothing held while rendering
    rendered = await _render(context, storage, original, pillow_format, plan)
    if rendered is None:
        return
    try:
        stored = await _store(session, storage, original, rendered)
    finally:
        await asyncio.to_thread(close_all, rendered)
    await _add_rows(session, storage, payload["media_id"], backend, stored, context)


async def _render(
    context: JobContext, storage: Storage, original: str, pillow_format: str, plan: Wanted
) -> list[RenderedVariant] | None:
    settings = context.settings
    try:
        source = await storage.open(original)
    except MissingObject:
        logger.warning("media variants: the original %s is not in storage", original)
        return None
    try:
        return await context.images.run(
            render_variants,
            source,
            pillow_format,
            plan.boxes,
            plan.formats,
            settings.image_max_pixels,
            encoding(settings),
        )
    except InvalidImage as invalid:  # it was inspected at upload: only a changed file gets here
        logger.warning("media variants: %s cannot be rendered: %s", original, invalid.message)
        return None
    finally:
        await asyncio.to_thread(source.close)


@dataclass(frozen=True)
class StoredVariant:
    box: int
    format: str
    key: str
    width: int
    height: int
    size: int


async def _store(
    session: AsyncSession, storage: Storage, original: str, rendered: list[RenderedVariant]
) -> list[StoredVariant]:
    """Store all or none, under names never given before; removed unless the rows commit."""
    keys = [
        await repository.unused_name(
            session, naming.variant_key(original, each.box, each.format.name)
        )
        for each in rendered
    ]
    saved = await storage.save_all(
        [
            NewObject(key, each.file, each.format.mime_type)
            for key, each in zip(keys, rendered, strict=True)
        ]
    )

    async def remove_saved() -> None:
        await storage.delete(saved)

    on_failure(session, remove_saved)
    if saved != keys:  # the storage found a name taken that the names table never knew of
        await repository.record_names(session, [key for key in saved if key not in keys])
    return [
        StoredVariant(each.box, each.format.name, key, each.width, each.height, each.size)
        for key, each in zip(saved, rendered, strict=True)
    ]


async def _add_rows(
    session: AsyncSession,
    storage: Storage,
    media_id: int,
    backend: Backend,
    stored: list[StoredVariant],
    context: JobContext,
) -> None:
    """Replace the file's variants of these boxes and formats, if it is still there (and still
    where they were stored); then tell subscribers."""
    locked = await session.scalar(
        select(MediaFile.id)
        .where(MediaFile.id == media_id, MediaFile.storage == backend)
        .with_for_update(key_share=True)
    )
    if locked is None:  # deleted, or moved to another storage, while rendering
        await storage.delete([each.key for each in stored])
        return
    replaced = list(
        await session.scalars(
            delete(MediaVariant)
            .where(
                MediaVariant.file_id == media_id,
                MediaVariant.format.in_({each.format for each in stored}),
            )
            .returning(MediaVariant.path)
        )
    )

    async def remove_replaced() -> None:
        await storage.delete(replaced)

    after_commit(session, remove_replaced)
    session.add_all(
        MediaVariant(
            file_id=media_id,
            box=each.box,
            format=each.format,
            path=each.key,
            width=each.width,
            height=each.height,
            size=each.size,
        )
        for each in stored
    )
    await session.flush()

    urls = MediaUrls(storage, origin_outside_requests(context.settings))
    [body] = (await repository.load_media(session, [media_id], urls)).values()
    await outbox.record(session, "media.variants_ready", json.dumps(body))
    await public.announce(session, public.keys_changed("media", media_id))
