"""Objects as this service's staff API shows them (for `--verify` and `--emit-events`), read with
the same read models the routes use."""

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.employers.service import employers
from app.errors import NotFound
from app.links import read_model as links
from app.media import repository as media
from app.media.dependencies import MediaUrls
from app.meta import read_model as meta
from app.meta import service as meta_items
from app.portfolios import read_model as portfolios
from app.tags.service import tags


async def body_of(
    session: AsyncSession, kind: str, object_id: int, url_for: MediaUrls
) -> dict[str, Any] | None:
    """The object's body as retrieve answers it, or None when there is no such object here."""
    try:
        return await _body(session, kind, object_id, url_for)
    except NotFound:
        return None


async def _body(
    session: AsyncSession, kind: str, object_id: int, url_for: MediaUrls
) -> dict[str, Any] | None:
    if kind == "portfolio":
        found: dict[str, Any] = json.loads(
            await portfolios.one_portfolio(session, object_id, url_for)
        )
        return found
    if kind == "link":
        return json.loads(await links.get_link(session, object_id, None, url_for))  # type: ignore[no-any-return]
    if kind == "meta":
        item = await meta_items.get_any(session, object_id)
        return await meta.one_meta_item(session, item, url_for)
    if kind == "employer":
        return await employers.get(session, object_id, url_for)
    if kind == "tag":
        return await tags.get(session, object_id, url_for)
    if kind == "media":
        return (await media.load_media(session, [object_id], url_for)).get(object_id)
    raise AssertionError(kind)
