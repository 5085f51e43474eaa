"""Media records: each file downloaded (a few at once) and stored as an upload is (sniffed by
content, size-limited, GPS removed, thumbnails made afresh, variants queued), its row committed
with it, so that an interrupted run, run again, downloads none of what it stored."""

import asyncio
import re
import tempfile
from pathlib import PurePosixPath

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.common.workers import BoundedPool
from app.errors import APIError
from app.importer.client import DownloadFailed, OriginalClient
from app.importer.ledger import Changes, Ledger
from app.importer.records import Record, Resolved
from app.importer.report import ImportProgress, ImportReport
from app.importer.writer import Options, Writer, assign, describe, locked, stamp
from app.media.service import Upload, create_media, get_media, replace_file
from app.media.storage import Storage, StorageError
from app.models import MediaFile
from app.models.base import utcnow
from app.settings import Settings

SAFE_PART = re.compile(r"[\w-][\w.-]{0,199}")  # no `.`, `..` or hidden names
IN_MEMORY_BYTES = 1024 * 1024  # a larger download is spooled to a temporary file


def storage_key(record: Record) -> str | None:
    """The original's own key (its files keep their URLs' paths), unless it is not a plain
    relative path of safe names: a hostile original does not choose where files go."""
    assert record.file is not None
    key = record.file.storage_key
    parts = PurePosixPath(key).parts
    safe = (
        0 < len(parts) <= 12
        and len(key) <= 400
        and not key.startswith("/")
        and all(SAFE_PART.fullmatch(part) for part in parts)
    )
    return key if safe else None


class FileWriter(Writer):
    """The writer that also brings files in."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        report: ImportReport,
        progress: ImportProgress,
        options: Options,
        *,
        client: OriginalClient,
        images: BoundedPool,
    ) -> None:
        super().__init__(settings, sessions, storage, report, progress, options)
        self.client = client
        self.image_pool = images
        self.downloads = asyncio.Semaphore(settings.import_downloads)

    def downloads_needed(self, record: Record) -> bool:
        """Whether writing this media record takes a download (for the progress bar's total)."""
        known = self.known.get(("media", record.id))
        if record.id in self.present["media"]:
            return known is not None and known.original_file != record.original_file
        return ("media", record.id) not in self.trashed

    async def put_media(self, record: Record) -> None:
        async with self.downloads:
            ledger = Ledger(self.options.source)
            try:
                await self._put_media(record, ledger)
            except (APIError, SQLAlchemyError, DownloadFailed, StorageError, OSError) as error:
                ledger = Ledger(self.options.source)
                ledger.problem("failed", record, describe(error))
            self.apply(ledger)

    async def _put_media(self, record: Record, ledger: Ledger) -> None:
        assert record.file is not None
        resolved = record.resolved(self.imported)
        outcome = self.classify(resolved, ledger)
        if outcome is None or outcome == "unchanged":
            if outcome:
                ledger.done(outcome, record)
            return
        if not self.downloads_needed(record):
            await self._rename(resolved, ledger)
            return
        size, limit = record.file.size, self.settings.upload_max_bytes
        if size > limit:
            ledger.problem("failed", record, f"{size} bytes, over UPLOAD_MAX_BYTES ({limit})")
        elif self.options.dry_run:
            self.report.files += 1
            self.report.bytes += size
            self._is_image(record.id, record.file.type == "image")
            ledger.done(outcome, record)
        else:
            await self._store(resolved, ledger, created=outcome == "created")

    async def _store(self, resolved: Resolved, ledger: Ledger, *, created: bool) -> None:
        """Download the file, then store it with its thumbnails and write its row."""
        record = resolved.record
        assert record.file is not None
        with tempfile.SpooledTemporaryFile(IN_MEMORY_BYTES) as buffer:
            size = await self.client.download(record.file.f, buffer, record.file.size)
            self.report.files += 1
            self.report.bytes += size
            self.progress.advance(received=size)
            name = PurePosixPath(record.file.storage_key).name
            upload = Upload(buffer, name, size, record.file.name, record.file.alt)
            async with self.transaction(ledger) as session:
                if created:
                    changes = await self._create(session, record, upload)
                else:
                    changes = await self._replace(session, resolved, upload)
                ledger.imported(resolved, changes, "created" if created else "updated")
                await self.emit(session, record, changes, created=created)

    async def _create(self, session: AsyncSession, record: Record, upload: Upload) -> Changes:
        now = record.created_at or utcnow()
        media = await create_media(
            session, self.storage, self.image_pool, self.settings, upload, now,
            key=storage_key(record), media_id=record.id,
        )  # fmt: skip
        stamp(media, record, media.created_at)
        await session.flush()
        self._is_image(media.id, media.kind == "image")
        return {"name": (None, media.name), "alt": (None, media.alt), "file": (None, media.path)}

    async def _replace(self, session: AsyncSession, resolved: Resolved, upload: Upload) -> Changes:
        """New content for a file the original changed; its old files go once this commits."""
        record, now = resolved.record, utcnow()
        media = await get_media(session, record.id, for_update=True)
        before = media.path
        await replace_file(
            session, self.storage, self.image_pool, self.settings, media, upload, now,
            key=storage_key(record),
        )  # fmt: skip
        changes = {"file": (before, media.path), **assign(media, resolved.values)}
        stamp(media, record, now)
        await session.flush()
        self._is_image(media.id, media.kind == "image")
        return changes

    def _is_image(self, media_id: int, image: bool) -> None:
        """What the file is here, for the references that need an image (counted once the
        file's transaction commits, with the ledger)."""
        if image:
            self.image_ids.add(media_id)
        else:
            self.image_ids.discard(media_id)

    async def _rename(self, resolved: Resolved, ledger: Ledger) -> None:
        """The same file under another name or alt text: no download."""
        record = resolved.record
        if self.options.dry_run:
            ledger.done("updated", record)
            return
        async with self.transaction(ledger) as session:
            media = await locked(session, MediaFile, record.id)
            changes = assign(media, resolved.values)
            stamp(media, record, utcnow())
            await session.flush()
            ledger.imported(resolved, changes, "updated")
            await self.emit(session, record, changes, created=False)
