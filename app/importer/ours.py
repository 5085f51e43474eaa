"""Objects as this service's staff API shows them (for `--verify` and `--emit-events`): the
trash's `retrieve`, which answers with the body each kind's retrieve route gives."""

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.media.dependencies import MediaUrls
from app.trash.service import retrieve


async def body_of(
    session: AsyncSession, kind: str, object_id: int, url_for: MediaUrls
) -> dict[str, Any] | None:
    """The object's body as retrieve answers it, or None when there is no such object here."""
    try:
        body = await retrieve(session, kind, object_id, url_for)
    except NotFound:
        return None
    found: dict[str, Any] = json.loads(body) if isinstance(body, bytes) else body
    return found
