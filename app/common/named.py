"""What employers and tags share: a unique `name` and an `image` that must be an image."""

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.common.crud import with_timestamps
from app.common.references import FieldErrors, check_images, check_unique
from app.media.repository import load_media
from app.media.serialize import UrlFor

Payload = Callable[[Any, dict[int, dict[str, Any]]], dict[str, Any]]


async def validate_named(
    session: AsyncSession,
    name_column: InstrumentedAttribute[str],
    changes: dict[str, Any],
    object_id: int | None = None,
) -> None:
    """`name` unique (other than this object's own) and `image` an image, in one 400."""
    errors = FieldErrors()
    if "name" in changes:
        await check_unique(session, errors, name_column, changes["name"], except_id=object_id)
    await check_images(session, errors, "image", [changes.get("image")])
    errors.raise_if_any()


async def payloads_with_images(
    session: AsyncSession, rows: list[Any], url_for: UrlFor, payload: Payload
) -> list[dict[str, Any]]:
    """The resource's own objects: its embedded shape, its image loaded once, timestamps."""
    media = await load_media(session, [row.image_id for row in rows], url_for)
    return [with_timestamps(payload(row, media), row) for row in rows]
