"""Portfolio meta bodies: a key with a text and/or a file value."""

from typing import Any

from pydantic import BaseModel, Field

from app.common.schemas import Reference, RequestSchema, omittable
from app.media.schemas import FileOut


class MetaIn(RequestSchema):
    key: str = Field(min_length=1, max_length=255, description="Unique within the portfolio.")
    value_text: str | None = None
    value_file: Reference | None = Field(
        default=None, description="A media file id (or an object with that `id`)."
    )


class MetaPatch(RequestSchema):
    key: str = omittable(min_length=1, max_length=255)
    value_text: str | None = None
    value_file: Reference | None = Field(
        default=None, description="A media file id (or an object with that `id`)."
    )


class MetaOut(BaseModel):
    id: int
    key: str
    value_text: str | None
    value_file: FileOut | None


def meta_payload(row: Any, files: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "value_text": row.value_text,
        "value_file": files.get(row.value_file_id) if row.value_file_id else None,
    }
