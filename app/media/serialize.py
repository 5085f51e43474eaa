"""File objects as JSON-ready dicts, built once per row (no ORM objects on read paths)."""

from collections.abc import Callable, Iterable
from typing import Any

from app.common.schemas import drf_datetime
from app.media.naming import human_readable_size

UrlFor = Callable[[str], str]


def file_payload(row: Any, url_for: UrlFor) -> dict[str, Any]:
    """The file object without image fields (meta `value_file`)."""
    return {
        "id": row.id,
        "type": row.kind,
        "name": row.name,
        "size": row.size,
        "human_readable_size": human_readable_size(row.size),
        "f": url_for(row.path),
        "mime_type": row.mime_type,
        "alt": row.alt,
        "created_at": drf_datetime(row.created_at),
        "updated_at": drf_datetime(row.updated_at),
    }


def media_payload(row: Any, thumbnails: Iterable[Any], url_for: UrlFor) -> dict[str, Any]:
    """The seeds' image object: the file fields, then for images the image fields."""
    payload = file_payload(row, url_for)
    if row.kind != "image":
        return payload
    extras = {
        "mime_type": payload.pop("mime_type"),
        "alt": payload.pop("alt"),
        "created_at": payload.pop("created_at"),
        "updated_at": payload.pop("updated_at"),
    }
    payload["width"] = row.width
    payload["height"] = row.height
    payload["mode"] = row.mode
    payload["thumbnails"] = [
        {"id": thumb.id, "f": url_for(thumb.path), "size": thumb.box} for thumb in thumbnails
    ]
    payload.update(extras)
    return payload
