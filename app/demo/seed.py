"""`portfolio-api seed --demo`: the demo data of `app.demo.data`, created as the API creates it.

Employers, tags and portfolios are known by their unique names and titles: whatever already
exists is left as it is, so a second run creates nothing. Each object (with its images, links and
meta) is one transaction; images go through `app.media.service.create_media`, so their files and
thumbnails land in the configured storage, and the files of a transaction that does not commit
are removed again.
"""

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from app.common.progress import Progress
from app.db import create_engine, create_sessionmaker, unit_of_work
from app.demo.data import (
    EMPLOYERS,
    PORTFOLIOS,
    TAGS,
    DemoEmployer,
    DemoPortfolio,
    Picture,
    cover,
    gallery,
)
from app.demo.images import render
from app.employers.schemas import EmployerIn
from app.employers.service import employers
from app.events import outbox as events
from app.links import read_model as link_read_model
from app.links import service as links
from app.links.schemas import LinkIn
from app.media.dependencies import MediaUrls
from app.media.read_model import loaded_payload
from app.media.service import Upload, create_media, image_pool
from app.media.storage import Storage, create_storage
from app.meta import read_model as meta_read_model
from app.meta import service as meta_items
from app.meta.schemas import MetaIn
from app.models import Employer, MediaFile, Portfolio, Tag
from app.portfolios import read_model as portfolio_read_model
from app.portfolios import service as portfolios
from app.portfolios.schemas import PortfolioIn
from app.settings import Settings
from app.tags.schemas import TagIn
from app.tags.service import tags

IMAGE_SCALE = 1.0  # pictures at their nominal sizes; the tests draw them smaller
KINDS = ("employers", "tags", "portfolios")

LOCAL_ORIGIN = "http://127.0.0.1:8000"


@dataclass
class SeedReport:
    media_root: Path
    created: Counter[str] = field(default_factory=Counter)
    present: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        width = max(len(kind) for kind in KINDS) + 1
        lines = [
            f"{kind + ':':<{width}} {self.created[kind]:>2} created, "
            f"{self.present[kind]:>2} already present"
            for kind in KINDS
        ]
        if not any(self.created[kind] for kind in KINDS):
            return [*lines, "nothing new: the demo data was already there"]
        return [
            *lines,
            f"with them: {self.created['media files']} media files "
            f"({self.created['thumbnails']} thumbnails) under {self.media_root}, "
            f"{self.created['links']} links, {self.created['meta items']} meta items",
        ]


@dataclass
class _Unit:
    """What one transaction works with, and what it creates (counted once it commits)."""

    session: AsyncSession
    storage: Storage
    created: Counter[str] = field(default_factory=Counter)


