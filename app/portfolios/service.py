"""Portfolio writes: validation of every reference at once, slugs, ordered tags and gallery."""

from collections.abc import Collection
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import apply_changes
from app.common.references import FieldErrors, check_exist, check_images, check_unique
from app.common.slugs import first_free, numbered, slugify
from app.errors import ValidationFailed
from app.models import Employer, Portfolio, Tag, portfolio_images, portfolio_tags

RENAMED = {"image": "image_id", "employer": "employer_id"}
SLUG_ATTEMPTS = 50
SLUG_BATCH = 20


async def validate(
    session: AsyncSession, changes: dict[str, Any], portfolio_id: int | None = None
) -> None:
    errors = FieldErrors()
    if "title" in changes:
        await check_unique(
            session, errors, Portfolio.title, changes["title"], except_id=portfolio_id
        )
    if changes.get("slug"):
        await check_unique(session, errors, Portfolio.slug, changes["slug"], except_id=portfolio_id)
    await check_images(session, errors, "image", [changes.get("image")])
    await check_exist(session, errors, "employer", Employer.id, [changes.get("employer")])
    await check_exist(session, errors, "tags", Tag.id, changes.get("tags") or [])
    await check_images(session, errors, "images", changes.get("images") or [])
    errors.raise_if_any()


async def free_slug(session: AsyncSession, title: str, tried: Collection[str] = ()) -> str:
    """The first of `slug`, `slug-2`, ... neither stored nor already `tried` (a concurrent
    request may hold an uncommitted one that this transaction cannot see).

    The series is probed a batch at a time through the unique index: a `LIKE 'slug-%'` would
    read the whole table, since no index serves a prefix match outside the C collation."""
    base = slugify(title, fallback="portfolio")
    start = 1
    while True:
        candidates = numbered(base, start, SLUG_BATCH)
        stored = await session.scalars(select(Portfolio.slug).where(Portfolio.slug.in_(candidates)))
        free = first_free(candidates, {*stored, *tried})
        if free is not None:
            return free
        start += SLUG_BATCH


def in_zone(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A naive datetime from a client is read in the configured time zone, as DRF does."""
    return value.replace(tzinfo=zone) if value is not None and value.tzinfo is None else value


async def _flush_with_free_slug(
    session: AsyncSession, portfolio: Portfolio, generated: bool
) -> None:
    """Flush; a generated slug taken meanwhile by a concurrent request is generated again.

    Only a generated slug needs the savepoint that makes a retry possible: any other unique
    violation is the client's 400 anyway (two round trips saved on most updates)."""
    if not generated:
        session.add(portfolio)
        await session.flush()
        return
    tried: set[str] = set()
    for _attempt in range(SLUG_ATTEMPTS):
        try:
            async with session.begin_nested():
                session.add(portfolio)
                await session.flush()
            return
        except IntegrityError as error:
            if "slug" not in str(error.orig):
                raise
            tried.add(portfolio.slug)
            portfolio.slug = await free_slug(session, portfolio.title, tried)
    raise ValidationFailed.field("slug", "portfolio with this slug already exists.")


async def _replace_links(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any], created: bool
) -> None:
    """`tags` and `images` replace the whole set, in the order given (a new portfolio has
    none to delete)."""
    for field, table, column in (
        ("tags", portfolio_tags, "tag_id"),
        ("images", portfolio_images, "media_id"),
    ):
        if field not in changes:
            continue
        if not created:
            await session.execute(delete(table).where(table.c.portfolio_id == portfolio_id))
        if changes[field]:
            await session.execute(
                insert(table),
                [
                    {"portfolio_id": portfolio_id, column: pk, "position": position}
                    for position, pk in enumerate(changes[field])
                ],
            )


async def save(
    session: AsyncSession, portfolio: Portfolio, changes: dict[str, Any], zone: ZoneInfo
) -> Portfolio:
    """Create (a transient `portfolio`) or update it with the validated `changes`."""
    created = portfolio.id is None
    await validate(session, changes, portfolio.id)
    if "completed_at" in changes:
        changes["completed_at"] = in_zone(changes["completed_at"], zone)
    generated = ("slug" in changes and not changes["slug"]) or (created and not changes.get("slug"))
    columns = {k: v for k, v in changes.items() if k not in ("tags", "images", "slug")}
    apply_changes(portfolio, columns, RENAMED)
    if generated:
        portfolio.slug = await free_slug(session, portfolio.title)
    elif "slug" in changes:
        portfolio.slug = changes["slug"]
    await _flush_with_free_slug(session, portfolio, generated)
    await _replace_links(session, portfolio.id, changes, created)
    return portfolio
