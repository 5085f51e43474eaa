"""`portfolio-api media migrate-storage --to s3`: copy the local files into the bucket.

Rows are taken in id order. A file's row is switched (`storage = 's3'`) in a transaction of its
own once the file, its thumbnails and its variants are in the bucket, so a run that stops resumes
where it stopped: switched rows are skipped, and a row copied halfway is copied again (the PUTs
replace). The local files stay unless `delete_local`; then each row's are removed once it is
switched, and so are the local copies of rows switched by earlier runs.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.common.commands import CommandError
from app.common.progress import Progress
from app.db import create_engine, create_sessionmaker
from app.media.storage import StorageError
from app.media.storage.local import LocalStorage
from app.media.storage.s3 import S3Storage
from app.media.variants import FORMATS
from app.models import MediaFile, MediaThumbnail, MediaVariant
from app.settings import Settings

BATCH = 100
SOURCE = "local"


@dataclass
class MigrationReport:
    target: str
    already: int = 0  # rows there before this run
    moved: int = 0
    objects: int = 0
    gone: int = 0  # rows deleted while their files were being copied
    missing: dict[int, list[str]] = field(default_factory=dict)  # row id: local files not found
    local_removed: int = 0

    def lines(self) -> list[str]:
        lines = [
            f"{self.moved} files moved to {self.target}"
            f" ({self.objects} objects with thumbnails and variants)",
            f"{self.already} files were already there",
        ]
        if self.gone:
            lines.append(f"{self.gone} files were deleted while being copied")
        if self.local_removed:
            lines.append(f"{self.local_removed} local files removed")
        return lines


@dataclass(frozen=True)
class _Row:
    id: int
    mime_type: str  # the original's and its thumbnails'
    keys: list[str]
    variant_types: dict[str, str] = field(default_factory=dict)  # a variant's key: its type

    def content_type(self, key: str) -> str:
        return self.variant_types.get(key, self.mime_type)


class _Migration:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        source: LocalStorage,
        target: S3Storage,
        report: MigrationReport,
    ) -> None:
        self.sessions = sessions
        self.source = source
        self.target = target
        self.report = report

    async def count(self) -> tuple[int, int]:
        """Rows still to move, rows already moved."""
        async with self.sessions() as session:
            counts = dict(
                (
                    await session.execute(
                        select(MediaFile.storage, func.count()).group_by(MediaFile.storage)
                    )
                ).all()
            )
        return counts.get(SOURCE, 0), counts.get(self.target.name, 0)

    async def rows(self, storage: str, after: int) -> list[_Row]:
        async with self.sessions() as session:
            files = (
                await session.execute(
                    select(MediaFile.id, MediaFile.path, MediaFile.mime_type)
                    .where(MediaFile.storage == storage, MediaFile.id > after)
                    .order_by(MediaFile.id)
                    .limit(BATCH)
                )
            ).all()
            thumbnails = (
                await session.execute(
                    select(MediaThumbnail.file_id, MediaThumbnail.path)
                    .where(MediaThumbnail.file_id.in_([file.id for file in files]))
                    .order_by(MediaThumbnail.file_id, MediaThumbnail.box)
                )
            ).all()
            variants = (
                await session.execute(
                    select(MediaVariant.file_id, MediaVariant.path, MediaVariant.format)
                    .where(MediaVariant.file_id.in_([file.id for file in files]))
                    .order_by(MediaVariant.file_id, MediaVariant.box, MediaVariant.format)
                )
            ).all()
        keys: dict[int, list[str]] = {file.id: [file.path] for file in files}
        variant_types: dict[int, dict[str, str]] = {file.id: {} for file in files}
        for thumbnail in thumbnails:
            keys[thumbnail.file_id].append(thumbnail.path)
        for variant in variants:
            keys[variant.file_id].append(variant.path)
            variant_types[variant.file_id][variant.path] = FORMATS[variant.format].mime_type
        return [
            _Row(file.id, file.mime_type, keys[file.id], variant_types[file.id]) for file in files
        ]

    def _local_files(self, keys: Sequence[str]) -> list[str]:
        return [key for key in keys if self.source.path(key).is_file()]

    async def copy(self, key: str, content_type: str) -> None:
        file = await asyncio.to_thread(self.source.path(key).open, "rb")
        try:
            await self.target.put(key, file, content_type)
        finally:
            await asyncio.to_thread(file.close)

    async def move(self, row: _Row, delete_local: bool) -> None:
        present = await asyncio.to_thread(self._local_files, row.keys)
        if len(present) < len(row.keys):
            self.report.missing[row.id] = [key for key in row.keys if key not in present]
            return
        copies = await asyncio.gather(
            *(self.copy(key, row.content_type(key)) for key in row.keys), return_exceptions=True
        )
        for failure in copies:
            if isinstance(failure, BaseException):
                raise failure
        async with self.sessions() as session:
            switched = await session.execute(
                update(MediaFile)
                .where(MediaFile.id == row.id, MediaFile.storage == SOURCE)
                .values(storage=self.target.name)
            )
            await session.commit()
        if not getattr(switched, "rowcount", 0):  # deleted meanwhile: its copies are orphans
            self.report.gone += 1
            await self.target.delete(row.keys)
            return
        self.report.moved += 1
        self.report.objects += len(row.keys)
        if delete_local:
            await self.remove_local(row.keys)

    async def remove_local(self, keys: list[str]) -> None:
        present = await asyncio.to_thread(self._local_files, keys)
        await self.source.delete(present)
        self.report.local_removed += len(present)


async def migrate_storage(
    settings: Settings, *, delete_local: bool = False, progress_stream: TextIO | None = None
) -> MigrationReport:
    """Copy every local file (and its thumbnails) to S3 and switch its row over."""
    source = LocalStorage(settings.media_root, settings.media_url, settings.media_base_url)
    try:
        target = S3Storage.from_settings(settings)
    except StorageError as error:
        raise CommandError(str(error)) from error
    engine = create_engine(settings)
    report = MigrationReport(target.name)
    migration = _Migration(create_sessionmaker(engine), source, target, report)
    progress: Progress | None = None
    try:
        pending, report.already = await migration.count()
        if progress_stream is not None and pending:
            progress = Progress(f"copying media to {target.name}", pending, progress_stream)
        after = 0
        while rows := await migration.rows(SOURCE, after):
            for row in rows:
                await migration.move(row, delete_local)
                after = row.id
                if progress is not None:
                    progress.advance()
        if delete_local:  # rows switched by earlier runs
            after = 0
            while rows := await migration.rows(target.name, after):
                for row in rows:
                    await migration.remove_local(row.keys)
                    after = row.id
    except StorageError as error:
        raise CommandError(f"{error}; what was copied stays: run the command again") from error
    finally:
        if progress is not None:
            progress.close()
        await target.aclose()
        await engine.dispose()
    return report
