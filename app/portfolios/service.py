"""Portfolio writes and their rules: every reference validated at once, slugs (given, or the
first free one for the title), ordered tags and gallery; the SQL is `repository`'s."""

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import FieldChanges, apply_changes
from app.common.references import ErrorCollector, check_exist, check_images, check_unique
from app.common.slugs import first_free, numbered, slugify
from app.errors import ValidationFailed
from app.models import Employer, Portfolio, Tag
from app.models.base import utcnow
from app.portfolios import repository
from app.trash.bin import move_to_trash

T = TypeVar("T")
RENAMED = {"image": "image_id", "employer": "employer_id"}
SLUG_ATTEMPTS = 50
SLUG_BATCH = 20
SLUG_TAKEN = "portfolio with this slug already exists."


async def validate(
    session: AsyncSession, changes: dict[str, Any], portfolio_id: int | None = None
) -> None:
    errors = ErrorCollector()
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


async def free_slug(
    session: AsyncSession, title: str, tried: Collection[str] = (), own: str | None = None
) -> str:
    """The first of `slug`, `slug-2`, ... neither stored (other than `own`, the slug of the
    portfolio being updated) nor already `tried` (a concurrent request may hold an uncommitted
    one that this transaction cannot see).

    Probed through the unique index: the slug alone first (most titles give a free one),
    then the series a batch at a time. A `LIKE 'slug-%'` would read the whole table, since no
    index serves a prefix match outside the C collation."""
    base = slugify(title, fallback="portfolio")
    start, count = 1, 1
    while True:
        candidates = numbered(base, start, count)
        stored = await repository.taken_slugs(session, candidates) - {own}
        free = first_free(candidates, {*stored, *tried})
        if free is not None:
            return free
        start, count = start + count, SLUG_BATCH


def in_zone(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A naive datetime from a client is read in the configured time zone, as DRF does."""
    return value.replace(tzinfo=zone) if value is not None and value.tzinfo is None else value


async def _with_free_slug(
    session: AsyncSession,
    title: str,
    attempt: Callable[[str], Awaitable[T | None]],
    own: str | None = None,
) -> T:
    """`attempt` with the first free slug for `title`; while it answers None (a concurrent
    request took that slug meanwhile), again with the next free one."""
    tried: set[str] = set()
    for _attempt in range(SLUG_ATTEMPTS):
        slug = await free_slug(session, title, tried, own)
        done = await attempt(slug)
        if done is not None:
            return done
        tried.add(slug)
    raise ValidationFailed.field("slug", SLUG_TAKEN)


def _column_changes(changes: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """The changes to the portfolio's own columns, by request name (not the slug)."""
    columns = {
        field: value for field, value in changes.items() if field not in ("tags", "images", "slug")
    }
    if "completed_at" in columns:
        columns["completed_at"] = in_zone(columns["completed_at"], zone)
    return columns


def _by_column(changes: dict[str, Any]) -> dict[str, Any]:
    return {RENAMED.get(field, field): value for field, value in changes.items()}


async def create(session: AsyncSession, changes: dict[str, Any], zone: ZoneInfo) -> int:
    """Insert a portfolio with the validated `changes`; its id."""
    await validate(session, changes)
    now = utcnow()
    values = {**_by_column(_column_changes(changes, zone)), "created_at": now, "updated_at": now}
    if changes.get("slug"):
        inserted = await repository.insert_unless_slug_taken(
            session, {**values, "slug": changes["slug"]}
        )
        if inserted is None:  # given by a concurrent request since `validate`
            raise ValidationFailed.field("slug", SLUG_TAKEN)
    else:
        inserted = await _with_free_slug(
            session,
            values["title"],
            lambda slug: repository.insert_unless_slug_taken(session, {**values, "slug": slug}),
        )
    await repository.replace_sets(session, inserted, changes, created=True)
    return inserted


async def update(
    session: AsyncSession, portfolio_id: int, changes: dict[str, Any], zone: ZoneInfo
) -> FieldChanges:
    """Apply the validated `changes` to the portfolio (404 if there is none; locked until the
    request commits); an empty slug is generated again from the title. Returns what changed."""
    portfolio = await repository.get(session, portfolio_id, for_update=True)
    await validate(session, changes, portfolio.id)
    old_slug = portfolio.slug
    changed = apply_changes(portfolio, _column_changes(changes, zone), RENAMED)
    if "slug" in changes and not changes["slug"]:
        await _with_free_slug(
            session,
            portfolio.title,
            lambda slug: repository.flush_with_slug(session, portfolio, slug),
            own=old_slug,
        )
    else:
        if "slug" in changes:
            portfolio.slug = changes["slug"]
        await repository.flush(session)  # any unique violation is the client's 400
    if portfolio.slug != old_slug:
        changed["slug"] = (old_slug, portfolio.slug)
    replaced = await repository.replace_sets(session, portfolio.id, changes, created=False)
    for name, old_ids in replaced.items():
        if old_ids != changes[name]:
            changed[name] = (old_ids, changes[name])
    return changed


async def locked(session: AsyncSession, portfolio_id: int) -> Portfolio:
    """The portfolio, locked for a delete, or 404."""
    return await repository.get(session, portfolio_id, for_update=True)


async def delete(session: AsyncSession, portfolio: Portfolio) -> None:
    """Into the trash, with its links and meta (never its media)."""
    await move_to_trash(session, "portfolio", portfolio.id)
