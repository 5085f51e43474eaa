"""Writing the original's objects here, with their ids.

Each record is classified first against what earlier runs imported (`imported_object`):
- absent here: created (unless its id is in the trash, or a unique value is taken: a conflict);
- here and imported from the original: unchanged when its fingerprint is the same, else updated;
- here but not imported (an object of this service's own with the same id): a conflict.
A dry run classifies (unique values included) and writes nothing.

Rows are written `ROWS_PER_TRANSACTION` to a transaction. When one fails (a value PostgreSQL
refuses, say), the batch is undone and written again with each row in a savepoint of its own,
so that only the failing one is left out. Media files are written by `app.importer.files`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from app.common.references import ErrorCollector, check_unique
from app.db import unit_of_work
from app.errors import APIError, NotFound
from app.events import outbox as events
from app.history import recorder as history
from app.importer.ledger import Changes, Ledger
from app.importer.ours import body_of
from app.importer.records import IMAGE, PARENT, Record, Resolved
from app.importer.report import ImportProgress, ImportReport
from app.media.dependencies import MediaUrls
from app.media.service import delete_media, get_media
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
ROWS_PER_TRANSACTION = 100


@dataclass
class Options:
    source: str
    dry_run: bool = False
    files: bool = True
    emit_events: bool = False
    prune: bool = False


class Conflict(Exception):
    pass


def field_errors_text(errors: dict[str, list[str]]) -> str:
    """`{"name": ["tag with this name already exists."]}` on one line."""
    return "; ".join(f"{field}: {' '.join(map(str, said))}" for field, said in errors.items())


def describe(error: Exception) -> str:
    """One line for an object's failure."""
    if isinstance(error, APIError):
        body = error.body()
        if isinstance(body, dict) and "detail" not in body:
            return field_errors_text(body)
        return str(error.detail)
    if isinstance(error, DBAPIError):
        return str(error.orig).splitlines()[0]
    return str(error)


