"""Media rules and writes: uploads (sniff, inspect and thumbnail off the event loop; store; leave
nothing behind when anything fails), the list, a file or 404, changes and deletions."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import FieldChanges
from app.common.listing import ListQuery
from app.common.pagination import PageRequest
from app.common.workers import BoundedPool, Busy, cpu_pool
from app.db import after_commit, on_failure
from app.errors import (
    NotFound,
    PayloadTooLarge,
    ServerBusy,
    StorageUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.media import naming, repository
from app.media.images import InvalidImage, ProcessedImage, process_image
from app.media.read_model import MediaType, focal_point
from app.media.serialize import UrlFor
from app.media.sniffing import HEAD_BYTES, ActiveContent, Sniffed, sniff
from app.media.storage import NewObject, Storage, StorageError
from app.media.variant_jobs import request_variants
from app.models import MediaFile, MediaThumbnail
from app.settings import Settings
from app.trash.bin import move_to_trash

logger = logging.getLogger("app.media")


# Image work is CPU-bound and releases the GIL: one thread per usable CPU, never the event loop.
# Each decode may take hundreds of MiB, so no more run at once; a few uploads wait (spooled to
# disk, not in memory), and beyond them an upload is refused at once with a 503.
IMAGE_QUEUE_PER_THREAD = 16


@dataclass
class Upload:
    file: IO[bytes]
    filename: str | None
    size: int
    name: str | None
    alt: str | None


def image_pool(settings: Settings) -> BoundedPool:
    """The image threads of a process (the app's lifespan, or a command, opens and shuts it)."""
    return cpu_pool(
        "image", queue_per_thread=IMAGE_QUEUE_PER_THREAD, priority=settings.cpu_work_priority
    )


async def _run_in_image_thread(images: BoundedPool, function: Any, *args: Any) -> Any:
    try:
        return await images.run(function, *args)
    except Busy:
        raise ServerBusy() from None


def _read_head(file: IO[bytes]) -> bytes:
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    return head


async def classify(upload: Upload, settings: Settings) -> Sniffed:
    if upload.size == 0:
        raise ValidationFailed.field("file", "The submitted file is empty.")
    if upload.size > settings.upload_max_bytes:
        raise PayloadTooLarge(
            f"File too large: {upload.size} bytes, the limit is {settings.upload_max_bytes}."
        )
    head = await asyncio.to_thread(_read_head, upload.file)
    try:
        return sniff(head, naming.client_extension(upload.filename))
    except ActiveContent as refused:
        raise UnsupportedMediaType(refused.mime_type, for_upload=True) from refused


async def inspect_image(
    images: BoundedPool, upload: Upload, sniffed: Sniffed, settings: Settings
) -> ProcessedImage:
    assert sniffed.pillow_format is not None
    try:
        processed: ProcessedImage = await _run_in_image_thread(
            images,
            process_image,
            upload.file,
            sniffed.pillow_format,
            settings.thumbnail_sizes,
            settings.image_max_pixels,
        )
    except InvalidImage as invalid:
        raise ValidationFailed.field("file", invalid.message) from invalid
    return processed


@asynccontextmanager
async def _storage_failures_are_503() -> AsyncIterator[None]:
    try:
        yield
    except StorageError as error:
        logger.warning("media storage failed: %s", error)
        raise StorageUnavailable() from error


@dataclass
class StoredUpload:
    """An upload's file and thumbnails in storage: the columns of its row and its thumbnails'
    rows (removed from storage again if the transaction does not commit)."""

    columns: dict[str, Any]
    thumbnails: list[MediaThumbnail]


async def store_upload(
    session: AsyncSession,
    storage: Storage,
    images: BoundedPool,
    settings: Settings,
    upload: Upload,
    now: datetime,
    *,
    key: str | None = None,
) -> StoredUpload:
    """Sniff, inspect and store the upload and its thumbnails (images off the event loop),
    under `key` if no upload has used it yet, else under a dated name made of its file name."""
    sniffed = await classify(upload, settings)
    if sniffed.kind == "image":
        image = await inspect_image(images, upload, sniffed, settings)
    else:
        image = None
    saved: list[str] = []

    async def remove_saved() -> None:
        await storage.delete(saved)

    on_failure(session, remove_saved)
    if key is None:
        day = now.astimezone(settings.zone).date()
        key = naming.original_key(day, naming.safe_stem(upload.filename), sniffed.extension)
    elif naming.client_extension(key) != sniffed.extension:
        # A given key keeps its path but not an extension the content belies: the file is
        # served with the type its name says (a text file named .html would be a page).
        key = str(PurePosixPath(key).with_suffix(f".{sniffed.extension}"))
    content: bytes | IO[bytes] = upload.file
    if image is not None and image.cleaned_original is not None:
        content = image.cleaned_original
    key = await repository.unused_name(session, key)
    async with _storage_failures_are_503():
        stored_key = await storage.save(key, content, sniffed.mime_type)
    saved.append(stored_key)
    if stored_key != key:  # a file the names table never knew of (stored before it existed)
        await repository.record_names(session, [stored_key])
    columns: dict[str, Any] = {
        "kind": sniffed.kind,
        "path": stored_key,
        "storage": storage.name,
        "mime_type": sniffed.mime_type,
        "size": len(content) if isinstance(content, bytes) else upload.size,
        "width": None,
        "height": None,
        "mode": None,
        "placeholder": None,
    }
    if image is None:
        return StoredUpload(columns, [])
    columns.update(
        width=image.width, height=image.height, mode=image.mode, placeholder=image.placeholder
    )
    try:
        async with _storage_failures_are_503():
            thumbnails = await _store_thumbnails(
                session, storage, image, stored_key, sniffed, saved
            )
    finally:
        image.close()
    return StoredUpload(columns, thumbnails)


async def create_media(
    session: AsyncSession,
    storage: Storage,
    images: BoundedPool,
    settings: Settings,
    upload: Upload,
    now: datetime,
    *,
    key: str | None = None,
    media_id: int | None = None,
) -> MediaFile:
    """Store the upload and its thumbnails, add the rows (with `media_id`, if given), and undo
    the files if anything fails; images are inspected and thumbnailed in `images`."""
    stored = await store_upload(session, storage, images, settings, upload, now, key=key)
    media = MediaFile(
        id=media_id,
        name=upload.name or naming.display_name(upload.filename),
        alt=upload.alt or "",
        created_at=now,
        updated_at=now,
        thumbnails=stored.thumbnails,
        variants=[],  # made by a job once this commits
        **stored.columns,
    )
    session.add(media)
    await session.flush()
    if media.kind == "image" and settings.media_variant_formats:
        await request_variants(session, media.id)
    return media


async def replace_file(
    session: AsyncSession,
    storage: Storage,
    images: BoundedPool,
    settings: Settings,
    media: MediaFile,
    upload: Upload,
    now: datetime,
    *,
    key: str | None = None,
) -> None:
    """Give the (locked, loaded) media file new content: new thumbnails, variants made again by
    a job, and the old files removed once this commits."""
    old_keys = [
        media.path,
        *(thumbnail.path for thumbnail in media.thumbnails),
        *(variant.path for variant in media.variants),
    ]
    stored = await store_upload(session, storage, images, settings, upload, now, key=key)
    media.thumbnails.clear()
    media.variants.clear()
    await session.flush()  # the old renditions' rows go before the new take their boxes
    for column, value in stored.columns.items():
        setattr(media, column, value)
    media.thumbnails = stored.thumbnails
    media.updated_at = now
    await session.flush()

    async def remove_old() -> None:
        await storage.delete(old_keys)

    after_commit(session, remove_old)
    if media.kind == "image" and settings.media_variant_formats:
        await request_variants(session, media.id)


async def _store_thumbnails(
    session: AsyncSession,
    storage: Storage,
    image: ProcessedImage,
    original: str,
    sniffed: Sniffed,
    saved: list[str],
) -> list[MediaThumbnail]:
    """All or none; their keys join `saved`, which is removed if the rows do not commit."""
    thumbnails = sorted(image.thumbnails, key=lambda thumbnail: thumbnail.box)
    keys = await storage.save_all(
        [
            NewObject(naming.thumbnail_key(original, t.box), t.file, sniffed.mime_type)
            for t in thumbnails
        ]
    )
    saved.extend(keys)
    await repository.record_names(session, keys)
    return [
        MediaThumbnail(
            box=thumbnail.box,
            path=key,
            width=thumbnail.width,
            height=thumbnail.height,
            size=thumbnail.size,
        )
        for thumbnail, key in zip(thumbnails, keys, strict=True)
    ]


async def list_page(
    session: AsyncSession,
    page: PageRequest,
    query: ListQuery,
    kind: MediaType | None,
    url_for: UrlFor,
) -> tuple[int, list[dict[str, Any]]]:
    """The total and one page of file objects, their thumbnails in one more query."""
    count, rows = await repository.list_page(session, page, query, kind)
    return count, await repository.payloads_for_rows(session, rows, url_for)


async def retrieve(session: AsyncSession, media_id: int, url_for: UrlFor) -> dict[str, Any]:
    """The file object (with its thumbnails and variants, in one query), or 404."""
    found = await repository.load_media(session, [media_id], url_for)
    if media_id not in found:
        raise NotFound()
    return found[media_id]


async def get_media(session: AsyncSession, media_id: int, *, for_update: bool = False) -> MediaFile:
    """The file with its thumbnails, or 404. A write passes `for_update`: concurrent writes to
    the file wait their turn (see `crud.get_or_404`)."""
    media = await repository.get_with_renditions(session, media_id, for_update=for_update)
    if media is None:
        raise NotFound()
    return media


async def update_media(
    session: AsyncSession, media: MediaFile, changes: dict[str, Any]
) -> FieldChanges:
    """Rename the (locked) file, change its alt text or (an image's) focal point."""
    if "focal_point" not in changes:
        return await repository.update(session, media, changes)
    if media.kind != "image":
        raise ValidationFailed.field("focal_point", "Only images have a focal point.")
    wanted = changes.pop("focal_point")
    before = focal_point(media)
    media.focal_x, media.focal_y = wanted if wanted is not None else (None, None)
    changed = await repository.update(session, media, changes)
    after = focal_point(media)
    if after != before:
        changed["focal_point"] = (before, after)
    return changed


async def delete_media(session: AsyncSession, media: MediaFile) -> None:
    """Into the trash: references to it read as empty until it is restored; its files (the
    thumbnails and variants too) stay until it is purged."""
    keys = [
        media.path,
        *(thumbnail.path for thumbnail in media.thumbnails),
        *(variant.path for variant in media.variants),
    ]
    await move_to_trash(session, "media", media.id, files=keys)
