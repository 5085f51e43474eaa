"""Tag bodies."""

from typing import Any

from pydantic import BaseModel, Field

from app.common.schemas import DateTimeOut, Reference, RequestSchema, omittable
from app.media.schemas import MediaFileOut


class TagIn(RequestSchema):
    name: str = Field(min_length=1, max_length=255)
    image: Reference | None = Field(default=None, description="Id of an image media file.")


class TagPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    image: Reference | None = Field(default=None, description="Id of an image media file.")


class TagData(BaseModel):
    """An item of `tags_data` inside a portfolio."""

    id: int
    name: str
    image_data: MediaFileOut | None


class TagOut(TagData):
    created_at: DateTimeOut
    updated_at: DateTimeOut


def tag_payload(row: Any, media: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "image_data": media.get(row.image_id) if row.image_id else None,
    }