class Writer:
    """Writes records here; what it did goes to the report (and the progress bar)."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        report: ImportReport,
        progress: ImportProgress,
        options: Options,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.storage = storage
        self.report = report
        self.progress = progress
        self.options = options
        self.url_for = MediaUrls(storage, settings.public_base_url or "http://127.0.0.1:8000")
        self.known: dict[tuple[str, int], ImportedObject] = {}
        self.present: dict[str, set[int]] = {}
        self.trashed: set[tuple[str, int]] = set()
        self.image_ids: set[int] = set()  # media files here that are images
        # Per kind, the ids here that are the original's: references resolve to these only.
        self.imported: dict[str, set[int]] = {}

    async def load_state(self) -> None:
        """What earlier runs imported, which ids are taken here, and which are in the trash."""
        async with self.sessions() as session:
            for row in await session.scalars(select(ImportedObject)):
                self.known[(row.kind, row.object_id)] = row
            for kind, model in MODELS.items():
                self.present[kind] = set(await session.scalars(select(model.id)))
            trash = await session.execute(select(TrashItem.kind, TrashItem.object_id))
            self.trashed = {(kind, object_id) for kind, object_id in trash}
            images = select(MediaFile.id).where(MediaFile.kind == "image")
            self.image_ids = set(await session.scalars(images))
        for kind in MODELS:
            self.imported[kind] = {
                pk for (k, pk) in self.known if k == kind and pk in self.present[kind]
            }
        self.imported[IMAGE] = self.imported["media"] & self.image_ids

    @asynccontextmanager
    async def transaction(self, ledger: Ledger) -> AsyncIterator[AsyncSession]:
        """A unit of work of the import, which saves `ledger`'s rows (apply it once it commits)."""
        async with unit_of_work(self.sessions) as session:
            events.act_via(session, "import")
            yield session
            await ledger.save(session)

    def apply(self, ledger: Ledger) -> None:
        """What a committed transaction did, into the report and the progress bar."""
        for row in ledger.remembered:
            self.known[(row.kind, row.object_id)] = row
        for outcome, record in ledger.outcomes:
            self.report.count(outcome, record.kind)
            self.imported[record.kind].add(record.id)
            self.present[record.kind].add(record.id)
            if record.kind == "media" and record.id in self.image_ids:
                self.imported[IMAGE].add(record.id)
            elif record.kind == "media":
                self.imported[IMAGE].discard(record.id)
        for outcome, record, why in ledger.problems:
            self.report.problem(outcome, record.kind, record.id, record.label, why)
        self.progress.advance(objects=len(ledger.outcomes) + len(ledger.problems))

    def classify(self, resolved: Resolved, ledger: Ledger) -> str | None:
        """ "created", "updated", "unchanged", or None after noting a conflict."""
        record = resolved.record
        key = (record.kind, record.id)
        known = self.known.get(key)
        if record.id in self.present[record.kind]:
            if known is None:
                why = f"id {record.id} is taken here by another {record.kind}"
                ledger.problem("conflicts", record, why)
                return None
            return "unchanged" if known.fingerprint == resolved.fingerprint() else "updated"
        if key in self.trashed:
            ledger.problem(
                "conflicts", record, "it is in the trash here: restore or purge it first"
            )
            return None
        return "created"

    # Rows

    async def put_rows(self, records: list[Record]) -> None:
        """Write records that are not media files, a batch to a transaction."""
        for start in range(0, len(records), ROWS_PER_TRANSACTION):
            batch = records[start : start + ROWS_PER_TRANSACTION]
            try:
                await self._put_batch(batch, alone=False)
            except (APIError, SQLAlchemyError):
                await self._put_batch(batch, alone=True)

    async def _put_batch(self, records: list[Record], *, alone: bool) -> None:
        """`alone`: each row in a savepoint, so that one that fails is left out by itself."""
        ledger = Ledger(self.options.source)
        async with self.transaction(ledger) as session:
            for record in records:
                if alone:
                    await self._put_alone(session, record, ledger)
                else:
                    await self._put(session, record, ledger)
        self.apply(ledger)

    async def _put_alone(self, session: AsyncSession, record: Record, ledger: Ledger) -> None:
        written = Ledger(ledger.source)
        try:
            async with session.begin_nested():
                await self._put(session, record, written)
        except (APIError, SQLAlchemyError) as error:
            ledger.problem("failed", record, describe(error))
            return
        ledger.absorb(written)

    async def _put(self, session: AsyncSession, record: Record, ledger: Ledger) -> None:
        resolved = record.resolved(self.imported)
        if PARENT in record.references and resolved.references[PARENT] is None:
            ledger.problem("failed", record, f"its portfolio {record.parent} was not imported")
            return
        outcome = self.classify(resolved, ledger)
        if outcome is None or outcome == "unchanged":
            if outcome:
                ledger.done(outcome, record)
            return
        try:
            await self._check_unique(session, resolved)
        except Conflict as conflict:
            ledger.problem("conflicts", record, str(conflict))
            return
        if self.options.dry_run:
            ledger.done(outcome, record)
            return
        changes = await self._write_row(session, resolved, created=outcome == "created")
        ledger.imported(resolved, changes, outcome)
        await self.emit(session, record, changes, created=outcome == "created")

    async def _check_unique(self, session: AsyncSession, resolved: Resolved) -> None:
        """A title, slug or name (a meta key in its portfolio) another object has here, or a
        trashed one keeps: a Conflict naming each, in the API's words."""
        record, values = resolved.record, resolved.values
        errors = ErrorCollector()
        if record.kind == "portfolio":
            for column in (Portfolio.title, Portfolio.slug):
                await check_unique(session, errors, column, values[column.key], except_id=record.id)
        elif record.kind in ("employer", "tag"):
            name = MODELS[record.kind].name
            await check_unique(session, errors, name, values["name"], except_id=record.id)
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
            raise Conflict(field_errors_text(errors.errors))

    async def _write_row(
        self, session: AsyncSession, resolved: Resolved, *, created: bool
    ) -> Changes:
        """Insert or update the row and its sets: the changes, `{field: (old, new)}`."""
        record = resolved.record
        model = MODELS[record.kind]
        now = utcnow()
        if created:
            row = model(id=record.id, **resolved.values)
            row.created_at = record.created_at or now
            row.updated_at = record.updated_at or row.created_at
            session.add(row)
            changes: Changes = {field: (None, value) for field, value in resolved.values.items()}
        else:
            row = await locked(session, model, record.id)
            changes = assign(row, resolved.values)
            stamp(row, record, now)
        await session.flush()
        for name, ids in resolved.sets.items():
            before = await _replace_set(session, name, record.id, ids, created=created)
            if before != ids:
                changes[name] = (before if not created else None, ids)
        return changes

    async def emit(
        self, session: AsyncSession, record: Record, changes: Changes, *, created: bool
    ) -> None:
        """With `--emit-events`, the object's change event (as the API would have recorded)."""
        if not self.options.emit_events:
            return
        body = await body_of(session, record.kind, record.id, self.url_for)
        await events.record(
            session,
            f"{record.kind}.{'created' if created else 'updated'}",
            body or {"id": record.id},
            portfolio_id=record.parent,
            changed=None if created else list(changes),
        )

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
                    async with self.transaction(Ledger(self.options.source)) as session:
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


async def locked(session: AsyncSession, model: Any, object_id: int) -> Any:
    row = await session.get(model, object_id, with_for_update=True)
    if row is None:  # gone since the run began
        raise NotFound()
    return row


def stamp(row: Any, record: Record, fallback: datetime) -> None:
    """The timestamps the original shows (`updated_at` else `fallback`), written even when equal
    to the row's (an unchanged value would leave the column to its `onupdate`, the clock)."""
    if record.created_at is not None:
        row.created_at = record.created_at
    row.updated_at = record.updated_at or fallback
    flag_modified(row, "updated_at")


async def _replace_set(
    session: AsyncSession, name: str, portfolio_id: int, ids: list[int], *, created: bool
) -> list[int]:
    """A portfolio's tags or gallery set to `ids`, in their order: what it was before."""
    table, column = SETS[name]
    before = (
        []
        if created
        else list(
            await session.scalars(
                select(table.c[column])
                .where(table.c.portfolio_id == portfolio_id)
                .order_by(table.c.position)
            )
        )
    )
    if before != ids:
        if not created:
            await session.execute(delete(table).where(table.c.portfolio_id == portfolio_id))
        if ids:
            rows = [
                {"portfolio_id": portfolio_id, column: pk, "position": n}
                for n, pk in enumerate(ids)
            ]
            await session.execute(insert(table), rows)
    return before


def assign(row: Any, values: dict[str, Any]) -> Changes:
    """Set the values that differ; their changes, `{field: (old, new)}`."""
    changes = {}
    for field, value in values.items():
        old = getattr(row, field)
        if old != value:
            changes[field] = (old, value)
            setattr(row, field, value)
    return changes