class DemoSeeder:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        storage: Storage,
        settings: Settings,
        scale: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.storage = storage
        self.settings = settings
        self.scale = scale
        self.report = SeedReport(settings.media_root.resolve())
        self.images = image_pool(settings)
        # Absolute URLs in the change events' data: the public address, else `make run`'s.
        self.url_for = MediaUrls(storage, settings.public_base_url or LOCAL_ORIGIN)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Unit]:
        """One object's unit of work, as a request's: commit at the end, or roll back and
        remove the files stored on the way."""
        async with unit_of_work(self.sessionmaker) as session:
            events.act_via(session, "cli")  # its events and history: actor null, via cli
            unit = _Unit(session, self.storage)
            yield unit
        self.report.created.update(unit.created)

    async def media(self, unit: _Unit, picture: Picture) -> MediaFile:
        """An upload of the drawn picture, through the media service (thumbnails and all)."""
        content = await asyncio.to_thread(render, picture, self.scale)
        upload = Upload(
            io.BytesIO(content), picture.filename, len(content), picture.name, picture.alt
        )
        media = await create_media(
            unit.session, unit.storage, self.images, self.settings, upload, datetime.now(UTC)
        )
        fields = {"name": media.name, "alt": media.alt, "file": media.path}
        body = loaded_payload(media, self.url_for)
        await events.created(unit.session, "media", media.id, body, fields)
        unit.created["media files"] += 1
        unit.created["thumbnails"] += len(media.thumbnails)
        return media

    async def employer(self, item: DemoEmployer) -> None:
        async with self.transaction() as unit:
            if await _exists(unit.session, Employer.name, item.name):
                self.report.present["employers"] += 1
                return
            logo = None if item.logo is None else await self.media(unit, item.logo)
            payload = EmployerIn(
                name=item.name, description=item.description, image=logo.id if logo else None
            )
            await employers.create(unit.session, payload.model_dump(), self.url_for)
            unit.created["employers"] += 1

    async def tag(self, name: str) -> None:
        async with self.transaction() as unit:
            if await _exists(unit.session, Tag.name, name):
                self.report.present["tags"] += 1
                return
            await tags.create(unit.session, TagIn(name=name).model_dump(), self.url_for)
            unit.created["tags"] += 1

    async def portfolio(self, item: DemoPortfolio, index: int) -> None:
        async with self.transaction() as unit:
            session = unit.session
            if await _exists(session, Portfolio.title, item.title):
                self.report.present["portfolios"] += 1
                return
            employers = await _ids_by_name(session, Employer, [item.employer])
            tags = await _ids_by_name(session, Tag, item.tags)
            image = await self.media(unit, cover(item, index))
            pictures = [await self.media(unit, picture) for picture in gallery(item, index)]
            payload = PortfolioIn(
                title=item.title,
                excerpt=item.excerpt,
                description=item.description,
                order=index + 1,
                is_active=item.is_active,
                completed_at=item.completed_at,
                image=image.id,
                employer=employers.get(item.employer),  # None if deleted since a first run
                tags=[tags[name] for name in item.tags if name in tags],
                images=[picture.id for picture in pictures],
            )
            fields = payload.model_dump()
            portfolio_id = await portfolios.create(session, fields, self.settings.zone)
            for order, link in enumerate(item.links):
                changes = LinkIn(
                    name=link.name, url=link.url, description=link.description, order=order
                ).model_dump()
                created = await links.create(session, portfolio_id, changes)
                link_body = await link_read_model.one_link(session, created, self.url_for)
                await events.created(
                    session, "link", created.id, link_body, changes, portfolio_id=portfolio_id
                )
            meta = [MetaIn(key=key, value_text=value) for key, value in item.meta]
            meta.append(MetaIn(key="og:image", value_file=image.id))
            for entry in meta:
                changes = entry.model_dump()
                added = await meta_items.create(session, portfolio_id, changes)
                meta_body = await meta_read_model.one_meta_item(session, added, self.url_for)
                await events.created(
                    session, "meta", added.id, meta_body, changes, portfolio_id=portfolio_id
                )
            body = await portfolio_read_model.one_portfolio(session, portfolio_id, self.url_for)
            await events.created(session, "portfolio", portfolio_id, body, fields)
            unit.created["portfolios"] += 1
            unit.created["links"] += len(item.links)
            unit.created["meta items"] += len(meta)


async def _exists(session: AsyncSession, column: InstrumentedAttribute[str], value: str) -> bool:
    found = await session.execute(select(column).where(column == value).limit(1))
    return found.first() is not None


async def _ids_by_name(
    session: AsyncSession, model: type[Employer] | type[Tag], names: Sequence[str]
) -> dict[str, int]:
    rows = await session.execute(select(model.name, model.id).where(model.name.in_(names)))
    return dict(rows.all())


async def seed_demo(
    settings: Settings, progress_stream: TextIO, *, scale: float | None = None
) -> SeedReport:
    """Create what is missing of the demo data; report what was created and what was there."""
    engine = create_engine(settings)
    storage = create_storage(settings)
    seeder = DemoSeeder(
        create_sessionmaker(engine),
        storage,
        settings,
        IMAGE_SCALE if scale is None else scale,
    )
    progress = Progress(
        "seeding demo data", len(EMPLOYERS) + len(TAGS) + len(PORTFOLIOS), progress_stream
    )
    try:
        for employer in EMPLOYERS:
            await seeder.employer(employer)
            progress.advance()
        for tag in TAGS:
            await seeder.tag(tag)
            progress.advance()
        for index, portfolio in enumerate(PORTFOLIOS):
            await seeder.portfolio(portfolio, index)
            progress.advance()
    finally:
        progress.close()
        seeder.images.shutdown()
        await storage.aclose()
        await engine.dispose()
    return seeder.report
