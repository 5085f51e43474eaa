"""Employer (client) request bodies; the response shape is in `read_model`."""

from pydantic import Field

from app.common.schemas import Reference, RequestSchema, omittable


class EmployerIn(RequestSchema):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    image: Reference | None = Field(default=None, description="Id of an image media file.")


class EmployerPatch(RequestSchema):
    name: str = omittable(min_length=1, max_length=255)
    description: str | None = None
    image: Reference | None = Field(default=None, description="Id of an image media file.")
