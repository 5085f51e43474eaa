"""Writing the original's objects here: with their ids, one transaction each.

Each record is classified first against what earlier runs imported (`imported_object`):
- absent here: created (unless its id is in the trash, or a unique value is taken: a conflict);
- here and imported from the original: unchanged when its fingerprint is the same, else updated;
- here but not imported (an object of this service's own with the same id): a conflict.
A dry run classifies (unique values included) and writes nothing. Media files are downloaded a
few at a time and stored as an upload is (sniffed, GPS removed, thumbnails made afresh, variants
queued); a media row is committed with its files, so an interrupted run downloads none again.
"""

import asyncio
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from app.common.references import ErrorCollector, check_unique
from app.common.workers import BoundedPool
from app.db import unit_of_work
from app.errors import APIError, NotFound
from app.events import outbox as events
from app.history import recorder as history
from app.importer.client import DownloadFailed, OriginalClient
from app.importer.ours import body_of
from app.importer.records import PARENT, Record, Resolved
from app.importer.report import ImportProgress, ImportReport
from app.media.dependencies import MediaUrls
from app.media.service import Upload, create_media, delete_media, get_media, replace_file
from app.media.storage import Storage
from app.models import (
    Employer,
    ImportedObject,
    MediaFile,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    TrashItem,
    portfolio_images,
    portfolio_tags,
)
from app.models.base import utcnow
from app.settings import Settings
from app.trash.bin import move_to_trash

MODELS: dict[str, Any] = {
    "media": MediaFile,
    "employer": Employer,
    "tag": Tag,
    "portfolio": Portfolio,
    "link": PortfolioLink,
    "meta": PortfolioMeta,
}
SETS = {"tags": (portfolio_tags, "tag_id"), "images": (portfolio_images, "media_id")}
PRUNE_ORDER = ("link", "meta", "portfolio", "tag", "employer", "media")
SAFE_PART = re.compile(r"[\w-][\w.-]{0,199}")  # no `.`, `..` or hidden names
IN_MEMORY_BYTES = 1024 * 1024  # a download larger than this is spooled to a temporary file


@dataclass
class Options:
    source: str
    dry_run: bool = False
    files: bool = True
    emit_events: bool = False
    prune: bool = False


class Conflict(Exception):
    pass


def describe(error: Exception) -> str:
    """One line for an object's failure."""
    if isinstance(error, APIError):
        body = error.body()
        if isinstance(body, dict) and "detail" not in body:
            return "; ".join(f"{field}: {' '.join(map(str, m))}" for field, m in body.items())
        return str(error.detail)
    if isinstance(error, DBAPIError):
        return str(error.orig).splitlines()[0]
    return str(error)


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


