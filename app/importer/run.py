"""`portfolio-api import-original`: read the original, write what it shows here, report.

Stages: read the whole original (its pages and nested objects) into a snapshot; write media
(downloads in parallel), then employers, tags, portfolios, links and meta; advance the id
sequences; find (and with `--prune` trash) what the original no longer has; record one
`import.completed` event and drop every public cache once; with `--verify`, compare.
"""

import asyncio
from typing import Any, TextIO

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_engine, create_sessionmaker, unit_of_work
from app.events import outbox as events
from app.importer.client import OriginalClient
from app.importer.files import FileWriter
from app.importer.records import KINDS, records_of
from app.importer.report import ImportProgress, ImportReport
from app.importer.snapshot import Snapshot, read_original
from app.importer.verify import Verification, verify
from app.importer.writer import MODELS, Options
from app.media.service import image_pool
from app.media.storage import create_storage
from app.public import invalidation as public
from app.settings import Settings


async def import_original(
    settings: Settings,
    options: Options,
    token: str,
    *,
    check: bool = False,
    progress_stream: TextIO | None = None,
    retry_delay: float | None = None,
) -> tuple[ImportReport, Verification | None]:
    """Import, then (with `check`) verify; the report of each."""
    report = ImportReport(options.source, dry_run=options.dry_run)
    progress = ImportProgress(progress_stream)
    client = OriginalClient(options.source, token, settings, retry_delay=retry_delay)
    engine = create_engine(settings)
    storage = create_storage(settings)
    images = image_pool(settings)
    try:
        progress.start("reading the original")
        snapshot = await read_original(
            client, settings.import_downloads, lambda n: progress.advance(objects=n)
        )
        progress.finish()
        sessions = create_sessionmaker(engine)
        writer = FileWriter(
            settings, sessions, storage, report, progress, options, client=client, images=images
        )
        await writer.load_state()
        await _write(writer, snapshot, options, progress)
        writer.find_stale(_ids_on_original(snapshot))
        if options.prune and not options.dry_run:
            await writer.prune()
        if not options.dry_run:
            await _completed(sessions, report)
        verification = None
        if check:
            verification = await verify(sessions, writer.url_for, snapshot, writer.imported)
        return report, verification
    finally:
        progress.close()
        images.shutdown()
        await client.aclose()
        await storage.aclose()
        await engine.dispose()


async def _write(
    writer: FileWriter, snapshot: Snapshot, options: Options, progress: ImportProgress
) -> None:
    records = records_of(snapshot)
    media = records["media"] if options.files else []
    total_bytes = sum(
        record.file.size
        for record in media
        if record.file is not None and writer.downloads_needed(record)
    )
    total = sum(len(records[kind]) for kind in KINDS if kind != "media") + len(media)
    progress.start("writing" if not options.dry_run else "checking", total, total_bytes)
    await asyncio.gather(*(writer.put_media(record) for record in media))
    await _after_kind(writer, options, "media")
    for kind in KINDS[1:]:
        await writer.put_rows(records[kind])
        await _after_kind(writer, options, kind)
    progress.finish()


async def _after_kind(writer: FileWriter, options: Options, kind: str) -> None:
    """The kind's id sequence moved past what was written: an interrupted run leaves none
    behind that an object made here would collide with."""
    if not options.dry_run:
        await _advance_sequences(writer.sessions, [MODELS[kind]])


def _ids_on_original(snapshot: Snapshot) -> dict[str, set[int]]:
    return {
        "media": set(snapshot.media),
        "employer": set(snapshot.employers),
        "tag": set(snapshot.tags),
        "portfolio": set(snapshot.portfolios),
        "link": {link.id for links in snapshot.links.values() for link in links},
        "meta": {item.id for p in snapshot.portfolios.values() for item in p.meta},
    }


async def _advance_sequences(sessions: async_sessionmaker[AsyncSession], models: list[Any]) -> None:
    """New objects made here after the import get ids past the imported ones. (SQLite's
    AUTOINCREMENT counter follows an inserted id by itself; PostgreSQL's sequences do not.)"""
    async with unit_of_work(sessions) as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        for model in models:
            highest = await session.scalar(select(func.max(model.id)))
            sequence = await session.scalar(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": model.__tablename__}
            )
            if highest is None or sequence is None:
                continue
            current = await session.scalar(text(f"SELECT last_value FROM {sequence}"))
            # A fresh sequence says 1 before giving it out: >=, so that 1 itself is passed.
            if highest >= current:
                await session.execute(
                    text("SELECT setval(:sequence, :highest)"),
                    {"sequence": sequence, "highest": highest},
                )


async def _completed(sessions: async_sessionmaker[AsyncSession], report: ImportReport) -> None:
    """One `import.completed` event with the counts, and every public body dropped, everywhere."""
    async with unit_of_work(sessions) as session:
        events.act_via(session, "import")
        await events.record(session, "import.completed", report.summary())
        # Always: a run that resumes an interrupted one finds its objects unchanged, yet the
        # interrupted run never told the caches.
        await public.announce(session, [public.EVERYTHING])
