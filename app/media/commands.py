"""`portfolio-api media gc`: find (and remove) stored files that no row or trash item points to."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, union_all

from app.common.commands import CommandError
from app.db import standalone_session
from app.media.naming import ROOT_FOLDER
from app.media.storage import StorageError, create_storage
from app.models import MediaFile, MediaThumbnail, MediaVariant, TrashItem
from app.settings import get_settings


async def collect_garbage(*, delete: bool, min_age: timedelta) -> list[str]:
    """Orphaned keys, oldest first. Younger files are skipped: an upload may be committing.

    Every row counts, whichever backend holds it: a copy made by an unfinished storage
    migration is kept for the run that resumes it."""
    async with standalone_session() as session:
        referenced = union_all(
            select(MediaFile.path), select(MediaThumbnail.path), select(MediaVariant.path)
        )
        known = set((await session.execute(referenced)).scalars())
        # A trashed file keeps its bytes until it is purged: restorable, so not garbage.
        for files in await session.scalars(
            select(TrashItem.files).where(TrashItem.kind == "media")
        ):
            known.update(files)
    cutoff = datetime.now(UTC) - min_age
    try:
        storage = create_storage(get_settings())
        try:
            orphans = [
                stored
                async for stored in storage.list_objects(ROOT_FOLDER)
                if stored.key not in known and stored.modified_at < cutoff
            ]
            keys = [stored.key for stored in sorted(orphans, key=lambda stored: stored.modified_at)]
            if delete and keys:
                await storage.delete(keys)
        finally:
            await storage.aclose()
    except StorageError as error:
        raise CommandError(str(error)) from error
    return keys