class Writer:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        images: BoundedPool,
        client: OriginalClient,
        report: ImportReport,
        progress: ImportProgress,
        options: Options,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.storage = storage
        self.images = images
        self.client = client
        self.report = report
        self.progress = progress
        self.options = options
        self.url_for = MediaUrls(storage, settings.public_base_url or "http://127.0.0.1:8000")
        self.known: dict[tuple[str, int], ImportedObject] = {}
        self.present: dict[str, set[int]] = {}
        self.trashed: set[tuple[str, int]] = set()
        # Per kind, the ids here that are the original's: references resolve to these only.
        self.imported: dict[str, set[int]] = {}
        self.downloads = asyncio.Semaphore(settings.import_downloads)

    async def load_state(self) -> None:
        """What earlier runs imported, which ids are taken here, and which are in the trash."""
        async with self.sessions() as session:
            for row in await session.scalars(select(ImportedObject)):
                self.known[(row.kind, row.object_id)] = row
            for kind, model in MODELS.items():
                self.present[kind] = set(await session.scalars(select(model.id)))
            trash = await session.execute(select(TrashItem.kind, TrashItem.object_id))
            self.trashed = {(kind, object_id) for kind, object_id in trash}
        for kind in MODELS:
            self.imported[kind] = {
                pk for (k, pk) in self.known if k == kind and pk in self.present[kind]
            }

    def downloads_needed(self, record: Record) -> bool:
        """Whether writing this media record takes a download (for the progress bar's total)."""
        known = self.known.get(("media", record.id))
        if record.id in self.present["media"]:
            return known is not None and known.original_file != record.original_file
        return ("media", record.id) not in self.trashed

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with unit_of_work(self.sessions) as session:
            events.act_via(session, "import")
            yield session

    # Classification

    def _classify(self, resolved: Resolved) -> str | None:
        """ "created", "updated", "unchanged", or None after reporting a conflict."""
        record = resolved.record
        key = (record.kind, record.id)
        known = self.known.get(key)
        if record.id in self.present[record.kind]:
            if known is None:
                self._problem(
                    "conflicts", record, f"id {record.id} is taken here by another {record.kind}"
                )
                return None
            return "unchanged" if known.fingerprint == resolved.fingerprint() else "updated"
        if key in self.trashed:
            self._problem("conflicts", record, "it is in the trash here: restore or purge it first")
            return None
        return "created"

    def _problem(self, outcome: str, record: Record, why: str) -> None:
        self.report.problem(outcome, record.kind, record.id, record.label, why)

    def _done(self, outcome: str, record: Record) -> None:
        self.report.count(outcome, record.kind)
        self.imported[record.kind].add(record.id)
        self.present[record.kind].add(record.id)
        self.progress.advance(objects=1)

    # Rows

    async def put(self, record: Record) -> None:
        """Write one record that is not a media file."""
        resolved = record.resolved(self.imported)
        if PARENT in record.references and resolved.references[PARENT] is None:
            self._problem("failed", record, f"its portfolio {record.parent} was not imported")
            self.progress.advance(objects=1)
            return
        outcome = self._classify(resolved)
        if outcome == "unchanged":
            self._done(outcome, record)
            return
        if outcome is not None:
            try:
                async with self.transaction() as session:
                    await self._check_unique(session, resolved)
                    if not self.options.dry_run:
                        await self._write_row(session, resolved, created=outcome == "created")
            except Conflict as conflict:
                self._problem("conflicts", record, str(conflict))
            except (APIError, DBAPIError) as error:
                self._problem("failed", record, describe(error))
            else:
                self._done(outcome, record)
                return
        self.progress.advance(objects=1)

    async def _check_unique(self, session: AsyncSession, resolved: Resolved) -> None:
        record, values = resolved.record, resolved.values
        errors = ErrorCollector()
        model = MODELS[record.kind]
        if record.kind == "portfolio":
            for column in (Portfolio.title, Portfolio.slug):
                await check_unique(session, errors, column, values[column.key], except_id=record.id)
        elif record.kind in ("employer", "tag"):
            await check_unique(session, errors, model.name, values["name"], except_id=record.id)
        elif record.kind == "meta":
            parent = values[PARENT]
            await check_unique(
                session,
                errors,
                PortfolioMeta.key,
                values["key"],
                except_id=record.id,
                scope=PortfolioMeta.portfolio_id == parent,
                scope_key=parent,
            )
        if errors.errors:
            raise Conflict(
                "; ".join(
                    f"{field}: {' '.join(messages)}" for field, messages in errors.errors.items()
                )
            )

    async def _write_row(self, session: AsyncSession, resolved: Resolved, *, created: bool) -> None:
        record = resolved.record
        model = MODELS[record.kind]
        now = utcnow()
        if created:
            row = model(id=record.id, **resolved.values)
            row.created_at = record.created_at or now
            row.updated_at = record.updated_at or row.created_at
            session.add(row)
            changes: dict[str, tuple[Any, Any]] = {
                field: (None, value) for field, value in resolved.values.items()
            }
        else:
            row = await _locked(session, model, record.id)
            changes = _assign(row, resolved.values)
            _stamp(row, record, now)
        await session.flush()
        for name, ids in resolved.sets.items():
            before = await self._replace_set(session, name, record.id, ids)
            if before != ids:
                changes[name] = (before if not created else None, ids)
        await self._remember(session, resolved)
        await self._record(session, record, changes, created=created)

    async def _replace_set(
        self, session: AsyncSession, name: str, portfolio_id: int, ids: list[int]
    ) -> list[int]:
        table, column = SETS[name]
        before = list(
            await session.scalars(
                select(table.c[column])
                .where(table.c.portfolio_id == portfolio_id)
                .order_by(table.c.position)
            )
        )
        if before != ids:
            await session.execute(delete(table).where(table.c.portfolio_id == portfolio_id))
            if ids:
                await session.execute(
                    insert(table),
                    [
                        {"portfolio_id": portfolio_id, column: pk, "position": n}
                        for n, pk in enumerate(ids)
                    ],
                )
        return before

    async def _remember(self, session: AsyncSession, resolved: Resolved) -> None:
        record = resolved.record
        imported = ImportedObject(
            kind=record.kind,
            object_id=record.id,
            source=self.options.source,
            fingerprint=resolved.fingerprint(),
            original_file=resolved.original_file,
            imported_at=utcnow(),
        )
        await session.merge(imported)
        self.known[(record.kind, record.id)] = imported

    async def _record(
        self,
        session: AsyncSession,
        record: Record,
        changes: dict[str, tuple[Any, Any]],
        *,
        created: bool,
    ) -> None:
        """The history entry `imported` (via import); with `--emit-events`, the object's event."""
        await history.record(session, None, "import", "imported", record.kind, record.id, changes)
        if self.options.emit_events:
            body = await body_of(session, record.kind, record.id, self.url_for)
            action = "created" if created else "updated"
            await events.record(
                session,
                f"{record.kind}.{action}",
                body or {"id": record.id},
                portfolio_id=record.parent,
                changed=None if created else list(changes),
            )

    # Media

    async def put_media(self, record: Record) -> None:
        async with self.downloads:
            await self._put_media(record)

    async def _put_media(self, record: Record) -> None:
        assert record.file is not None
        resolved = record.resolved(self.imported)
        outcome = self._classify(resolved)
        if outcome is None or outcome == "unchanged":
            if outcome:
                self._done(outcome, record)
            else:
                self.progress.advance(objects=1)
            return
        known = self.known.get((record.kind, record.id))
        new_file = (
            outcome == "created" or known is None or known.original_file != resolved.original_file
        )
        size = record.file.size
        if new_file and size > self.settings.upload_max_bytes:
            self._problem(
                "failed",
                record,
                f"{size} bytes, over UPLOAD_MAX_BYTES ({self.settings.upload_max_bytes})",
            )
            self.progress.advance(objects=1)
            return
        if self.options.dry_run:
            if new_file:
                self.report.files += 1
                self.report.bytes += size
            self._done(outcome, record)
            return
        try:
            if new_file:
                await self._store_file(resolved, created=outcome == "created")
            else:
                async with self.transaction() as session:
                    await self._rename_media(session, resolved)
        except (APIError, DBAPIError, DownloadFailed) as error:
            self._problem("failed", record, describe(error))
            self.progress.advance(objects=1)
            return
        self._done(outcome, record)

    async def _store_file(self, resolved: Resolved, *, created: bool) -> None:
        record = resolved.record
        assert record.file is not None
        with tempfile.SpooledTemporaryFile(IN_MEMORY_BYTES) as buffer:
            size = await self.client.download(record.file.f, buffer, record.file.size)
            self.report.files += 1
            self.report.bytes += size
            self.progress.advance(received=size)
            filename = PurePosixPath(record.file.storage_key).name
            upload = Upload(buffer, filename, size, record.file.name, record.file.alt)
            now = utcnow()
            async with self.transaction() as session:
                if created:
                    media = await create_media(
                        session, self.storage, self.images, self.settings, upload,
                        record.created_at or now, key=storage_key(record), media_id=record.id,
                    )  # fmt: skip
                    changes: dict[str, tuple[Any, Any]] = {
                        "name": (None, media.name), "file": (None, media.path)
                    }  # fmt: skip
                else:
                    media = await get_media(session, record.id, for_update=True)
                    old_path = media.path
                    await replace_file(
                        session, self.storage, self.images, self.settings, media, upload, now,
                        key=storage_key(record),
                    )  # fmt: skip
                    changes = {"file": (old_path, media.path), **_assign(media, resolved.values)}
                _stamp(media, record, media.created_at if created else now)
                await session.flush()
                await self._remember(session, resolved)
                await self._record(session, record, changes, created=created)

    async def _rename_media(self, session: AsyncSession, resolved: Resolved) -> None:
        record = resolved.record
        media = await _locked(session, MediaFile, record.id)
        changes = _assign(media, resolved.values)
        _stamp(media, record, utcnow())
        await session.flush()
        await self._remember(session, resolved)
        await self._record(session, record, changes, created=False)

    # What the original no longer has

    def find_stale(self, on_original: dict[str, set[int]]) -> None:
        """Objects imported from this source earlier that the original no longer shows."""
        for kind in PRUNE_ORDER:
            stale = sorted(
                pk
                for (k, pk), row in self.known.items()
                if k == kind
                and pk not in on_original[kind]
                and pk in self.present[kind]
                and row.source == self.options.source
            )
            if stale:
                self.report.stale[kind] = stale

    async def prune(self) -> None:
        """Move the stale objects to the trash (children before parents)."""
        for kind in PRUNE_ORDER:
            for object_id in self.report.stale.get(kind, []):
                try:
                    async with self.transaction() as session:
                        await self._trash(session, kind, object_id)
                except APIError:
                    continue  # already gone with its portfolio (a link, a meta item)
                self.report.pruned[kind] += 1

    async def _trash(self, session: AsyncSession, kind: str, object_id: int) -> None:
        if kind == "media":
            await delete_media(session, await get_media(session, object_id, for_update=True))
        else:
            await move_to_trash(session, kind, object_id)
        await session.execute(
            delete(ImportedObject).where(
                ImportedObject.kind == kind, ImportedObject.object_id == object_id
            )
        )
        await history.record(session, None, "import", "deleted", kind, object_id, {})
        if self.options.emit_events:
            await events.record(session, f"{kind}.deleted", {"id": object_id})


async def _locked(session: AsyncSession, model: Any, object_id: int) -> Any:
    row = await session.get(model, object_id, with_for_update=True)
    if row is None:  # gone since the run began
        raise NotFound()
    return row


def _stamp(row: Any, record: Record, fallback: datetime) -> None:
    """The timestamps the original shows (`updated_at` else `fallback`), written even when equal
    to the row's (an unchanged value would leave the column to its `onupdate`, the clock)."""
    if record.created_at is not None:
        row.created_at = record.created_at
    row.updated_at = record.updated_at or fallback
    flag_modified(row, "updated_at")


def _assign(row: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set the values that differ; their changes, `{field: (old, new)}`."""
    changes = {}
    for field, value in values.items():
        old = getattr(row, field)
        if old != value:
            changes[field] = (old, value)
            setattr(row, field, value)
    return changes
