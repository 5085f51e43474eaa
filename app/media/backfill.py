"""`portfolio-api media variants [--missing] [--format F]`: variants for images uploaded before
they existed (or made afresh after a change of quality), through the same `media.variants` jobs.

Images are taken in id order, a batch at a time: the batch's jobs are queued (committed), then
run here, while any running workers may take some of them too. Interrupted, it resumes with
`--missing`: what was made stays made. A job that fails stays queued, for the workers to retry.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.common.progress import Progress
from app.common.sql import AnySelect
from app.db import create_engine, create_sessionmaker, unit_of_work
from app.events.outbox import act_via
from app.jobs import queue
from app.jobs.context import JobContext
from app.jobs.worker import worker_name
from app.media.sniffing import PILLOW_FORMAT_OF
from app.media.variant_jobs import VARIANTS, request_variants
from app.models import Job, MediaFile, MediaVariant
from app.settings import Settings

BATCH = 50
WAIT_FOR_OTHERS = 0.2  # seconds between looks at jobs other workers are running


@dataclass
class BackfillReport:
    images: int = 0
    done: int = 0
    failed: int = 0  # left queued for the workers to try again

    def lines(self) -> list[str]:
        lines = [f"{self.done} of {self.images} images have their variants"]
        if self.failed:
            lines.append(f"{self.failed} failed and stay queued for the workers to retry")
        return lines


def _images(formats: Sequence[str], settings: Settings, missing: bool) -> AnySelect:
    """Image ids in id order; with `missing`, those without every box in every format."""
    statement = select(MediaFile.id).where(
        MediaFile.kind == "image", MediaFile.mime_type.in_(list(PILLOW_FORMAT_OF))
    )
    if missing:
        made = (
            select(func.count())
            .where(MediaVariant.file_id == MediaFile.id, MediaVariant.format.in_(list(formats)))
            .scalar_subquery()
        )
        statement = statement.where(made < len(formats) * len(settings.thumbnail_sizes))
    return statement.order_by(MediaFile.id)


class _Backfill:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        context: JobContext,
        report: BackfillReport,
    ) -> None:
        self.sessions = sessions
        self.context = context
        self.report = report
        self.owner = f"backfill:{worker_name()}"

    async def image_ids(self, formats: Sequence[str], missing: bool) -> list[int]:
        async with self.sessions() as session:
            return list(await session.scalars(_images(formats, self.context.settings, missing)))

    async def queue(self, ids: Sequence[int], formats: list[str], redo: bool) -> set[int]:
        async with unit_of_work(self.sessions) as session:
            act_via(session, "cli")
            return {
                await request_variants(session, media_id, formats, redo=redo) for media_id in ids
            }

    async def run(self, job_ids: set[int], progress: Progress | None) -> None:
        """Until none of `job_ids` is waiting or running: each that is gone is done, each waiting
        for a retry has failed."""
        settings = self.context.settings
        while True:
            claimed = await queue.claim(
                self.sessions, self.owner, settings.worker_lease_seconds, 2, kinds=[VARIANTS]
            )
            await asyncio.gather(
                *(queue.run(self.sessions, job, self.owner, self.context) for job in claimed)
            )
            waiting, failed = await self._unfinished(job_ids)
            finished = job_ids - waiting - failed
            self._count(len(finished), progress)
            job_ids -= finished
            if not waiting:
                self.report.failed += len(failed)
                self._count(len(failed), progress)
                return
            if not claimed:
                await asyncio.sleep(WAIT_FOR_OTHERS)

    def _count(self, finished: int, progress: Progress | None) -> None:
        for _ in range(finished):
            if progress is not None:
                progress.advance()

    async def _unfinished(self, job_ids: set[int]) -> tuple[set[int], set[int]]:
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(Job.id, Job.status, Job.attempts).where(Job.id.in_(job_ids))
                )
            ).all()
        failed = {
            row.id
            for row in rows
            if row.status == "failed" or (row.status == "pending" and row.attempts)
        }
        return {row.id for row in rows} - failed, failed


async def make_variants_for_existing(
    settings: Settings,
    *,
    missing: bool,
    formats: list[str] | None = None,
    progress_stream: TextIO | None = None,
) -> BackfillReport:
    wanted = formats or list(settings.media_variant_formats)
    engine = create_engine(settings)
    context = JobContext(settings)
    report = BackfillReport()
    backfill = _Backfill(create_sessionmaker(engine), context, report)
    progress: Progress | None = None
    try:
        ids = await backfill.image_ids(wanted, missing)
        report.images = len(ids)
        if progress_stream is not None and ids:
            progress = Progress("making variants", len(ids), progress_stream)
        for start in range(0, len(ids), BATCH):
            jobs = await backfill.queue(ids[start : start + BATCH], wanted, redo=not missing)
            await backfill.run(jobs, progress)
        report.done = report.images - report.failed
    finally:
        if progress is not None:
            progress.close()
        await context.aclose()
        await engine.dispose()
    return report
