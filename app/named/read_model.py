"""The shape every named resource starts from: `id`, `name`, `image_data`. Its own endpoints
add `created_at` and `updated_at` (`app.common.crud.with_timestamps`)."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from app.media.read_model import ImageOut

# Builds a resource's embedded shape from a row and the image objects loaded for its page.
Payload = Callable[[Any, dict[int, dict[str, Any]]], dict[str, Any]]


class NamedData(BaseModel):
    id: int
    name: str
    image_data: ImageOut | None


def named_payload(row: Any, media: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "image_data": media.get(row.image_id) if row.image_id else None,
    }
