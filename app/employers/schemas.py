"""Employer (client) bodies."""

from typing import Any

from pydantic import BaseModel, Field

from app.common.schemas import DateTimeOut, Reference, RequestSchema, omittable
from app.media.schemas import MediaFileOut


class EmployerIn(RequestSchema):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    image: Reference | None = Field(default=None, description="Id of an image media file.")


class EmployerPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    description: str | None = None
    image: Reference | None = Field(default=None, description="Id of an image media file.")


class EmployerData(BaseModel):
    """`employer_data` inside a portfolio."""

    id: int
    name: str
    image_data: MediaFileOut | None
    description: str | None


class EmployerOut(EmployerData):
    created_at: DateTimeOut
    updated_at: DateTimeOut


def employer_payload(row: Any, media: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "image_data": media.get(row.image_id) if row.image_id else None,
        "description": row.description,
    }
